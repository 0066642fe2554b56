# Source: 000_3dde3e88f4c20506.txt lines 416-416
# Extraction fixes: none; fragment (file ends here, no closing fence); input_shape from snippet 11
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

model.add(LSTM(64, dropout=0.2, recurrent_dropout=0.2, input_shape=input_shape))
