# Source: 001_5b3abb5b50bcf082.txt lines 58-77
# Extraction fixes: the comment '# Input layer with 10 features' was wrapped onto two lines (65-66; the
#   second half 'layer with 10 features' would be a syntax error) -> rejoined; compile(...) args wrapped
#   over 72-73 and plot_model(...) args over 76-77 -> kept as is (valid Python continuation lines).
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
# import tensorflow as tf  (nnplay.keras needs no TensorFlow)
from nnplay.keras.models import Sequential
from nnplay.keras.layers import Dense
from nnplay.keras.utils import plot_model

# Define the model architecture
model = Sequential([
    Dense(64, activation='relu', input_shape=(10,)), # Input layer with 10 features
    Dense(32, activation='relu'), # Hidden layer
    Dense(1, activation='sigmoid') # Output layer
])

# Compile the model
model.compile(optimizer='adam', loss='binary_crossentropy',
metrics=['accuracy'])

# Visualize the model architecture and save the image
plot_model(model, to_file='simple_neural_network.png',
show_shapes=True, show_layer_names=True)
