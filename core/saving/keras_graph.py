"""The shape of a model config: every call's input and output shapes, the order Keras lists the layers in,
and where each weight lives in a ``.keras`` file's HDF5.

:class:`ModelGraph` works on nnplay's model config (``Sequential``/functional ``get_config()``), without
building the model: layers are made from their configs only to ask their output shapes, and weight shapes
come from the table in :func:`weight_groups`, so a file's config can be checked before any array is read.

Keras stores a layer's variables by position under ``layers/<snake_case(class)>[_k]/vars/<i>``, numbered
in the order its ``model.layers`` has *after loading*. For a functional model Keras recomputes that order
from the graph (ops/function.py ``map_graph``: a depth-first walk from the outputs, then layers sorted by
depth, deepest first, ties by first visit). :meth:`ModelGraph.keras_order` follows the same rule, so the
groups of a file nnplay writes land on the right layers, and a file Keras wrote is read the way Keras
reads it.
"""
from __future__ import annotations

from typing import NamedTuple

from ..errors import NnplayError
from ..layers.base import layer_from_config
from ..layers.conv import Conv1D, Conv2D, Conv2DTranspose
from ..layers.core import Dense
from ..layers.embedding import Embedding
from ..layers.normalization import BatchNormalization
from ..layers.recurrent import GRU, _Recurrent
from ..layers.wrappers import Bidirectional, TimeDistributed
from .keras_config import keras_class
from .keras_objects import keras_snake_case, short

_MODELS = ("sequential", "functional")


class Slot(NamedTuple):
    """One weight: its dataset ``<group>/vars/<var>`` in the h5, shape, whether the optimizer updates it, and
    where nnplay keeps it (``owner``: layer names from the top model down; ``index`` in that layer's
    ``get_weights()``)."""

    group: str
    var: int
    shape: tuple
    trainable: bool
    owner: tuple
    index: int


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def weight_groups(layer, input_shape) -> list[tuple[str, list[tuple[tuple, bool]]]]:
    """Where Keras keeps the weights of an nnplay layer (not a model) built for ``input_shape``:
    ``[(sub-group, [(shape, trainable), ...]), ...]`` in nnplay's ``get_weights()`` order, which is Keras'
    variable order. RNN weights sit in the ``cell`` group, wrappers nest their layers' groups."""
    if isinstance(layer, Bidirectional):
        return [(_join(side, sub), ws) for side, inner in (("forward_layer", layer.forward_layer),
                                                           ("backward_layer", layer.backward_layer))
                for sub, ws in weight_groups(inner, input_shape)]
    if isinstance(layer, TimeDistributed):
        return [(_join("layer", sub), ws) for sub, ws in weight_groups(layer.layer, tuple(input_shape[1:]))]
    if isinstance(layer, _Recurrent):
        u, g = layer.units, layer.n_gates * layer.units
        ws = [((input_shape[-1], g), True), ((u, g), True)]
        if layer.use_bias:
            ws.append(((2, g) if isinstance(layer, GRU) and layer.reset_after else (g,), True))
        return [("cell", ws)]
    if isinstance(layer, BatchNormalization):
        c = (input_shape[-1],)
        ws = [(c, True)] * (layer.scale + layer.center) + [(c, False), (c, False)]
        return [("", ws)]
    if isinstance(layer, Conv1D):
        kernel = (layer.kernel_size[0], input_shape[-1], layer.filters)
    elif isinstance(layer, Conv2DTranspose):
        kernel = (*layer.kernel_size, layer.filters, input_shape[-1])
    elif isinstance(layer, Conv2D):
        kernel = (*layer.kernel_size, input_shape[-1], layer.filters)
    elif isinstance(layer, Dense):
        kernel = (input_shape[-1], layer.units)
    elif isinstance(layer, Embedding):
        return [("", [((layer.input_dim, layer.output_dim), True)])]
    else:
        return []
    bias = [((kernel[-1] if not isinstance(layer, Conv2DTranspose) else layer.filters,), True)] \
        if layer.use_bias else []
    return [("", [(kernel, True), *bias])]


