"""Functional models: ``Model(inputs, outputs)`` over the graph that calling layers on ``Input(...)`` drew.

    inputs = Input(shape=(784,))
    code = Dense(32, activation="relu")(inputs)
    outputs = Dense(784, activation="sigmoid")(code)
    autoencoder = Model(inputs, outputs)
    encoder = Model(inputs, code)            # the same layers: it shares the autoencoder's weights

The graph runs node by node in dependency order. Backward runs them in reverse, summing the gradients of a
tensor that feeds several layers. A layer called more than once (a shared layer) keeps one set of weights:
its gradient is the sum over its calls, each call's state is kept apart in training, and it is penalized
once. Several inputs and outputs, merge layers and models called as layers work as in Keras.
"""
from __future__ import annotations

import copy

import numpy as np

from ..errors import NnplayError
from ..layers.base import LAYER_TYPES, Layer, layer_from_config
from ..layers.core import Dropout, InputLayer
from ..layers.symbolic import Node, SymbolicTensor
from .model import Model, sublayers
from .sequential import claim_name


def _tensors(value, what: str) -> tuple[list[SymbolicTensor], str]:
    if isinstance(value, SymbolicTensor):
        return [value], "one"
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)) and value and all(isinstance(t, SymbolicTensor) for t in value):
        return list(value), "list"
    raise NnplayError(f"Model({what}=...) takes the tensors of the functional API (from Input(...) and layer "
                      f"calls), one or a list; got {type(value).__name__}")


