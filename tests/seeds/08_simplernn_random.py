# Source: 000_3dde3e88f4c20506.txt lines 268-290
# Extraction fixes: none (notebook cell 'In [8]:'; output omitted)
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

import numpy as np
from nnplay.keras.models import Sequential
from nnplay.keras.layers import SimpleRNN, Dense

# Example data
X_train = np.random.random((10000, 20, 1))  # Assuming sequence data with one feature
y_train = np.random.randint(2, size=(10000, 1))

# Define input shape
input_shape = X_train.shape[1:]

# Create a Sequential model
model = Sequential()

# Add an RNN layer
model.add(SimpleRNN(64, input_shape=input_shape))

# Add a Dense output layer
model.add(Dense(1, activation='sigmoid'))  # Use 'sigmoid' for binary classification

# Compile and train the model
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=10, batch_size=32)
