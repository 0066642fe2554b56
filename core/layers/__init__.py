"""nnplay layers, with Keras' names and arguments."""
from .base import LAYER_TYPES, Layer, layer_from_config
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, Reshape

__all__ = ["LAYER_TYPES", "Layer", "layer_from_config", "Activation", "Dense", "Dropout", "Flatten", "Input",
           "InputLayer", "Reshape"]
from .embedding import Embedding  # noqa: E402
from .recurrent import GRU, LSTM, SimpleRNN  # noqa: E402
from .wrappers import Bidirectional, TimeDistributed  # noqa: E402

__all__ += ["Embedding", "GRU", "LSTM", "SimpleRNN", "Bidirectional", "TimeDistributed"]
from .stochastic import GaussianDropout, GaussianNoise, Sampling  # noqa: E402

__all__ += ["GaussianDropout", "GaussianNoise", "Sampling"]
from .conv import Conv1D, Conv2D, Conv2DTranspose  # noqa: E402
from .normalization import BatchNormalization  # noqa: E402
from .pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,  # noqa: E402
                      GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D, UpSampling1D,
                      UpSampling2D)

__all__ += ["Conv1D", "Conv2D", "Conv2DTranspose", "BatchNormalization", "AveragePooling1D", "AveragePooling2D",
            "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
            "MaxPooling1D", "MaxPooling2D", "UpSampling1D", "UpSampling2D"]
from .merging import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract  # noqa: E402

__all__ += ["Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract"]
from .preprocessing import RandomContrast, RandomFlip, RandomRotation, RandomTranslation, RandomZoom  # noqa: E402

__all__ += ["RandomContrast", "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom"]
