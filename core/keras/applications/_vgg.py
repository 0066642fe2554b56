"""The VGG family (Simonyan and Zisserman, 2014) as Keras builds it: blocks of 3x3 "same" convolutions and
2x2 max pooling, then (``include_top``) Flatten and three Dense layers, as a functional model.

What it costs on a CPU: VGG16 at 224x224 does about 15.5 billion multiply-adds per image forward (VGG19:
19.6); training the whole network triples that. Measured on 2 cores: about 0.7 s per image to train all of
VGG16 and 0.2 s with the base frozen (only its forward pass runs), so an epoch of 1,000 images takes about 11
minutes, or 3.5 frozen. The base has 14.7 million weights (about 240 MB with their gradients and Adam's two
slots); ``include_top=True`` makes it 138 million (2.2 GB). Smaller inputs (``input_shape`` down to
(32, 32, 3)) cost in proportion to their pixels.
"""
from __future__ import annotations

import os

import numpy as np

from nnplay.core.datasets.keras_files import keras_home
from nnplay.core.errors import NnplayError
from nnplay.core.layers import (Conv2D, Dense, Flatten, GlobalAveragePooling2D, GlobalMaxPooling2D, Input,
                                MaxPooling2D)
from nnplay.core.models import Model
from nnplay.core.saving.keras_legacy_h5 import read_legacy_weights

_IMAGENET_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)


def models_dir() -> str:
    """Where Keras keeps downloaded model weights: ``<keras home>/models`` (``~/.keras/models``)."""
    return os.path.join(os.path.expanduser(keras_home()), "models")


def _input_shape(input_shape, include_top: bool, weights, name: str) -> tuple:
    if input_shape is None:
        return (224, 224, 3)
    shape = tuple(input_shape)
    if len(shape) != 3 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape):
        raise NnplayError(f"{name}: input_shape must be (height, width, channels) of whole numbers, got "
                          f"input_shape={input_shape!r}")
    if include_top and weights == "imagenet" and shape != (224, 224, 3):
        raise NnplayError(f"{name}: with include_top=True and weights='imagenet', input_shape must be (224, 224, "
                          f"3), got {shape}; use include_top=False for other sizes")
    if weights == "imagenet" and shape[2] != 3:
        raise NnplayError(f"{name}: the ImageNet weights take 3 channels, got input_shape={shape}")
    if shape[0] < 32 or shape[1] < 32:
        raise NnplayError(f"{name}: input height and width must be at least 32, got input_shape={shape}")
    return shape


def build_vgg(blocks: tuple, name: str, file_stem: str, include_top=True, weights="imagenet", input_tensor=None,
              input_shape=None, pooling=None, classes=1000, classifier_activation="softmax", model_name=None):
    """A VGG with ``blocks`` (convolutions per block) as Keras' ``keras.applications`` builds it."""
    cls = name.upper()
    if not (weights in ("imagenet", None) or (isinstance(weights, (str, os.PathLike)) and os.path.isfile(weights))):
        raise NnplayError(f"{cls}: weights must be None (random initialization), 'imagenet' (Keras' file, already "
                          f"in {models_dir()}) or the path of a weights file, got weights={weights!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise NnplayError(f"{cls}: with weights='imagenet' and include_top=True, classes must be 1000, got "
                          f"classes={classes}")
    if pooling not in (None, "avg", "max"):
        raise NnplayError(f"{cls}: pooling must be None, 'avg' or 'max', got pooling={pooling!r}")
    if input_tensor is not None:
        inputs = input_tensor
        shape = tuple(input_tensor.shape)
    else:
        shape = _input_shape(input_shape, include_top, weights, cls)
        inputs = Input(shape=shape)
    x = inputs
    for b, (convs, filters) in enumerate(zip(blocks, (64, 128, 256, 512, 512)), start=1):
        for c in range(1, convs + 1):
            x = Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{b}_conv{c}")(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{b}_pool")(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = GlobalMaxPooling2D()(x)
    model = Model(inputs, x, name=model_name or name)
    if weights is not None:
        if weights == "imagenet":
            fname = f"{file_stem}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
            path = os.path.join(models_dir(), fname)
            if not os.path.isfile(path):
                raise NnplayError(f"{cls}: the ImageNet weights are not in {path}, and nnplay never downloads; put "
                                  f"Keras' {fname} there (Keras fetches it on its first {cls}(weights='imagenet')), "
                                  f"or use weights=None")
        else:
            path = os.fspath(weights)
        load_weights(model, path)
    return model


def load_weights(model, path) -> None:
    """Load Keras' legacy ``.h5`` weights into ``model``, layer by layer in order (Keras' topological order)."""
    layers = [layer for layer in model.layers if layer.all_weights()]
    expected = [[tuple(o.weight(n).shape) for o, n in layer.all_weights()] for layer in layers]
    arrays = read_legacy_weights(path, expected, what=f"{model.name} weights")
    for layer, values in zip(layers, arrays):
        for (owner, n), value in zip(layer.all_weights(), values):
            owner.weight(n)[...] = value


def preprocess_input(x, data_format=None):
    """Keras' "caffe" preprocessing: RGB to BGR, then each channel minus its ImageNet mean (0..255 input)."""
    if data_format not in (None, "channels_last"):
        raise NnplayError(f"preprocess_input: nnplay is channels-last only, got data_format={data_format!r}")
    x = np.asarray(x, dtype=np.float32 if np.asarray(x).dtype.kind != "f" else None)
    return x[..., ::-1] - _IMAGENET_MEAN_BGR.astype(x.dtype)


def decode_predictions(preds, top=5):
    """``[(class id, name, score), ...]`` per sample, from Keras' ``imagenet_class_index.json`` when it is in
    the models folder (nnplay never downloads it)."""
    import json

    path = os.path.join(models_dir(), "imagenet_class_index.json")
    if not os.path.isfile(path):
        raise NnplayError(f"decode_predictions: {path} is missing, and nnplay never downloads; put Keras' "
                          f"imagenet_class_index.json there")
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise NnplayError(f"decode_predictions expects a batch of 1000 ImageNet scores, shape (n, 1000); got "
                          f"{preds.shape}")
    out = []
    for row in preds:
        best = np.argsort(row)[::-1][:top]
        out.append([(*index[str(i)], float(row[i])) for i in best])
    return out
