"""Models: the shared :class:`Model`, Keras' :class:`Sequential` and functional models (``Model(inputs,
outputs)``), saving and loading, and the model families nnplay builds for you (autoencoders, GANs)."""
from .cloning import clone_model
from .functional import Functional
from .model import Model
from .saving import load_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "Functional", "clone_model", "load_model"]
