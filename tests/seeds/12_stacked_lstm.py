# Source: 000_3dde3e88f4c20506.txt lines 408-409
# Extraction fixes: none; fragment: input_shape from snippet 11 ((10, 2))
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

model.add(LSTM(64, return_sequences=True, input_shape=input_shape))
model.add(LSTM(64))