class ModelGraph:
    """A model config with the shapes of every call worked out (nnplay's config form, not Keras').

    Args:
        cfg: ``model.get_config()`` of a Sequential or functional model (nested models inside).
        input_shape: for a nested Sequential whose config lacks ``input_shape``: the shape it is called on.
    """

    def __init__(self, cfg: dict, input_shape=None):
        if not isinstance(cfg, dict) or cfg.get("type") not in _MODELS:
            raise NnplayError(f"expected a Sequential or functional model config, got {short(cfg)}")
        self.cfg = cfg
        self.kind = cfg["type"]
        self.dtype = str(cfg.get("dtype") or "float32")
        layers = cfg.get("layers")
        if not isinstance(layers, list):
            raise NnplayError(f"model {cfg.get('name')!r} has no list of layers")
        self.configs: dict[str, dict] = {}
        for i, lc in enumerate(layers):
            if not isinstance(lc, dict) or not isinstance(lc.get("name"), str):
                raise NnplayError(f"layer {i} of model {cfg.get('name')!r} has no name: {short(lc)}")
            if lc["name"] in self.configs:
                raise NnplayError(f"two layers of model {cfg.get('name')!r} are named {lc['name']!r}")
            self.configs[lc["name"]] = lc
        self.names = list(self.configs)
        self.layers: dict = {}         # name -> nnplay layer (made from its config) or ModelGraph
        self.in_shape: dict = {}       # name -> the input shape of its first call
        self.outputs: dict = {}        # (name, node) -> list of output shapes
        if self.kind == "sequential":
            self._chain(input_shape)
        else:
            self._graph()

    # ------------------------------------------------------------------ building the shapes
    def _call(self, name: str, in_shape):
        """Output shapes of one call of layer ``name`` on ``in_shape`` (a shape or a list of shapes)."""
        cfg = self.configs[name]
        if name not in self.in_shape:
            self.in_shape[name] = in_shape
            if cfg.get("type") in _MODELS:
                self.layers[name] = ModelGraph(cfg, in_shape)
            else:
                self.layers[name] = _make(cfg)
        layer = self.layers[name]
        if isinstance(layer, ModelGraph):
            return layer.output_shapes
        try:
            return [tuple(int(v) for v in layer.compute_output_shape(in_shape))]
        except NnplayError:
            raise
        except Exception as exc:
            raise NnplayError(f"layer {name!r} ({keras_class(cfg)}) cannot take input {short(in_shape)}: "
                              f"{type(exc).__name__}") from None

    def _chain(self, input_shape) -> None:
        shape = self.cfg.get("input_shape", input_shape)
        if shape is None:
            raise NnplayError(f"model {self.cfg.get('name')!r} does not know its input shape")
        shape = _shape(shape, f"the input shape of model {self.cfg.get('name')!r}")
        self.input_shapes = [shape]
        for name in self.names:
            shape = self._call(name, shape)
            if len(shape) != 1:
                raise NnplayError(f"layer {name!r} has {len(shape)} outputs; a Sequential layer needs one")
            shape = shape[0]
            self.outputs[(name, 0)] = [shape]
        self.output_shapes = [shape]
        self.order = list(self.names)

    def _graph(self) -> None:
        name = self.cfg.get("name")
        self.inputs = [self._ref(r, "input_layers") for r in _refs(self.cfg.get("input_layers"), name)]
        self.output_refs = [self._ref(r, "output_layers") for r in _refs(self.cfg.get("output_layers"), name)]
        for ref in self.inputs:
            cfg = self.configs[ref[0]]
            if cfg.get("type") not in ("input_layer", "input") or ref[1] != 0 or ref[2] != 0:
                raise NnplayError(f"model {name!r}: input {ref[0]!r} is not an InputLayer")
        self.input_shapes = []
        for n in self.names:
            cfg = self.configs[n]
            if cfg.get("type") in ("input_layer", "input"):
                shape = _shape(cfg.get("shape"), f"the shape of input {n!r}")
                self.outputs[(n, 0)] = [shape]
                self.layers[n] = None
        self.input_shapes = [self.outputs[(r[0], 0)][0] for r in self.inputs]
        visited = self._walk()
        for node in visited:                  # parents come before the nodes that use them
            n, k = node
            if self.layers.get(n, 0) is None:  # an InputLayer
                continue
            args = self._node(n, k)["args"]
            shapes = [self._tensor(r) for r in args]
            self.outputs[node] = self._call(n, shapes[0] if self._node(n, k).get("structure") != "list" else shapes)
        self.output_shapes = [self._tensor(r) for r in self.output_refs]
        for n in self.names:
            if n not in self.layers:
                raise NnplayError(f"model {name!r}: layer {n!r} does not lead to any output")

    def _ref(self, ref, where: str) -> tuple:
        if not (isinstance(ref, (list, tuple)) and len(ref) == 3 and isinstance(ref[0], str)
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ref[1:])):
            raise NnplayError(f"model {self.cfg.get('name')!r}: {where} holds {short(ref)}, expected "
                              f"[layer name, node index, tensor index]")
        if ref[0] not in self.configs:
            raise NnplayError(f"model {self.cfg.get('name')!r}: {where} refers to a layer {ref[0]!r} it does not have")
        return tuple(ref)

    def _node(self, name: str, k: int) -> dict:
        nodes = self.configs[name].get("inbound_nodes")
        if not isinstance(nodes, list) or not 0 <= k < len(nodes) or not isinstance(nodes[k], dict) \
                or not isinstance(nodes[k].get("args"), list) or not nodes[k]["args"]:
            raise NnplayError(f"model {self.cfg.get('name')!r}: call {k} of layer {name!r} is missing or has no "
                              f"inputs")
        return nodes[k]

    def _parents(self, node: tuple) -> list[tuple]:
        name, k = node
        if self.configs[name].get("type") in ("input_layer", "input"):
            return []
        return [self._ref(r, f"a call of {name!r}")[:2] for r in self._node(name, k)["args"]]

    def _tensor(self, ref) -> tuple:
        outs = self.outputs.get(tuple(ref[:2]))
        if outs is None or ref[2] >= len(outs):
            raise NnplayError(f"model {self.cfg.get('name')!r}: no tensor {list(ref)}")
        return outs[ref[2]]

    def _walk(self) -> list[tuple]:
        """Keras' ``_build_map``: nodes in a depth-first post-order from the outputs (each after its inputs),
        and each layer's first visit number. Iterative, so deep graphs cannot overflow the stack."""
        done, active, order = set(), set(), []
        self._first_visit: dict[str, int] = {}
        for ref in self.output_refs:
            start = ref[:2]
            if start in done:
                continue
            self._enter(start, active)
            stack = [(start, iter(self._parents(start)))]
            while stack:
                node, parents = stack[-1]
                parent = next(parents, None)
                if parent is None:
                    stack.pop()
                    active.discard(node)
                    done.add(node)
                    order.append(node)
                elif parent in active:
                    raise NnplayError(f"model {self.cfg.get('name')!r}: layer {parent[0]!r} feeds itself (a cycle)")
                elif parent not in done:
                    self._enter(parent, active)
                    stack.append((parent, iter(self._parents(parent))))
        self._visited = order
        return order

    def _enter(self, node: tuple, active: set) -> None:
        active.add(node)
        self._first_visit.setdefault(node[0], len(self._first_visit))

    # ------------------------------------------------------------------ Keras' layer order and groups
    def keras_order(self) -> list[str]:
        """The layer names in the order Keras' reloaded ``model.layers`` has (InputLayers included for a
        functional model; a Sequential's config never holds one)."""
        if self.kind == "sequential":
            return list(self.names)
        in_graph = set(self._visited)
        node_depth: dict = {}
        layer_depth: dict = {}
        for node in reversed(self._visited):
            depth = max(node_depth.setdefault(node, 0), layer_depth.get(node[0], 0))
            layer_depth[node[0]] = node_depth[node] = depth
            for parent in self._parents(node):
                if parent in in_graph:
                    node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
        index = dict(self._first_visit)
        for ref in self.inputs:              # inputs no output depends on
            if ref[0] not in layer_depth:
                layer_depth[ref[0]] = 0
                index[ref[0]] = -1
        by_depth: dict = {}
        for n, d in layer_depth.items():
            by_depth.setdefault(d, []).append(n)
        return [n for d in sorted(by_depth, reverse=True) for n in sorted(by_depth[d], key=lambda m: index[m])]

    def class_name(self, name: str) -> str:
        cfg = self.configs[name]
        return "InputLayer" if cfg.get("type") in ("input_layer", "input") else keras_class(cfg)

    def groups(self) -> list[tuple[str, str]]:
        """``(layer name, h5 group)`` in Keras' order: ``dense``, ``dense_1``, ... by class, not by name."""
        used: dict[str, int] = {}
        out = []
        for name in self.keras_order():
            base = keras_snake_case(self.class_name(name))
            used[base] = used.get(base, -1) + 1
            out.append((name, base if used[base] == 0 else f"{base}_{used[base]}"))
        return out

    def slots(self, prefix: str = "", owner: tuple = (), trainable: bool = True) -> list[Slot]:
        """Every weight of the model in Keras' variable order (the order of ``model.weights`` after loading,
        which the optimizer's variables follow)."""
        out: list[Slot] = []
        for name, group in self.groups():
            cfg, layer = self.configs[name], self.layers.get(name)
            path = f"{prefix}layers/{group}"
            on = trainable and cfg.get("trainable", True) is not False
            if isinstance(layer, ModelGraph):
                out += layer.slots(path + "/", (*owner, name), on)
                continue
            if layer is None:
                continue
            index = 0
            for sub, weights in weight_groups(layer, self.in_shape[name]):
                for var, (shape, kind) in enumerate(weights):
                    out.append(Slot(_join(path, sub), var, tuple(int(v) for v in shape), on and kind,
                                    (*owner, name), index))
                    index += 1
        return out

    # ------------------------------------------------------------------ weights by layer
    def split(self, weights: list) -> dict:
        """A flat ``get_weights()`` list (layers in config order) -> ``{layer name: [arrays] or {nested}}``."""
        counts = {}
        for slot in self.slots():
            counts[slot.owner] = counts.get(slot.owner, 0) + 1
        out, rest = self._split(list(weights), counts, ())
        if rest:
            raise NnplayError(f"the model has {len(weights)} weight arrays but its config describes "
                              f"{len(weights) - len(rest)}")
        return out

    def _split(self, weights: list, counts: dict, owner: tuple) -> tuple[dict, list]:
        out: dict = {}
        for name in self.names:
            layer = self.layers.get(name)
            if isinstance(layer, ModelGraph):
                out[name], weights = layer._split(weights, counts, (*owner, name))
            else:
                n = counts.get((*owner, name), 0)
                if n > len(weights):
                    raise NnplayError(f"the model's weights run out at layer {name!r}")
                out[name], weights = weights[:n], weights[n:]
        return out, weights

    def blank(self) -> dict:
        """The structure :meth:`split` returns with None for every weight, to fill."""
        tree = self._empty()
        for slot in self.slots():
            lookup(tree, slot.owner).append(None)
        return tree

    def _empty(self) -> dict:
        return {n: l._empty() if isinstance(l, ModelGraph) else [] for n, l in self.layers.items()}


def lookup(tree: dict, owner: tuple):
    """The weight list of the layer at ``owner`` in a :meth:`ModelGraph.split` structure."""
    for name in owner:
        tree = tree[name]
    return tree


def _make(cfg: dict):
    lc = {k: v for k, v in cfg.items() if k != "inbound_nodes"}
    try:
        return layer_from_config(lc)
    except NnplayError:
        raise
    except Exception as exc:          # e.g. a missing argument: one line, not a traceback
        raise NnplayError(f"layer {cfg.get('name')!r} ({cfg.get('type')}): {type(exc).__name__}: "
                          f"{short(str(exc), 120)}") from None


def _shape(value, what: str) -> tuple:
    if not isinstance(value, (list, tuple)) or not value or \
            not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise NnplayError(f"{what} must be a list of positive sizes, got {short(value)}")
    return tuple(value)


def _refs(value, model_name) -> list:
    """``[name, node, tensor]`` or a list of them -> a list of triples."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value]
    if isinstance(value, list) and value:
        return value
    raise NnplayError(f"model {model_name!r} has no inputs or outputs listed, got {short(value)}")
