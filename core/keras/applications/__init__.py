"""``keras.applications``: VGG16 and VGG19, with Keras' layer names and weight layout.

nnplay never downloads. ``weights=None`` builds the architecture with fresh weights; ``weights="imagenet"``
loads Keras' own file when it is already where Keras keeps it (``~/.keras/models/``, or
``$KERAS_HOME/models/``), and otherwise says in one line which file to put there; a path loads that file.
"""
from . import vgg16, vgg19
from .vgg16 import VGG16
from .vgg19 import VGG19

__all__ = ["VGG16", "VGG19", "vgg16", "vgg19"]
