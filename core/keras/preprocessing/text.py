"""``keras.preprocessing.text`` as Keras 2 had it (Keras 3 removed it; tutorials still use it)."""
from nnplay.core.datasets.text_tools import Tokenizer, one_hot, text_to_word_sequence, tokenizer_from_json

__all__ = ["Tokenizer", "one_hot", "text_to_word_sequence", "tokenizer_from_json"]
