"""``keras.datasets.fashion_mnist``: ``load_data()`` -> uint8 (60000, 28, 28) images of 10 kinds of clothing."""
from nnplay.core.datasets.keras_files import fashion_mnist_load_data as load_data

__all__ = ["load_data"]
