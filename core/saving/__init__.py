"""Model files of other programs: Keras 3's ``.keras`` format, written and read from nnplay's model configs.

:func:`write_keras_file` turns a model's ``get_config()``, ``get_weights()`` and compile settings into a
``.keras`` file that ``keras.saving.load_model`` opens; :func:`read_keras_file` reads one Keras 3 saved
back into the same pieces. ``Model.save("m.keras")`` and ``load_model("m.keras")`` call them.
"""
from .keras_file import KerasFile, read_keras_file, write_keras_file
from .keras_h5 import NEEDS_H5PY

__all__ = ["NEEDS_H5PY", "KerasFile", "read_keras_file", "write_keras_file"]
