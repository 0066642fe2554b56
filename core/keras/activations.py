"""``keras.activations``: each activation as a function of an array (``keras.activations.relu(x)``), and
``get``."""
import numpy as np

from nnplay.core.activations import NAMES, get


def _function(name: str):
    act = get(name)

    def fn(x):
        x = np.asarray(x)
        x = x.astype(np.float32) if x.dtype.kind != "f" else x
        return act.forward(np.ascontiguousarray(x))

    fn.__name__ = name
    fn.__doc__ = f"Keras' ``{name}`` activation, applied to an array."
    return fn


for _name in NAMES:
    globals()[_name] = _function(_name)
silu = globals()["swish"]

__all__ = [*NAMES, "silu", "get"]
