# Source: 000_3dde3e88f4c20506.txt lines 140-144
# Extraction fixes: none (markdown fence removed); fragment: re-compiles the model of snippet 01
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

from nnplay.keras.optimizers import SGD

learning_rate = 0.01
sgd = SGD(learning_rate=learning_rate)
model.compile(loss='categorical_crossentropy', optimizer=sgd, metrics=['accuracy'])
