# Source: 000_3dde3e88f4c20506.txt lines 317-320
# Extraction fixes: none; fragment: re-compiles the model of snippet 08
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

from nnplay.keras.optimizers import Adam

optimizer = Adam(clipvalue=0.5)
model.compile(loss='categorical_crossentropy', optimizer=optimizer, metrics=['accuracy'])
