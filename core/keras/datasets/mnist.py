"""``keras.datasets.mnist``: ``load_data(path="mnist.npz")`` -> uint8 (60000, 28, 28) images, labels."""
from nnplay.core.datasets.keras_files import mnist_load_data as load_data

__all__ = ["load_data"]
