"""``keras.optimizers`` (and ``keras.optimizers.schedules``): nnplay's optimizers, with Keras 3's names,
defaults and update rules."""
from nnplay.core.optimizers import (SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, Optimizer, RMSprop, get,
                                    serialize)
from nnplay.core.optimizers import from_config as deserialize

from . import schedules

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Nadam", "Optimizer", "RMSprop", "get", "serialize",
           "deserialize", "schedules"]
