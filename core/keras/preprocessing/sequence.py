"""``keras.preprocessing.sequence``."""
from nnplay.core.datasets.encoding import pad_sequences

__all__ = ["pad_sequences"]
