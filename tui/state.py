"""Session state as plain data: the learner's setup (a preset-shaped dict) and what a run has produced.

Widgets show this state and never own it; the app changes it in response to messages and pushes it down.
The setup dict follows the preset schema (``[data]``, ``[[model.layers]]``, ``[training]``, ...), so saving a
preset is writing it out and opening one is reading it in.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from nnplay.core.training.controls import LR_MAX, LR_MIN

#: The playground a plain ``nnplay`` opens: TensorFlow Playground's spiral with a small tanh network.
DEFAULT_SETUP: dict[str, Any] = {
    "version": 1,
    "name": "playground",
    "description": "Two interleaved spiral arms, a small tanh network (TensorFlow Playground style).",
    "seed": 0,
    "data": {"name": "spiral", "n_samples": 500, "noise": 0.1, "train_ratio": 0.5,
             "features": ["x1", "x2", "x1^2", "x2^2", "sin(x1)", "sin(x2)"], "seed": 0},
    "model": {"layers": [
        {"type": "dense", "units": 8, "activation": "tanh"},
        {"type": "dense", "units": 8, "activation": "tanh"},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
    ]},
    "training": {
        "loss": "binary_crossentropy", "metrics": ["accuracy"], "epochs": 1000, "batch_size": 10,
        "optimizer": {"name": "adam", "learning_rate": 0.03},
    },
}

VIEWS: tuple[tuple[str, str], ...] = (
    ("output", "1 Output"), ("curves", "2 Curves"), ("inside", "3 Inside"),
    ("model", "4 Model"), ("errors", "5 Errors"),
)

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leaky_relu", "elu", "gelu", "swish", "softplus", "softmax")
LOSSES = ("binary_crossentropy", "sparse_categorical_crossentropy", "categorical_crossentropy", "mse", "mae",
          "huber", "log_cosh", "hinge")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "nadam")
REGULARIZERS = ("none", "l1", "l2", "l1_l2")
SCHEDULES = ("none", "exponential_decay", "cosine_decay", "step_decay")
BATCH_SIZES = (1, 2, 4, 8, 10, 16, 32, 64, 128, 256, 512)
CLIPNORMS = (0.0, 0.1, 0.5, 1.0, 5.0, 10.0)
PACES = ("full", "100 epochs/s", "20 epochs/s", "5 epochs/s", "1 epoch/s")


@dataclass(frozen=True)
class FieldSpec:
    """One editable setting: where it lives in the setup dict and how the keys change it."""

    key: str                 #: dotted path in the setup dict, e.g. "training.optimizer.learning_rate"
    label: str
    kind: str                #: "choice" | "int" | "float" | "log" | "bool" | "text"
    choices: tuple = ()
    lo: float | None = None
    hi: float | None = None
    step: float = 1.0        #: added for int/float; multiplied for log
    default: Any = None
    help: str = ""


#: Per layer type, the fields the layer editor offers (Keras argument names). Unknown types show none.
LAYER_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "dense": (FieldSpec("units", "units", "int", lo=1, hi=4096, default=8),
              FieldSpec("activation", "activation", "choice", ACTIVATIONS, default="relu")),
    "dropout": (FieldSpec("rate", "rate", "float", lo=0.0, hi=0.95, step=0.05, default=0.2),),
    "activation": (FieldSpec("activation", "activation", "choice", ACTIVATIONS, default="relu"),),
    "flatten": (),
    "conv2d": (FieldSpec("filters", "filters", "int", lo=1, hi=512, default=8),
               FieldSpec("kernel_size", "kernel size", "int", lo=1, hi=11, default=3),
               FieldSpec("strides", "strides", "int", lo=1, hi=4, default=1),
               FieldSpec("padding", "padding", "choice", ("valid", "same"), default="valid"),
               FieldSpec("activation", "activation", "choice", ACTIVATIONS, default="relu")),
    "conv1d": (FieldSpec("filters", "filters", "int", lo=1, hi=512, default=8),
               FieldSpec("kernel_size", "kernel size", "int", lo=1, hi=15, default=3),
               FieldSpec("padding", "padding", "choice", ("valid", "same", "causal"), default="valid"),
               FieldSpec("activation", "activation", "choice", ACTIVATIONS, default="relu")),
    "max_pooling2d": (FieldSpec("pool_size", "pool size", "int", lo=1, hi=8, default=2),),
    "average_pooling2d": (FieldSpec("pool_size", "pool size", "int", lo=1, hi=8, default=2),),
    "max_pooling1d": (FieldSpec("pool_size", "pool size", "int", lo=1, hi=8, default=2),),
    "global_average_pooling2d": (),
    "global_max_pooling2d": (),
    "batch_normalization": (),
    "simple_rnn": (FieldSpec("units", "units", "int", lo=1, hi=1024, default=16),
                   FieldSpec("activation", "activation", "choice", ACTIVATIONS, default="tanh"),
                   FieldSpec("return_sequences", "return sequences", "bool", default=False)),
    "lstm": (FieldSpec("units", "units", "int", lo=1, hi=1024, default=16),
             FieldSpec("return_sequences", "return sequences", "bool", default=False)),
    "gru": (FieldSpec("units", "units", "int", lo=1, hi=1024, default=16),
            FieldSpec("return_sequences", "return sequences", "bool", default=False)),
    "embedding": (FieldSpec("input_dim", "vocabulary", "int", lo=1, hi=100_000, default=32),
                  FieldSpec("output_dim", "dimensions", "int", lo=1, hi=1024, default=8)),
}

#: The order in which the layer editor cycles through types (only registered types are offered).
LAYER_ORDER = ("dense", "dropout", "conv2d", "max_pooling2d", "average_pooling2d", "flatten", "conv1d",
               "max_pooling1d", "simple_rnn", "lstm", "gru", "activation", "batch_normalization",
               "global_average_pooling2d", "global_max_pooling2d", "embedding")

TRAINING_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("training.loss", "loss", "choice", LOSSES, help="what the optimizer minimises"),
    FieldSpec("training.optimizer.name", "optimizer", "choice", OPTIMIZERS, help="how weights follow the gradient"),
    FieldSpec("training.optimizer.learning_rate", "learning rate", "log", lo=LR_MIN, hi=LR_MAX, step=2.0,
              help="step size; changes live while training ( + / - )"),
    FieldSpec("training.batch_size", "batch size", "choice", BATCH_SIZES, help="samples per update"),
    FieldSpec("training.epochs", "epochs", "int", lo=1, hi=100_000, step=100, help="passes over the data"),
    FieldSpec("training.regularization.type", "regularization", "choice", REGULARIZERS,
              help="penalty on large weights of every kernel"),
    FieldSpec("training.regularization.rate", "reg. rate", "log", lo=1e-6, hi=10.0, step=2.0, default=1e-3),
    FieldSpec("training.optimizer.clipnorm", "clip norm", "choice", CLIPNORMS, help="0 = no gradient clipping"),
    FieldSpec("training.schedule.type", "lr schedule", "choice", SCHEDULES,
              help="how the learning rate decays over steps"),
    FieldSpec("tui.pace", "pace", "choice", PACES,
              help="full speed, or at most this many epochs a second to watch it learn (not saved)"),
)


def get_path(d: dict, key: str, default: Any = None) -> Any:
    """``get_path(setup, "training.optimizer.name")``; missing parts give ``default``."""
    cur: Any = d
    for part in key.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def set_path(d: dict, key: str, value: Any) -> None:
    """Set a dotted key, creating tables on the way; ``None`` removes the key."""
    parts = key.split(".")
    cur = d
    for part in parts[:-1]:
        nxt = cur.get(part)
        if not isinstance(nxt, dict):
            nxt = cur[part] = {}
        cur = nxt
    if value is None:
        cur.pop(parts[-1], None)
    else:
        cur[parts[-1]] = value


def pace_limit(pace: str) -> float | None:
    """Epochs per second for a pace choice (None: full speed)."""
    return None if pace == "full" else float(pace.split()[0])


def new_setup() -> dict:
    return copy.deepcopy(DEFAULT_SETUP)


@dataclass
class LayerCheck:
    """The shape check of one layer of the stack."""

    label: str                       #: "dense 8 tanh"
    output_shape: tuple | None = None
    params: int = 0
    error: str | None = None         #: the build error if this layer is the one that failed


@dataclass
class StackCheck:
    """The whole stack as built against the dataset's input shape."""

    input_shape: tuple = ()
    layers: list[LayerCheck] = field(default_factory=list)
    error: str | None = None         #: first error, naming the layer and shapes (None: the stack builds)
    total_params: int = 0
    base: str = ""                   #: a [model.base] the stack builds on, as one line ("" without one)


