# Source: 000_3dde3e88f4c20506.txt lines 236-239
# Extraction fixes: none (markdown fence removed); fragment: augments the data of snippet 05 (the CNN cell)
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

from nnplay.keras.preprocessing.image import ImageDataGenerator

datagen = ImageDataGenerator(rotation_range=20, width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True)
datagen.fit(X_train)
