# Source: 003_7a8371fd9e2cd680.txt lines 339-371
# Extraction fixes: none (code is unfenced prose-flow text in the seed; line 338 heading and 372+ table omitted)
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

import numpy as np
# import tensorflow as tf  (nnplay.keras needs no TensorFlow)
from nnplay.keras.models import Sequential
from nnplay.keras.layers import SimpleRNN, Dense, Embedding
from nnplay.keras.preprocessing.sequence import pad_sequences
from nnplay.keras.datasets import imdb

# Load dataset (IMDB Movie Reviews)
max_features = 10000
maxlen = 100

(X_train, y_train), (X_test, y_test) = imdb.load_data(num_words=max_features)

# Pad sequences to ensure equal length
X_train = pad_sequences(X_train, maxlen=maxlen)
X_test = pad_sequences(X_test, maxlen=maxlen)

# Build RNN model
model = Sequential([
    Embedding(input_dim=max_features, output_dim=32),
    SimpleRNN(64, return_sequences=False),
    Dense(1, activation='sigmoid')
])

# Compile model
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

# Train model
model.fit(X_train, y_train, epochs=5, batch_size=32, validation_data=(X_test, y_test))

# Evaluate model
test_loss, test_acc = model.evaluate(X_test, y_test)
print(f"Test Accuracy: {test_acc:.4f}")
