"""``keras.datasets.cifar10``: ``load_data()`` -> uint8 (50000, 32, 32, 3) colour images, labels (50000, 1)."""
from nnplay.core.datasets.keras_files import cifar10_load_data as load_data

__all__ = ["load_data"]
