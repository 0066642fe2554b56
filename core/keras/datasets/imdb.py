"""``keras.datasets.imdb``: ``load_data(num_words=..., maxlen=..., ...)`` -> reviews as lists of word indices,
and ``get_word_index()`` -> the word -> index dict."""
from nnplay.core.datasets.keras_files import imdb_get_word_index as get_word_index
from nnplay.core.datasets.keras_files import imdb_load_data as load_data

__all__ = ["get_word_index", "load_data"]
