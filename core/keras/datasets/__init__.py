"""``keras.datasets``: Keras' datasets, read from the files Keras keeps in ``~/.keras/datasets`` (or
``$KERAS_HOME/datasets``). nnplay never downloads and never unpickles: a missing file raises one error that
says where to put it, where Keras downloads it from, and which built-in nnplay dataset is similar."""
from . import boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist

__all__ = ["boston_housing", "cifar10", "cifar100", "fashion_mnist", "imdb", "mnist"]
