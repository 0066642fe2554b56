"""nnplay layers, with Keras' names and arguments."""
from .base import LAYER_TYPES, Layer, layer_from_config
from .core import Activation, Dense, Dropout, Flatten, Input, Reshape

__all__ = ["LAYER_TYPES", "Layer", "layer_from_config", "Activation", "Dense", "Dropout", "Flatten", "Input",
           "Reshape"]
