"""``keras.preprocessing``: ``sequence.pad_sequences`` and, as tutorials written for Keras 2 still import it,
``text`` (Tokenizer and friends; Keras 3 removed that module)."""
from . import sequence, text

__all__ = ["sequence", "text"]
