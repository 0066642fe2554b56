"""``keras.layers``: every layer nnplay has, under Keras' names (the same classes as ``nnplay.core.layers``)."""
from nnplay.core.layers import *  # noqa: F401,F403
from nnplay.core.layers import __all__ as _core_all

__all__ = [name for name in _core_all if name not in ("LAYER_TYPES", "layer_from_config")]
