# Source: 000_3dde3e88f4c20506.txt lines 245-248
# Extraction fixes: none (markdown fence removed); fragment: the text stops at "Add your custom layers on top"
# Imports changed from tensorflow.keras / keras to nnplay.keras; nothing else differs from the seed.

from nnplay.keras.applications import VGG16

base_model = VGG16(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
# Add your custom layers on top of the base model