@dataclass
class RunState:
    """What the current run has produced so far (updated from worker messages on the UI thread)."""

    status: str = "ready"            #: ready | running | paused | finished | diverged | error
    epoch: int = 0                   #: epochs completed
    epochs: int = 0
    batch: int = 0
    steps: int = 0
    iteration: int = 0
    learning_rate: float = 0.0
    samples_per_s: float = 0.0
    average_samples_per_s: float = 0.0
    samples_total: int = 0
    batch_loss: float | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    message: str = ""                #: divergence explanation or error text

    def latest(self, key: str) -> float | None:
        values = self.history.get(key)
        return values[-1] if values else None


@dataclass
class KernelState:
    """Whether the compiled kernels are ready, so a slow first start is explained."""

    status: str = "compiling"        #: compiling | ready | failed
    seconds: float = 0.0             #: wall time from the first warm-up's start to the last one's end
    compiled: int = 0                #: kernels compiled this start (cache misses)
    cached: int = 0                  #: kernels loaded from the on-disk cache
    base: tuple[int, int] = (0, 0)   #: the process's (compiled, cached) counts when the playground started
    first: float | None = None       #: ``perf_counter`` when the first warm-up started
    last: float = 0.0                #: ... and when the latest one ended
    tiered: bool = False             #: a run trains on the NumPy tier while they compile

    def add(self, stats) -> KernelState:
        """The state after one more warm-up. Warm-ups of quick successive builds overlap in time, so the
        seconds are the span they cover (never the sum of their durations) and the counts come from the
        process's totals, so no kernel is counted twice."""
        first = stats.started if self.first is None else min(self.first, stats.started)
        last = max(self.last, stats.ended)
        compiled, cached = stats.compiled - self.base[0], stats.cached - self.base[1]
        return KernelState("failed" if stats.error else "ready", last - first, max(compiled, self.compiled),
                           max(cached, self.cached), self.base, first, last)

    def text(self) -> str:
        if self.status == "compiling":
            return "compiling kernels… (NumPy trains meanwhile)" if self.tiered else "compiling kernels…"
        if self.status == "failed":
            return "kernel warm-up failed"
        if self.compiled:
            return f"kernels compiled ({self.compiled} in {self.seconds:.1f}s)"
        return "kernels cached"


@dataclass
class ViewOptions:
    """How the views draw (toggled by keys)."""

    discretize: bool = False         #: boundary: hard classes instead of confidence
    show_test: bool = False          #: boundary: draw test points too
    layer: int = 0                   #: inside view: which layer
    sample: int = 0                  #: inside view: which sample
    global_scale: bool = False       #: feature maps: one colour scale for all maps
    color: bool = True               #: False under NO_COLOR / --no-color: shade ramps instead of colour
    test_mode: bool = False          #: hide timing-dependent text (snapshots)
    pace: str = "full"               #: "full" or "N epochs/s": slow training down to watch it
