# Source: 000_3dde3e88f4c20506.txt lines 184-206
# Extraction fixes: none (notebook cell 'In [5]:'; printed output omitted)
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

import numpy as np
from nnplay.keras.models import Sequential
from nnplay.keras.layers import Conv2D, MaxPooling2D, Flatten, Dense

# Example data
X_train = np.random.random((10000, 20, 20, 3))  # Assuming image-like data with 3 channels
y_train = np.random.randint(2, size=(10000, 10))

# Define input shape
input_shape = X_train.shape[1:]

# Create a Sequential model
model = Sequential()

# Add convolutional and pooling layers
model.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=input_shape))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(10, activation='softmax'))

# Compile and train the model
model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=10, batch_size=32)
