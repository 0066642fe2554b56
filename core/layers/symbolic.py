"""The functional API's bookkeeping: symbolic tensors and the nodes that connect layers.

``x = Input(shape=(4,))`` is a :class:`SymbolicTensor` (a shape, no values). Calling a layer on symbolic
tensors builds the layer for their shapes and records a :class:`Node`: which layer ran, on which tensors,
and which tensors came out. A functional model is the graph of nodes between its inputs and outputs, as in
Keras, where a layer called twice has two nodes (and one set of weights).
"""
from __future__ import annotations

from typing import Any

import numpy as np


class SymbolicTensor:
    """A placeholder for a batch of data: one sample's ``shape`` (no batch axis) and the node that makes it.

    ``keras_history`` is ``(layer, node_index, tensor_index)``, as Keras names a tensor's origin.
    """

    __slots__ = ("shape", "dtype", "node", "index", "name")

    def __init__(self, shape: tuple, dtype="float32", node: "Node | None" = None, index: int = 0, name: str = ""):
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.node = node
        self.index = index
        self.name = name

    @property
    def keras_history(self) -> tuple:
        layer = self.node.layer
        return layer, layer._inbound_nodes.index(self.node), self.index

    @property
    def ndim(self) -> int:
        return len(self.shape) + 1

    def __repr__(self) -> str:
        shape = "(" + ", ".join(["None", *(str(s) for s in self.shape)]) + ")"
        origin = f", from {self.node.layer.name!r}" if self.node is not None else ""
        return f"<SymbolicTensor shape={shape}, dtype={self.dtype.name}{origin}>"

    def __array__(self, *args, **kwargs):
        from ..errors import NnplayError

        raise NnplayError("a symbolic tensor (from Input(...) or a layer called on one) has no values; build a "
                          "Model(inputs, outputs) and call model.predict(data) instead")


class Node:
    """One call of ``layer`` on symbolic ``inputs`` that gave ``outputs``.

    ``structure`` remembers how the inputs were passed ("one" tensor or a "list"), so the layer gets them
    back the same way when the graph runs.
    """

    __slots__ = ("layer", "inputs", "outputs", "structure")

    def __init__(self, layer, inputs: list[SymbolicTensor], structure: str):
        self.layer = layer
        self.inputs = list(inputs)
        self.structure = structure
        self.outputs: list[SymbolicTensor] = []

    @property
    def parents(self) -> list["Node"]:
        return [t.node for t in self.inputs]

    def input_shapes(self):
        """What ``layer.build`` takes: one shape, or a list of shapes for a layer called on a list."""
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if self.structure == "one" else shapes

    def arrange(self, values: list) -> Any:
        """The node's input values in the structure the layer was called with."""
        return values[0] if self.structure == "one" else list(values)


def flatten(x) -> tuple[list, str]:
    """(the symbolic tensors in ``x``, "one" or "list"); ``x`` is a tensor or a list/tuple of them."""
    if isinstance(x, SymbolicTensor):
        return [x], "one"
    if isinstance(x, (list, tuple)) and x and all(isinstance(t, SymbolicTensor) for t in x):
        return list(x), "list"
    return [], "none"


def is_symbolic(x) -> bool:
    return flatten(x)[1] != "none"
