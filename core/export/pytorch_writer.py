"""The bookkeeping of a generated ``nn.Module``: the lines of ``__init__``, ``forward`` and the weight
loading, and the layout of every tensor in ``forward``.

nnplay (like Keras) is channels-last: images are (batch, height, width, channels), sequences (batch, steps,
features). PyTorch's convolutions, pooling, upsampling and batch normalization want channels first. The
``forward`` a writer produces takes and returns channels-last tensors and permutes only where a layer needs the
other layout, with a comment each time, so the reader sees where the layout changes.
"""
from __future__ import annotations

from .code import py, with_comment
from .graph import describe, refuse

CL, CF = "channels-last", "channels-first"

ACTIVATIONS = {"linear": "{x}", "relu": "torch.relu({x})", "sigmoid": "torch.sigmoid({x})",
               "tanh": "torch.tanh({x})", "softmax": "torch.softmax({x}, dim={dim})",
               "leaky_relu": "F.leaky_relu({x}, 0.2)", "elu": "F.elu({x})", "selu": "F.selu({x})",
               "hard_sigmoid": "F.hardsigmoid({x})", "softplus": "F.softplus({x})", "softsign": "F.softsign({x})",
               "swish": "F.silu({x})", "gelu": "F.gelu({x})"}
#: What a Keras activation needs said about its PyTorch twin.
ACTIVATION_NOTES = {"leaky_relu": "Keras' leaky_relu activation has slope 0.2 (PyTorch's default is 0.01)",
                    "hard_sigmoid": "Keras 3's hard_sigmoid is relu6(x + 3) / 6, PyTorch's hardsigmoid"}


def activation(name: str, expr: str, dim: int = -1) -> str:
    return ACTIVATIONS[name].format(x=expr, dim=dim)


def penalty_terms(reg, param: str) -> list[str]:
    """A Keras regularizer on a PyTorch parameter as loss terms (``0.01 * w.abs().sum()``); the sums are the
    same whatever the layout, so the PyTorch weight is used as it is."""
    if reg is None:
        return []
    cfg = reg.get_config() if hasattr(reg, "get_config") else dict(reg)
    terms = []
    if cfg.get("l1"):
        terms.append(f"{py(cfg['l1'])} * {param}.abs().sum()")
    if cfg.get("l2"):
        terms.append(f"{py(cfg['l2'])} * {param}.square().sum()")
    return terms


class ModuleWriter:
    """Collects one ``nn.Module``'s code while the layers are written in call order."""

    def __init__(self, to: str, model_ref: str, key_prefix: str = ""):
        self.to = to
        self.model_ref = model_ref           #: the model's name in load_weights (``model``, ``generator``)
        self.key_prefix = key_prefix         #: weights.npz keys start with this (``generator/``)
        self.init: list[str] = []
        self.forward: list[str] = []
        self.load: list[str] = []
        self.penalties: list[str] = []
        self.helpers: set[str] = set()       #: script-level helpers needed (``gru_gates``, ``Sampling``)
        self.collects_losses = False         #: forward fills self.losses (activity penalties, KL)
        self.vars: dict[str, tuple[tuple, str]] = {}   #: variable -> (Keras shape of one sample, layout)
        self.said: set[str] = set()          #: conversion notes already written (each is said once)
        self.reuse = False                   #: writing a shared layer's second call: no new module or weights

    # ------------------------------------------------------------------ layout
    def declare(self, var: str, shape: tuple, layout: str = CL) -> None:
        self.vars[var] = (tuple(shape), layout)

    def layout(self, var: str) -> str:
        return self.vars[var][1]

    def shape(self, var: str) -> tuple:
        return self.vars[var][0]

    def channels_first(self, var: str) -> None:
        """Permute ``var`` to (batch, channels, ...) unless it is already (or has no spatial axis)."""
        shape, layout = self.vars[var]
        if len(shape) < 2 or layout == CF:
            return
        r = len(shape)
        order = (0, r, *range(1, r))
        note = "NHWC -> NCHW: PyTorch's layers want channels first" if r == 3 else \
            "(batch, steps, channels) -> (batch, channels, steps) for PyTorch" if r == 2 else \
            "channels last -> channels first for PyTorch"
        self.forward.extend(with_comment(f"{var} = {var}.permute{py(order)}", note))
        self.vars[var] = (shape, CF)

    def channels_last(self, var: str, why: str = "") -> None:
        """Permute ``var`` back to nnplay's channels-last layout (if it is channels first)."""
        shape, layout = self.vars[var]
        if len(shape) < 2 or layout == CL:
            return
        r = len(shape)
        order = (0, *range(2, r + 1), 1)
        note = ("NCHW -> NHWC" if r == 3 else "(batch, channels, steps) -> (batch, steps, channels)" if r == 2
                else "channels first -> channels last") + (f": {why}" if why else "")
        self.forward.extend(with_comment(f"{var} = {var}.permute{py(order)}", note))
        self.vars[var] = (shape, CL)

    def channel_dim(self, var: str) -> int:
        return 1 if self.layout(var) == CF and len(self.shape(var)) >= 2 else -1

    # ------------------------------------------------------------------ code
    def line(self, text: str, note: str | None = None) -> None:
        self.forward.extend(with_comment(text, note))

    def module(self, attr: str, ctor: str, note: str | None = None) -> None:
        if self.reuse:
            return
        self.init.extend(with_comment(f"self.{attr} = {ctor}", note))

    def init_line(self, text: str) -> None:
        if not self.reuse:
            self.init.append(text)

    def put(self, path: str, key: str, convert: str = "{w}", note: str | None = None) -> None:
        """A load line: ``put(model.<path>, <converted weights.npz entry>)``."""
        if self.reuse:
            return
        value = convert.format(w=f"w[{py(self.key_prefix + key)}]")
        if note in self.said:
            note = None
        self.said.add(note)
        self.load.extend(with_comment(f"put({self.model_ref}.{path}, {value})", note))

    def penalize(self, reg, param: str) -> None:
        if self.reuse:
            return
        self.penalties.extend(penalty_terms(reg, f"self.{param}"))

    def activity(self, layer, var: str) -> None:
        """Keras adds an activity penalty divided by the batch size: in forward, into ``self.losses``."""
        reg = getattr(layer, "activity_regularizer", None)
        if reg is None:
            return
        self.collects_losses = True
        terms = penalty_terms(reg, var)
        self.line(f"self.losses.append(({' + '.join(terms)}) / len({var}))",
                  f"activity_regularizer of {layer.name!r}, per sample as Keras adds it")

    def refuse(self, layer, why: str, fix: str = ""):
        return refuse(self.to, describe(layer), why, fix)
