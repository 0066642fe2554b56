# Source: 001_5b3abb5b50bcf082.txt lines 109-133
# Extraction fixes: two end-of-line comments were wrapped onto their own line and would be syntax errors:
#   line 115-116 '# Number of classes in a classification' + 'problem' -> rejoined;
#   line 124-125 '# Output' + 'size specified' -> rejoined. Page-break line 121 (a lone space) dropped.
#   Wrapped call arguments (128-129, 132-133) kept as is (valid Python).
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.
from nnplay.keras.models import Sequential
from nnplay.keras.layers import Dense
from nnplay.keras.utils import plot_model

# Input shape and output size
input_shape = 10 # Number of input features
output_size = 5 # Example: Number of classes in a classification problem

# Creating a simple feedforward neural network
model = Sequential()

model.add(Dense(128, input_shape=(input_shape,), activation='relu')) # Input shape specified
model.add(Dense(64, activation='relu'))
model.add(Dense(output_size, activation='softmax')) # Output size specified

# Compiling the model
model.compile(optimizer='adam', loss='categorical_crossentropy',
metrics=['accuracy'])

# Visualizing the model architecture
plot_model(model, to_file='fnn_model.png', show_shapes=True,
show_layer_names=True)
