# Source: 000_3dde3e88f4c20506.txt lines 45-69
# Extraction fixes: none (notebook cell 'In [3]:'; printed output at lines 72-129 omitted)
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

import numpy as np
from nnplay.keras.models import Sequential
from nnplay.keras.layers import Dense

# Example data
X_train = np.random.random((10000, 20))
y_train = np.random.randint(2, size=(10000, 1))

# Define input and output dimensions
input_dim = X_train.shape[1]
output_dim = 1  # Change this based on your problem

# Create a Sequential model
model = Sequential()

# Add layers to the model
model.add(Dense(units=64, activation='relu', input_dim=input_dim))
model.add(Dense(units=32, activation='relu'))
model.add(Dense(units=output_dim, activation='softmax'))

# Compile the model
model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])

# Train the model
model.fit(X_train, y_train, epochs=50, batch_size=32)
