"""A model as the exporters see it: its layers in call order, each with the variables it reads and writes.

A Sequential model is one chain on ``x``; a functional one gets a variable per tensor, named after the layer
that made it. Models with several inputs or outputs, or with a model inside, are refused here, for both
frameworks, with one line that says why.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import NnplayError
from ..layers.base import Layer
from ..layers.core import InputLayer
from ..layers.wrappers import Bidirectional
from ..models import Functional, Model, Sequential
from .code import identifier

FRAMEWORK_NAMES = {"keras": "Keras", "pytorch": "PyTorch"}


class ExportError(NnplayError):
    """Something in the model or the preset has no counterpart in the framework asked for."""


def refuse(to: str, what: str, why: str, fix: str = "") -> ExportError:
    """The one-line refusal: ``<what> cannot be exported to <framework>: <why>[; <fix>]``."""
    text = f"{what} cannot be exported to {FRAMEWORK_NAMES.get(to, to)}: {why}"
    return ExportError(text + (f"; {fix}" if fix else ""))


def describe(layer: Layer) -> str:
    return f"layer {layer.name!r} ({type(layer).__name__})"


@dataclass
class Step:
    """One layer call: ``output = layer(inputs)``."""

    layer: Layer
    inputs: list[str]                    #: variable names read
    output: str                          #: variable name written
    in_shapes: list[tuple]               #: one sample's shape per input
    out_shape: tuple
    attr: str = ""                       #: the layer's Python name (attribute / variable)
    first_call: bool = True              #: False for the second call of a shared layer


@dataclass
class Graph:
    name: str                            #: the model's name
    functional: bool
    input_var: str
    input_shape: tuple
    input_name: str                      #: the input layer's name (functional models)
    steps: list[Step]
    output_var: str
    layers: list[Layer] = field(default_factory=list)   #: every layer once, in Keras weight order

    @property
    def output_shape(self) -> tuple:
        return self.steps[-1].out_shape if self.steps else self.input_shape


_AUTO = re.compile(r"^(?P<base>.+?)(_\d+)?$")


def auto_named(layer: Layer) -> bool:
    """Whether the layer's name is the one Keras would give it (``dense``, ``dense_3``), not the user's."""
    m = _AUTO.match(layer.name)
    return bool(m) and m.group("base") == layer.base_name


def model_graph(model, to: str) -> Graph:
    """The :class:`Graph` of a built Sequential or functional model (refusing what no exporter writes)."""
    if not isinstance(model, Model):
        raise NnplayError(f"nnplay export takes an nnplay model, got {type(model).__name__}")
    if not model.built:
        model.build()
    for layer in model.layers:
        if isinstance(layer, Model):
            raise refuse(to, f"model {layer.name!r} inside model {model.name!r}", "a model used as a layer is not "
                         "written out", "rebuild it as one model with the inner model's layers")
    taken: set[str] = set()
    attrs = {id(layer): identifier(layer.name, taken) for layer in model.layers}
    if isinstance(model, Sequential):
        steps = [Step(layer, ["x"], "x", [tuple(layer.input_shape)], tuple(layer.output_shape), attrs[id(layer)])
                 for layer in model.layers]
        return Graph(model.name, False, "x", tuple(model._input_shape), "", steps, "x", list(model.layers))
    if not isinstance(model, Functional):
        raise refuse(to, f"model {model.name!r} ({type(model).__name__})", "only Sequential and functional models "
                     "are written out")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise refuse(to, f"model {model.name!r}", f"it has {len(model.inputs)} inputs and {len(model.outputs)} "
                     f"outputs, and the scripts train on one input and one target", "export a model with one "
                     "input and one output")
    names: dict[int, str] = {}                                   # id(tensor) -> variable
    inp = model.inputs[0]
    names[id(inp)] = attrs[id(inp.node.layer)]
    calls: dict[int, int] = {}
    var_taken = set(attrs.values())
    steps = []
    for node in model._nodes:
        layer = node.layer
        if isinstance(layer, InputLayer):
            continue
        n = calls.get(id(layer), 0)
        calls[id(layer)] = n + 1
        if len(node.outputs) != 1:
            raise refuse(to, describe(layer), "it has several outputs")
        out = attrs[id(layer)] if n == 0 else identifier(f"{attrs[id(layer)]}_call{n}", var_taken)
        names[id(node.outputs[0])] = out
        steps.append(Step(layer, [names[id(t)] for t in node.inputs], out, [tuple(t.shape) for t in node.inputs],
                          tuple(node.outputs[0].shape), attrs[id(layer)], n == 0))
    input_layer = inp.node.layer
    return Graph(model.name, True, names[id(inp)], tuple(inp.shape), input_layer.name, steps,
                 names[id(model.outputs[0])], [l for l in model.layers if not isinstance(l, InputLayer)])


# ------------------------------------------------------------------------------------------ weights
def weight_entries(layer: Layer, prefix: str = "") -> list[tuple[str, object]]:
    """``[(key, array)]`` of a top-level layer's weights in Keras order; keys name the layer and the weight:
    ``dense/kernel``, ``bidirectional/forward/kernel``, ``time_distributed/bias``."""
    out = []
    for owner, name in layer.all_weights():
        if isinstance(layer, Bidirectional):
            part = "forward" if owner is layer.forward_layer else "backward"
            key = f"{layer.name}/{part}/{name}"
        else:
            key = f"{layer.name}/{name}"
        out.append((prefix + key, owner.weight(name)))
    return out
