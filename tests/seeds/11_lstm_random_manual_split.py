# Source: 000_3dde3e88f4c20506.txt lines 346-382
# Extraction fixes: none (notebook cell 'In [11]:'; output omitted)
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

from nnplay.keras.layers import LSTM
from nnplay.keras.models import Sequential
from nnplay.keras.layers import Dense
import numpy as np

# Create dummy sequential data
# Assuming each sequence has 10 time steps and 2 features
num_samples = 1000
time_steps = 10
num_features = 2

X_train = np.random.random((num_samples, time_steps, num_features))
y_train = np.random.randint(2, size=(num_samples, 1))

# Splitting the data into training and validation sets
split_ratio = 0.8
split_index = int(num_samples * split_ratio)

X_train, X_val = X_train[:split_index], X_train[split_index:]
y_train, y_val = y_train[:split_index], y_train[split_index:]

# Define input shape
input_shape = (time_steps, num_features)

# Create a Sequential model
model = Sequential()

# Add an LSTM layer
model.add(LSTM(64, input_shape=input_shape))

# Add a Dense output layer
output_dim = 1  # Change this based on your problem
model.add(Dense(output_dim, activation='sigmoid'))  # Use 'sigmoid' for binary classification

# Compile and train the model
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=10, batch_size=32)
