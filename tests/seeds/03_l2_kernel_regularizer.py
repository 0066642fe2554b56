# Source: 000_3dde3e88f4c20506.txt lines 151-153
# Extraction fixes: none; fragment: a model.add() into the model of snippet 01
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

from nnplay.keras.regularizers import l2

model.add(Dense(units=64, activation='relu', input_dim=input_dim, kernel_regularizer=l2(0.01)))
