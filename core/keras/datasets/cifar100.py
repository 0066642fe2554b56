"""``keras.datasets.cifar100``: ``load_data(label_mode="fine")`` -> uint8 (50000, 32, 32, 3), labels (50000, 1)."""
from nnplay.core.datasets.keras_files import cifar100_load_data as load_data

__all__ = ["load_data"]
