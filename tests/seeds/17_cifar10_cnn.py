# Source: 001_5b3abb5b50bcf082.txt lines 236-251 (block 1) and 257-324 (block 2)
# Extraction fixes: 'from tensorflow.keras.layers import Conv2D, MaxPooling2D,' / 'Flatten, Dense' (239-240)
#   is a syntax error as wrapped (no parentheses) -> rejoined; class_names list wrapped (246-247) kept
#   (valid inside brackets); input_shape=(32,\n32, 3) (260-261) kept (valid); 'Validation\nAccuracy'
#   string (285-286) -> rejoined; f-string in plt.title broken over 313-315 (an f'...' literal cannot
#   span lines) -> rejoined as f'Predicted: {...} \n Actual: {...}' (the repeated block at lines 334-354
#   shows the intended text 'Predicted:\n{...} \n Actual:\n{...}'); page-break line 308 dropped.
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
# import tensorflow as tf  (nnplay.keras needs no TensorFlow)
from nnplay.keras.datasets import cifar10
from nnplay.keras.models import Sequential
from nnplay.keras.layers import Conv2D, MaxPooling2D, Flatten, Dense
import matplotlib.pyplot as plt
import numpy as np

# Load CIFAR-10 dataset
(X_train, y_train), (X_test, y_test) = cifar10.load_data()
class_names = ['airplane', 'automobile', 'bird', 'cat', 'deer',
'dog', 'frog', 'horse', 'ship', 'truck']

# Normalize pixel values between 0 and 1
X_train = X_train / 255.0
X_test = X_test / 255.0

# Build CNN model
model = Sequential()

model.add(Conv2D(32, (3, 3), activation='relu', input_shape=(32,
32, 3)))
model.add(MaxPooling2D((2, 2)))

model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D((2, 2)))

model.add(Conv2D(64, (3, 3), activation='relu'))

model.add(Flatten())
model.add(Dense(64, activation='relu'))
model.add(Dense(10, activation='softmax'))

model.compile(optimizer='adam',
loss='sparse_categorical_crossentropy', metrics=['accuracy'])

# Train the model
history = model.fit(X_train, y_train, epochs=10,
validation_data=(X_test, y_test))

# Plot training and validation accuracy and loss
plt.figure(figsize=(12, 4))

plt.subplot(1, 2, 1)
plt.plot(history.history['accuracy'], label='Training Accuracy')
plt.plot(history.history['val_accuracy'], label='Validation Accuracy')
plt.xlabel('Epochs')
plt.ylabel('Accuracy')
plt.title('Training and Validation Accuracy')
plt.legend()

plt.subplot(1, 2, 2)
plt.plot(history.history['loss'], label='Training Loss')
plt.plot(history.history['val_loss'], label='Validation Loss')
plt.xlabel('Epochs')
plt.ylabel('Loss')
plt.title('Training and Validation Loss')

plt.legend()

plt.tight_layout()
plt.show()

# Visualize some predictions
predictions = model.predict(X_test)
num_images = 5

plt.figure(figsize=(15, 3))
for i in range(num_images):
    plt.subplot(1, num_images, i+1)
    plt.imshow(X_test[i])
    plt.title(f'Predicted: {class_names[np.argmax(predictions[i])]} \n Actual: {class_names[y_test[i][0]]}')
    plt.axis('off')

plt.tight_layout()
plt.show()

# Visualize the CNN architecture
from nnplay.keras.utils import plot_model
plot_model(model, to_file='cnn_model.png', show_shapes=True,
show_layer_names=True)
