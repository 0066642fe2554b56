"""Whole-model configs, nnplay <-> Keras 3: Sequential and functional models, nested ones included.

A Keras Sequential starts with an ``InputLayer`` entry (nnplay keeps the shape as ``input_shape``). A
functional model's layers carry ``name`` and ``inbound_nodes`` (each call's arguments, tensors written as
``__keras_tensor__`` with ``keras_history = [layer, call, output]``); nnplay's config holds the same
triples. Two spellings differ: Keras counts a nested functional model's own node, so in
``output_layers`` a tensor it produces has call index + 1; and dict-shaped inputs or outputs become lists
in key order (Keras' flattening order).
"""
from __future__ import annotations

import heapq
import warnings

from ..errors import NnplayError
from .keras_config import (
    KERAS_MODELS,
    check_writable,
    input_layer_from_keras,
    input_layer_to_keras,
    layer_class,
    layer_from_keras,
    layer_to_keras,
)
from .keras_graph import ModelGraph
from .keras_objects import keras_object, policy_to_keras, short, unpack

_FUNCTIONAL_MODULE = "keras.src.models.functional"


# ------------------------------------------------------------------------------------------ nnplay -> Keras
def check_model_writable(cfg: dict) -> None:
    """Refuse, before anything is written, a model with a layer Keras does not have."""
    for lc in cfg.get("layers", []):
        if lc.get("type") in ("sequential", "functional"):
            check_model_writable(lc)
        else:
            check_writable(lc)


def model_to_keras(graph: ModelGraph) -> dict:
    """The Keras serialized model (what ``config.json`` holds, without ``compile_config``)."""
    cfg, dtype = graph.cfg, graph.dtype
    if graph.kind == "sequential":
        shape = list(graph.input_shapes[0])
        layers = [input_layer_to_keras(_free_name("input_layer", graph.names), shape, dtype)]
        for name in graph.names:
            layers.append(_entry(graph, name))
        config = {"name": cfg.get("name", "sequential"), "trainable": True, "dtype": policy_to_keras(dtype),
                  "layers": layers, "build_input_shape": [None, *shape]}
        entry = keras_object("keras", "Sequential", config)
        entry["build_config"] = {"input_shape": [None, *shape]}
        return entry
    layers = []
    for name in graph.keras_order():
        lc = graph.configs[name]
        if graph.class_name(name) == "InputLayer":
            entry = input_layer_to_keras(name, graph.outputs[(name, 0)][0], dtype)
            nodes = []
        else:
            entry = _entry(graph, name)
            nodes = [{"args": _args(graph, node), "kwargs": {}} for node in lc.get("inbound_nodes", [])]
        entry["name"] = name
        entry["inbound_nodes"] = nodes
        layers.append(entry)
    ins = [list(r) for r in graph.inputs]
    outs = [[n, k + (graph.class_name(n) == "Functional"), t] for n, k, t in graph.output_refs]
    config = {"name": cfg.get("name", "functional"), "trainable": True, "layers": layers,
              "input_layers": ins[0] if len(ins) == 1 else ins,
              "output_layers": outs[0] if len(outs) == 1 and cfg.get("structure") != "list" else outs}
    entry = keras_object(_FUNCTIONAL_MODULE, "Functional", config)
    entry["registered_name"] = "Functional"
    return entry


def _entry(graph: ModelGraph, name: str) -> dict:
    sub = graph.layers[name]
    if isinstance(sub, ModelGraph):
        return model_to_keras(sub)
    entry = layer_to_keras(graph.configs[name], graph.dtype)
    in_shape = graph.in_shape[name]
    entry["build_config"] = {"input_shape": [[None, *s] for s in in_shape] if isinstance(in_shape, list)
                             else [None, *in_shape]}
    return entry


def _args(graph: ModelGraph, node: dict) -> list:
    tensors = [{"class_name": "__keras_tensor__",
                "config": {"shape": [None, *graph._tensor(ref)], "dtype": graph.dtype, "keras_history": list(ref)}}
               for ref in node["args"]]
    return [tensors] if node.get("structure") == "list" else tensors


def _free_name(base: str, taken) -> str:
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


# ------------------------------------------------------------------------------------------ Keras -> nnplay
def model_from_keras(entry, what: str = "the model") -> dict:
    """Keras' serialized Sequential or functional model -> nnplay's model config."""
    cls, config = unpack(entry, what)
    if not isinstance(config, dict):
        raise NnplayError(f"{what} ({cls}) has config {short(config)}, expected a dict")
    if cls == "Sequential":
        cfg = _sequential_from_keras(config, what)
    elif cls in ("Functional", "Model") and "layers" in config and "output_layers" in config:
        cfg = _functional_from_keras(config, what)
    else:
        raise NnplayError(f"{what} is a Keras {cls}; nnplay reads Sequential and functional models (a subclassed "
                          f"model needs its Python code)")
    if config.get("trainable") is False:
        _freeze(cfg)
    return cfg


