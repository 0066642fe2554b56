"""``keras.initializers``."""
from nnplay.core.initializers import (Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Initializer,
                                      LecunNormal, LecunUniform, Ones, Orthogonal, RandomNormal, RandomUniform,
                                      TruncatedNormal, VarianceScaling, Zeros, get, serialize)

__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Initializer", "LecunNormal",
           "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "Zeros", "get", "serialize"]
