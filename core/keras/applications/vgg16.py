"""``keras.applications.vgg16``: VGG16 (13 convolutions in 5 blocks), ``preprocess_input``, ``decode_predictions``."""
from ._vgg import build_vgg, decode_predictions, preprocess_input

__all__ = ["VGG16", "preprocess_input", "decode_predictions"]


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    """Keras' VGG16 (same layer names and weight layout). nnplay needs a fixed input size: without
    ``input_shape`` it is (224, 224, 3). See :mod:`._vgg` for what it costs to train on a CPU."""
    return build_vgg((2, 2, 3, 3, 3), "vgg16", "vgg16", include_top, weights, input_tensor, input_shape, pooling,
                     classes, classifier_activation, name)
