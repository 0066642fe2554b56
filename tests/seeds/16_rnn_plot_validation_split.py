# Source: 001_5b3abb5b50bcf082.txt lines 159-163 (block 1) and 168-195 (block 2)
# Extraction fixes: string literal 'Validation\nAccuracy' broken across lines 181-182 (unterminated string,
#   syntax error) -> rejoined to 'Validation Accuracy'. Page-break line 178 dropped. Wrapped call
#   arguments (161-162, 168-169, 172-173) kept as is.
# NOT RUNNABLE AS WRITTEN: Sequential, SimpleRNN, Dense, plot_model, plt are never imported in this
#   seed section, and seq_length, X, y are never defined anywhere in the seed.
# Build RNN model
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
model = Sequential()
model.add(SimpleRNN(units=10, input_shape=(seq_length, 1),
activation='relu'))
model.add(Dense(units=1, activation='sigmoid'))

plot_model(model, to_file='rnn_model_plot.png', show_shapes=True,
show_layer_names=True)

# Train the RNN
history = model.fit(X, y, epochs=50, batch_size=32,
validation_split=0.2)

# Plotting accuracy and loss during training
plt.figure(figsize=(10, 4))

plt.subplot(1, 2, 1)
plt.plot(history.history['accuracy'], label='Training Accuracy')
plt.plot(history.history['val_accuracy'], label='Validation Accuracy')
plt.xlabel('Epoch')
plt.ylabel('Accuracy')
plt.legend()

plt.subplot(1, 2, 2)
plt.plot(history.history['loss'], label='Training Loss')
plt.plot(history.history['val_loss'], label='Validation Loss')
plt.xlabel('Epoch')
plt.ylabel('Loss')
plt.legend()

plt.tight_layout()
plt.show()
