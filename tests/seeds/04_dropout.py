# Source: 000_3dde3e88f4c20506.txt lines 161-164
# Extraction fixes: none; fragment: model.add() into the model of snippet 01
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

from nnplay.keras.layers import Dropout

model.add(Dense(units=64, activation='relu', input_dim=input_dim))
model.add(Dropout(0.2))
