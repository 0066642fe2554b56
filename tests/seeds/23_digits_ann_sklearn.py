# Source: 003_7a8371fd9e2cd680.txt lines 92-128
# Extraction fixes: none (code fence opened at line 91 is never closed; lines 129-131 blank)
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

# import tensorflow as tf  (nnplay.keras needs no TensorFlow)
from nnplay import keras
from nnplay.keras.models import Sequential
from nnplay.keras.layers import Dense
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

# Load dataset
digits = load_digits()
X = digits.data
y = digits.target

# Preprocess data
scaler = StandardScaler()
X_scaled = scaler.fit_transform(X)
y_categorical = keras.utils.to_categorical(y, num_classes=10)

# Split data
X_train, X_test, y_train, y_test = train_test_split(X_scaled, y_categorical, test_size=0.2, random_state=42)

# Build ANN model
model = Sequential([
    Dense(64, activation='relu', input_shape=(64,)),
    Dense(32, activation='relu'),
    Dense(10, activation='softmax')
])

# Compile model
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])

# Train model
model.fit(X_train, y_train, epochs=20, batch_size=32, validation_data=(X_test, y_test))

# Evaluate model
test_loss, test_acc = model.evaluate(X_test, y_test)
print(f"Test Accuracy: {test_acc:.4f}")
