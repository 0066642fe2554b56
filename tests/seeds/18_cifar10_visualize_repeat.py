# Source: 001_5b3abb5b50bcf082.txt lines 335-353 ("Visual Representation" - a repeat of the tail of
#   snippet 17; uses model, X_test, y_test, class_names, plt, np from snippet 17)
# Extraction fixes: page-break line 339 dropped; plot_model args wrapped (352-353) kept.
# Visualize some predictions
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
predictions = model.predict(X_test)
num_images = 5

plt.figure(figsize=(15, 3))
for i in range(num_images):
    plt.subplot(1, num_images, i+1)
    plt.imshow(X_test[i])
    plt.title(f'Predicted:\n{class_names[np.argmax(predictions[i])]} \n Actual:\n{class_names[y_test[i][0]]}')
    plt.axis('off')

plt.tight_layout()
plt.show()

# Visualize the CNN architecture
from nnplay.keras.utils import plot_model
plot_model(model, to_file='cnn_model.png', show_shapes=True,
show_layer_names=True)