class Functional(Model):
    """A model over a graph of layers between ``inputs`` and ``outputs`` (Keras' functional ``Model``)."""

    def __init__(self, inputs, outputs, name: str | None = None, *, trainable: bool = True, seed: int | None = None,
                 dtype=None):
        ins, self._in_structure = _tensors(inputs, "inputs")
        outs, self._out_structure = _tensors(outputs, "outputs")
        super().__init__(name=name, seed=seed, dtype=dtype or ins[0].dtype, trainable=trainable)
        for t in ins:
            if not isinstance(t.node.layer, InputLayer):
                raise NnplayError(f"Model inputs must come from Input(...); {t!r} is the output of a layer. Start a "
                                  f"new Input(shape={t.shape}) for the sub-model instead")
        self._inputs, self._outputs = ins, outs
        self._nodes = self._walk()
        self.layers = []
        for node in [t.node for t in ins] + self._nodes:
            if node.layer not in self.layers:
                self.layers.append(node.layer)
        taken: list[Layer] = []
        for layer in self.layers:
            claim_name(layer, taken)
            taken.append(layer)
        self._input_shape = ins[0].shape if len(ins) == 1 else None
        self.output_count = len(outs)
        self.input_shape = ins[0].shape if len(ins) == 1 else [t.shape for t in ins]
        self.output_shape = outs[0].shape if len(outs) == 1 else [t.shape for t in outs]
        self.rng = None
        self._shared = {id(n.layer) for n in self._nodes if sum(m.layer is n.layer for m in self._nodes) > 1}
        self.built = all(layer.built for layer in self.layers)
        if self.built:
            self._streams()

    # ------------------------------------------------------------------ the graph
    def _walk(self) -> list[Node]:
        """Every node between the inputs and the outputs, each after the nodes it depends on."""
        inputs = {id(t) for t in self._inputs}
        order: list[Node] = []
        state: dict[int, int] = {}       # node id -> 1 visiting, 2 done

        def visit(tensor: SymbolicTensor, consumer: str) -> None:
            if id(tensor) in inputs:
                return
            node = tensor.node
            if isinstance(node.layer, InputLayer):
                raise NnplayError(f"graph disconnected: {consumer} needs the input {node.layer.name!r} "
                                  f"(shape {tensor.shape}), which is not among the model's inputs; add it to "
                                  f"Model(inputs=[...])")
            if state.get(id(node)) == 2:
                return
            state[id(node)] = 1
            for t in node.inputs:
                visit(t, f"layer {node.layer.name!r}")
            state[id(node)] = 2
            order.append(node)

        for t in self._outputs:
            visit(t, "an output")
        return order

    @property
    def inputs(self) -> list[SymbolicTensor]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[SymbolicTensor]:
        return list(self._outputs)

    @property
    def input_shapes(self) -> list[tuple]:
        return [t.shape for t in self._inputs]

    @property
    def input_names(self) -> list[str]:
        return [t.node.layer.name for t in self._inputs]

    def _output_layers(self) -> list:
        return [t.node.layer for t in self._outputs]

    def node_index(self, node: Node) -> int:
        return node.layer._inbound_nodes.index(node)

    def _dense_chain(self) -> list:
        """The layers in order when the graph is one chain (the one-kernel step takes it if all are Dense)."""
        return [n.layer for n in self._nodes] if self.is_chain() else []

    def is_chain(self) -> bool:
        """True when the layers run one after the other (one input and output, no branches, no sharing)."""
        if len(self._inputs) != 1 or len(self._outputs) != 1 or self._shared:
            return False
        prev = self._inputs[0]
        for node in self._nodes:
            if len(node.inputs) != 1 or node.inputs[0] is not prev or len(node.outputs) != 1:
                return False
            prev = node.outputs[0]
        return True

    # ------------------------------------------------------------------ build
    def build(self, input_shape=None, rng=None, dtype=None) -> None:
        """Build every layer not built yet (a model rebuilt from its config), in graph order."""
        if dtype is not None:
            self.model_dtype = np.dtype(dtype)
        init_rng = self._streams()
        if rng is not None:
            init_rng = rng
        for node in self._nodes:
            layer = node.layer
            if not layer.built:
                layer.build(node.input_shapes(), self._dropout_rng if isinstance(layer, Dropout) else init_rng,
                            self.model_dtype)
        self.built = True

    def compute_output_shape(self, input_shape):
        return self.output_shape

    # ------------------------------------------------------------------ passes
    def forward(self, x, training=False):
        xs = x if isinstance(x, list) else [x]
        values = {id(t): v for t, v in zip(self._inputs, xs)}
        keep = training and bool(self._shared)
        saved = {} if keep else None
        activity = 0.0
        for node in self._nodes:
            layer = node.layer
            out = layer.forward(node.arrange([values[id(t)] for t in node.inputs]), training)
            if keep and id(layer) in self._shared:
                saved[id(node)] = _snapshot(layer)
            activity += float(layer.cache.get("activity_penalty", 0.0)) \
                if getattr(layer, "activity_regularizer", None) is not None else 0.0
            outs = out if layer.output_count > 1 else [out]
            for t, v in zip(node.outputs, outs):
                values[id(t)] = v
        self.cache = {"saved": saved, "activity": activity}
        result = [values[id(t)] for t in self._outputs]
        return result if self.output_count > 1 else result[0]

    def _activity_total(self) -> float:
        return float(self.cache.get("activity", 0.0))

    def _plan_backward(self):
        """Tensors whose gradient someone needs: those downstream of a layer with weights to train."""
        needs: set[int] = set()
        for node in self._nodes:
            if node.layer.trainable_weights() or any(id(t) in needs for t in node.inputs):
                needs.update(id(t) for t in node.outputs)
        return needs

    def _train_backward(self, grad) -> None:
        self._backprop(grad, False, self._backward_plan)

    def backward(self, grad_out, need_grad_x=True):
        plan = self._backward_plan if getattr(self, "_ready", False) else self._plan_backward()
        return self._backprop(grad_out, need_grad_x, plan)

    def _backprop(self, grad_out, need_grad_x: bool, needs: set[int]):
        grads_out = grad_out if self.output_count > 1 else [grad_out]
        grads: dict[int, np.ndarray] = {}
        for t, g in zip(self._outputs, grads_out):
            grads[id(t)] = g if id(t) not in grads else grads[id(t)] + g
        saved = self.cache.get("saved") or {}
        seen: dict[int, dict] = {}
        for node in reversed(self._nodes):
            layer = node.layer
            gs = [grads.pop(id(t), None) for t in node.outputs]
            if all(g is None for g in gs):
                continue                        # nothing downstream of this call reached a loss
            gs = [np.zeros((_batch(grads_out), *t.shape), t.dtype) if g is None else g
                  for g, t in zip(gs, node.outputs)]
            need_x = need_grad_x or any(id(t) in needs for t in node.inputs)
            if not need_x and not layer.trainable_weights():
                continue
            if id(node) in saved:
                _restore(saved[id(node)])
            gx = layer.backward(gs if layer.output_count > 1 else gs[0], need_x)
            if id(layer) in self._shared:      # a shared layer's weight gradient sums over its calls
                slots = layer.param_weights()
                if id(layer) in seen:
                    for (owner, key), acc in zip(slots, seen[id(layer)]):
                        owner.grads[key] += acc
                seen[id(layer)] = [owner.grads[key].copy() for owner, key in slots]
            if not need_x or gx is None:
                continue
            gx = gx if node.structure == "list" else [gx]
            for t, g in zip(node.inputs, gx):
                if g is not None:
                    grads[id(t)] = grads[id(t)] + g if id(t) in grads else g
        if not need_grad_x:
            return None
        result = [grads.get(id(t)) for t in self._inputs]
        return result if len(result) > 1 else result[0]

    # ------------------------------------------------------------------ views
    def activations(self, x, training: bool = False) -> list[dict]:
        """Every layer call's output for a few samples, in graph order (with gates and states where a layer
        has them): ``{"name", "type", "output", **layer.extras()}`` each."""
        x, _ = self.check_data(x, what="x")
        xs = x if isinstance(x, list) else [x]
        values = {id(t): v for t, v in zip(self._inputs, xs)}
        result = []
        for node in self._nodes:
            layer = node.layer
            out = layer.forward(node.arrange([values[id(t)] for t in node.inputs]), training)
            outs = out if layer.output_count > 1 else [out]
            for t, v in zip(node.outputs, outs):
                values[id(t)] = v
            result.append({"name": layer.name, "type": type(layer).__name__, "output": outs[0].copy(),
                           **layer.extras()})
        return result

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict:
        """Layers with the calls that feed them (``inbound_nodes``: ``[layer, node, tensor]`` triples, as
        Keras writes them) and the model's input and output tensors."""
        layers = []
        for layer in self.layers:
            cfg = layer.get_config()
            nodes = []
            for node in layer._inbound_nodes:
                if node in self._nodes:
                    nodes.append({"args": [self._ref(t) for t in node.inputs], "structure": node.structure})
            cfg["inbound_nodes"] = nodes
            layers.append(cfg)
        return {"type": "functional", "name": self.name, "dtype": str(self.model_dtype), "seed": self.seed,
                "layers": layers, "input_layers": [self._ref(t) for t in self._inputs],
                "output_layers": [self._ref(t) for t in self._outputs], "structure": self._out_structure}

    def _ref(self, t: SymbolicTensor) -> list:
        """``[layer name, node index within this model, tensor index]``."""
        layer = t.node.layer
        mine = [n for n in layer._inbound_nodes if n in self._nodes or isinstance(layer, InputLayer)]
        return [layer.name, mine.index(t.node) if t.node in mine else 0, t.index]

    @classmethod
    def from_config(cls, cfg: dict) -> "Functional":
        """Rebuild the graph: make each layer, then replay its calls once its inputs exist (a layer's calls
        in their order, whatever order the config lists the layers in)."""
        made: dict[str, Layer] = {}
        tensors: dict[str, list] = {}         # layer name -> outputs of each of its calls, in order
        pending = []
        for lc in cfg.get("layers", []):
            lc = dict(lc)
            nodes = lc.pop("inbound_nodes", [])
            layer = layer_from_config(lc)
            made[layer.name] = layer
            if isinstance(layer, InputLayer):
                tensors[layer.name] = [[layer.output]]
            else:
                tensors[layer.name] = []
                pending.extend((layer, k, node) for k, node in enumerate(nodes))

        def lookup(ref):
            name, node_index, tensor_index = ref
            calls = tensors.get(name, [])
            if node_index >= len(calls):
                return None
            return calls[node_index][tensor_index]

        while pending:
            progress = False
            for item in list(pending):
                layer, k, node = item
                if len(tensors[layer.name]) != k:      # a shared layer's calls replay in their own order
                    continue
                args = [lookup(ref) for ref in node["args"]]
                if any(a is None for a in args):
                    continue
                out = layer(args if node.get("structure") == "list" else args[0])
                tensors[layer.name].append(out if isinstance(out, list) else [out])
                pending.remove(item)
                progress = True
            if not progress:
                names = ", ".join(sorted({layer.name for layer, _, _ in pending}))
                raise NnplayError(f"the model config's graph cannot be rebuilt: no inputs for {names}")
        ins = [lookup(r) for r in cfg["input_layers"]]
        outs = [lookup(r) for r in cfg["output_layers"]]
        return cls(ins if len(ins) > 1 else ins[0], outs if len(outs) > 1 or cfg.get("structure") == "list"
                   else outs[0], name=cfg.get("name"), seed=cfg.get("seed"), dtype=cfg.get("dtype"))


def _snapshot(layer) -> list:
    """A copy of what ``layer`` (and, for a model, every layer inside it) keeps for its backward pass."""
    return [(sub, copy.deepcopy(sub.cache)) for sub in sublayers(layer)]


def _restore(snapshot: list) -> None:
    for sub, cache in snapshot:
        sub.cache = cache


def _batch(grads_out) -> int:
    return next(len(g) for g in grads_out if g is not None)


Model._functional_class = Functional
LAYER_TYPES.add("functional", Functional)
