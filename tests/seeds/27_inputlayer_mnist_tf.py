# Source: 004_9e0b4473755709bf.txt lines 621-622, 627-636, 641-643, 649, 655-656 (five ```python blocks,
#   steps 1-5 of "Creating a Neural Network in TensorFlow (Keras)")
# Extraction fixes: none (markdown fences and the step headings between them removed).
# NOT RUNNABLE AS WRITTEN: X_train, y_train, X_test, y_test are never defined ("Assume X_train and y_train
#   are your data"); the comment says "Example for MNIST data". Note Dense on a (28, 28) input is applied
#   to the last axis only (no Flatten), so the output is (None, 28, 10) - see INVENTORY.md.
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
# import tensorflow as tf  (nnplay.keras needs no TensorFlow)
from nnplay.keras import layers, models

model = models.Sequential()

# Input layer
model.add(layers.InputLayer(input_shape=(28, 28)))  # Example for MNIST data

# Hidden layer (Dense)
model.add(layers.Dense(128, activation='relu'))

# Output layer
model.add(layers.Dense(10, activation='softmax'))  # 10 classes for classification

model.compile(optimizer='adam',
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])

# Assume X_train and y_train are your data and labels
model.fit(X_train, y_train, epochs=10, batch_size=32)

# Assume X_test and y_test are the test data and labels
test_loss, test_accuracy = model.evaluate(X_test, y_test)
print(f"Test Accuracy: {test_accuracy}")
