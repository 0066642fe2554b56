"""``keras.datasets.boston_housing``: ``load_data(test_split=0.2, seed=113)`` -> 13 features, median value."""
from nnplay.core.datasets.keras_files import boston_housing_load_data as load_data

__all__ = ["load_data"]
