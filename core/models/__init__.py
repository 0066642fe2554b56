"""Models: the shared :class:`Model`, Keras' :class:`Sequential`, saving and loading, and the model families
nnplay builds for you (autoencoders, GANs)."""
from .cloning import clone_model
from .model import Model
from .saving import load_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "clone_model", "load_model"]
