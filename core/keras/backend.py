"""``keras.backend``: the few calls tutorials make. nnplay computes in float32 (float64 for gradient checks),
channels-last."""
from nnplay.core.models.model import reset_model_names


def clear_session() -> None:
    """Start numbering unnamed models afresh (``sequential``, ``functional``), as Keras' clear_session does."""
    reset_model_names()


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    return 1e-7


def image_data_format() -> str:
    return "channels_last"


__all__ = ["clear_session", "floatx", "epsilon", "image_data_format"]
