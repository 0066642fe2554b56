"""``nnplay.keras``: the Keras 3 API on nnplay's engine, so tutorial code runs with only its imports changed::

    from nnplay import keras                      # instead of: import keras / from tensorflow import keras
    from nnplay.keras.layers import Dense         # instead of: from tensorflow.keras.layers import Dense

It is the same engine as ``nnplay.core``, not a copy: ``keras.layers.Dense is nnplay.core.layers.Dense``.
Where nnplay differs from Keras, the README says so ("Where nnplay differs from Keras").
"""
from nnplay.core.layers import Input, InputLayer, Layer
from nnplay.core.losses import Loss
from nnplay.core.metrics import Metric
from nnplay.core.models import Model, Sequential
from nnplay.core.optimizers import Optimizer
from nnplay.core.regularizers import Regularizer

from . import (activations, applications, backend, callbacks, datasets, initializers, layers, losses, metrics,
               models, optimizers, preprocessing, regularizers, saving, utils)

__version__ = "3.15.1"   #: the Keras version whose API and semantics this namespace follows

__all__ = ["Input", "InputLayer", "Layer", "Loss", "Metric", "Model", "Sequential", "Optimizer", "Regularizer",
           "activations", "applications", "backend", "callbacks", "datasets", "initializers", "layers", "losses",
           "metrics", "models", "optimizers", "preprocessing", "regularizers", "saving", "utils"]
