# Source: 001_5b3abb5b50bcf082.txt lines 512-560
# Extraction fixes: list comprehension wrapped (520-521) kept (valid inside brackets);
#   '# Reshape for LSTM' / 'input' (532-533): wrapped comment -> rejoined (as extracted, the bare word
#   'input' is a no-op expression statement, so it was not a syntax error, but it is clearly damage);
#   page-break lines 544-545 dropped; wrapped call args (547-548, 559-560) kept.
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
import numpy as np
import matplotlib.pyplot as plt
from nnplay.keras.models import Sequential
from nnplay.keras.layers import LSTM, Dense
from nnplay.keras.utils import plot_model

# Generate some sample sequential data (sine wave)
def generate_sequence(length, period):
    return [np.sin(2 * np.pi * i / period) for i in
range(length)]

# Generate input and output sequences for LSTM
def generate_data(n_samples=1000, n_time_steps=20):
    data = []
    for _ in range(n_samples):
        period = np.random.randint(10, 20)
        sequence = generate_sequence(n_time_steps + 1, period)
        data.append(sequence)
    data = np.array(data)
    X, y = data[:, :-1], data[:, -1]
    X = X.reshape(X.shape[0], X.shape[1], 1) # Reshape for LSTM input
    return X, y
# Create LSTM model
model = Sequential()
model.add(LSTM(50, activation='relu', input_shape=(20, 1)))
model.add(Dense(1))
model.compile(optimizer='adam', loss='mse')

# Generate data
X, y = generate_data()

# Train LSTM model
history = model.fit(X, y, epochs=50, batch_size=32,
validation_split=0.2)

# Plot training loss and validation loss
plt.plot(history.history['loss'], label='Training Loss')
plt.plot(history.history['val_loss'], label='Validation Loss')
plt.xlabel('Epochs')
plt.ylabel('Loss')
plt.legend()
plt.show()

# Visualize LSTM model architecture
plot_model(model, to_file='lstm_model.png', show_shapes=True,
show_layer_names=True)
