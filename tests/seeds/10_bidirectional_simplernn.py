# Source: 000_3dde3e88f4c20506.txt lines 327-329
# Extraction fixes: none; fragment: model.add() with input_shape of snippet 08 ((20, 1))
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

from nnplay.keras.layers import Bidirectional, SimpleRNN

model.add(Bidirectional(SimpleRNN(64), input_shape=input_shape))
