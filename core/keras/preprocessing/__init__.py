"""``keras.preprocessing``: ``sequence.pad_sequences`` and, as tutorials written for Keras 2 still import them,
``image.ImageDataGenerator`` (Keras 3 keeps it only in ``tf.keras``) and ``text`` (Tokenizer and friends;
Keras 3 removed that module)."""
from . import image, sequence, text

__all__ = ["image", "sequence", "text"]