def _name(config: dict, default: str, what: str) -> str:
    name = config.get("name", default)
    if not isinstance(name, str) or not name:
        raise NnplayError(f"{what} has name {short(name)}, expected a string")
    return name


def _sequential_from_keras(config: dict, what: str) -> dict:
    name = _name(config, "sequential", what)
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise NnplayError(f"model {name!r} has no list of layers")
    layers, dtypes, shape = [], [], None
    for i, entry in enumerate(entries):
        where = f"layer {i} of model {name!r}"
        cls, lconfig = layer_class(entry, where)
        if cls == "InputLayer":
            if i:
                raise NnplayError(f"{where} is an InputLayer; it can only come first in a Sequential model")
            shape, _ = input_layer_from_keras(lconfig, where)
        elif cls in KERAS_MODELS:
            sub = model_from_keras(entry, where)
            layers.append(sub)
            dtypes.append(sub["dtype"])
        else:
            lc, dtype = layer_from_keras(entry, where)
            layers.append(lc)
            dtypes.append(dtype)
    if shape is None:
        built = config.get("build_input_shape")
        if built is None and isinstance(entries, list) and isinstance(config.get("build_config"), dict):
            built = config["build_config"].get("input_shape")
        if not isinstance(built, list) or len(built) < 2:
            raise NnplayError(f"model {name!r} was saved before it was built, so the file has no input shape and "
                              f"no weights; build the model (or give it an Input) in Keras and save it again")
        shape = built[1:]
    cfg = {"type": "sequential", "name": name, "dtype": _model_dtype(dtypes), "layers": layers,
           "input_shape": list(shape)}
    _unique_names(cfg)
    return cfg


def _functional_from_keras(config: dict, what: str) -> dict:
    name = _name(config, "functional", what)
    entries = config.get("layers")
    if not isinstance(entries, list) or not entries:
        raise NnplayError(f"model {name!r} has no list of layers")
    layers, input_dtypes, classes = [], [], {}
    for i, entry in enumerate(entries):
        where = f"layer {i} of model {name!r}"
        cls, lconfig = layer_class(entry, where)
        lname = entry.get("name", lconfig.get("name"))
        if not isinstance(lname, str) or not lname:
            raise NnplayError(f"{where} has no name")
        where = f"layer {lname!r} of model {name!r}"
        if lname in classes:
            raise NnplayError(f"two layers of model {name!r} are named {lname!r}; layer names must be unique")
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise NnplayError(f"{where} has inbound_nodes {short(nodes)}, expected a list")
        if cls == "InputLayer":
            shape, dtype = input_layer_from_keras(lconfig, where)
            lc = {"type": "input_layer", "name": lname, "shape": shape}
            input_dtypes.append(dtype)
        elif cls in KERAS_MODELS:
            lc = model_from_keras(entry, where)
        else:
            lc = layer_from_keras(entry, where)[0]
        lc["name"] = lname
        if cls != "InputLayer":
            lc["inbound_nodes"] = [_node_from_keras(node, f"a call of {where}") for node in nodes]
        elif nodes:
            raise NnplayError(f"{where} is an InputLayer but is called on other tensors")
        classes[lname] = cls
        layers.append(lc)
    ins, _ = _io_from_keras(config.get("input_layers"), classes, f"the inputs of model {name!r}")
    outs, structure = _io_from_keras(config.get("output_layers"), classes, f"the outputs of model {name!r}")
    dtype = "float64" if input_dtypes and all(d == "float64" for d in input_dtypes) else "float32"
    for lc in layers:
        if lc["type"] == "input_layer" and dtype == "float64":
            lc["dtype"] = "float64"
    cfg = {"type": "functional", "name": name, "dtype": dtype, "layers": _dependency_order(layers),
           "input_layers": ins, "output_layers": outs, "structure": structure}
    return cfg


def _node_from_keras(node, what: str) -> dict:
    """One call: ``{"args": [[layer, call, output], ...], "structure": "one" | "list"}``."""
    if isinstance(node, list):                      # Keras 2: [[name, call, output, kwargs], ...]
        refs = [_triple(t[:3] if isinstance(t, list) else t, what) for t in node]
        return {"args": refs, "structure": "one" if len(refs) == 1 else "list"}
    if not isinstance(node, dict) or not isinstance(node.get("args"), list):
        raise NnplayError(f"{what} is {short(node)}, expected {{'args': [...], 'kwargs': {{...}}}}")
    kwargs = node.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise NnplayError(f"{what} has kwargs {short(kwargs)}, expected a dict")
    for key, value in kwargs.items():
        if key == "training" and value is False:
            warnings.warn(f"{what} was called with training=False; nnplay runs it like every layer (inference "
                          f"mode in predict, training mode in fit)", UserWarning, stacklevel=2)
        elif value is not None:
            raise NnplayError(f"{what} passes {key}={short(value)}; nnplay layers take only their inputs")
    args = node["args"]
    if len(args) == 1 and isinstance(args[0], list):
        return {"args": [_tensor_ref(t, what) for t in args[0]], "structure": "list"}
    if len(args) == 1:
        return {"args": [_tensor_ref(args[0], what)], "structure": "one"}
    raise NnplayError(f"{what} passes {len(args)} positional arguments; nnplay layers take one input (or one list)")


def _tensor_ref(value, what: str) -> list:
    if not isinstance(value, dict) or value.get("class_name") != "__keras_tensor__" \
            or not isinstance(value.get("config"), dict):
        raise NnplayError(f"{what} takes {short(value)}, expected a Keras tensor")
    return _triple(value["config"].get("keras_history"), what)


def _triple(value, what: str) -> list:
    if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value[1:])):
        raise NnplayError(f"{what} refers to {short(value)}, expected [layer name, call index, output index]")
    return list(value)


def _io_from_keras(value, classes: dict, what: str) -> tuple[list, str]:
    """``input_layers``/``output_layers`` -> (list of triples, "one" | "list")."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        refs, structure = [value], "one"
    elif isinstance(value, dict) and value:
        refs, structure = [value[k] for k in sorted(value)], "list"
    elif isinstance(value, list) and value:
        refs, structure = value, "list"
    else:
        raise NnplayError(f"{what} are {short(value)}, expected [layer name, call index, output index] triples")
    out = []
    for ref in refs:
        ref = _triple(ref, what)
        if ref[0] not in classes:
            raise NnplayError(f"{what} refer to a layer {ref[0]!r} the model does not have")
        if classes[ref[0]] in ("Functional", "Model"):
            if ref[1] == 0:
                raise NnplayError(f"{what} refer to call 0 of the nested model {ref[0]!r}, its own graph; "
                                  f"expected a call inside this model")
            ref[1] -= 1                             # Keras counts the nested model's own node first
        out.append(ref)
    return out, structure


def _dependency_order(layers: list) -> list:
    """Layers after every layer whose output they take (so nnplay replays a shared layer's calls in
    order); the file's order where there is a choice, or where calls form a loop."""
    index = {lc["name"]: i for i, lc in enumerate(layers)}
    needs = {lc["name"]: {r[0] for n in lc.get("inbound_nodes", []) for r in n["args"] if r[0] in index}
             - {lc["name"]} for lc in layers}
    users: dict = {n: [] for n in index}
    for n, deps in needs.items():
        for d in deps:
            users[d].append(n)
    waiting = {n: len(deps) for n, deps in needs.items()}
    ready = [(index[n], n) for n, k in waiting.items() if k == 0]
    heapq.heapify(ready)
    placed, out, scan = set(), [], 0
    while len(out) < len(layers):
        if not ready:                               # a loop between layers: take the next in the file
            while layers[scan]["name"] in placed:
                scan += 1
            heapq.heappush(ready, (scan, layers[scan]["name"]))
        _, n = heapq.heappop(ready)
        if n in placed:
            continue
        placed.add(n)
        out.append(layers[index[n]])
        for m in users[n]:
            waiting[m] -= 1
            if waiting[m] == 0:
                heapq.heappush(ready, (index[m], m))
    return out


def _model_dtype(dtypes: list) -> str:
    known = [d for d in dtypes if d]
    return "float64" if known and all(d == "float64" for d in known) else "float32"


def _unique_names(cfg: dict) -> None:
    """Name unnamed layers of a Sequential config as nnplay would, so names are unique."""
    taken = {lc.get("name") for lc in cfg["layers"] if lc.get("name")}
    for lc in cfg["layers"]:
        if not lc.get("name"):
            lc["name"] = _free_name(lc["type"], taken)
            taken.add(lc["name"])


def _freeze(cfg: dict) -> None:
    """A frozen Keras model freezes every layer inside it, as nnplay's ``model.trainable = False`` does."""
    for lc in cfg["layers"]:
        if lc.get("type") in ("sequential", "functional"):
            _freeze(lc)
        elif lc.get("type") != "input_layer":
            lc["trainable"] = False

