"""The preset's training as Keras source: the optimizer (with its schedule), the loss, the metrics and the
stop rules, each a Keras call with Keras' names and only the arguments that differ from Keras' defaults."""
from __future__ import annotations

import inspect

from .. import losses as losses_mod
from ..optimizers.base import _TABLE as OPTIMIZERS
from .code import Src, call
from .graph import refuse
from .plan import OptimizerPlan, TrainingPlan

KERAS_OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad",
                    "adadelta": "Adadelta", "nadam": "Nadam"}
KERAS_LOSSES = {"mean_squared_error": "MeanSquaredError", "mean_absolute_error": "MeanAbsoluteError",
                "huber": "Huber", "log_cosh": "LogCosh", "binary_crossentropy": "BinaryCrossentropy",
                "categorical_crossentropy": "CategoricalCrossentropy",
                "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy", "hinge": "Hinge",
                "squared_hinge": "SquaredHinge"}


def schedule_source(sched) -> str:
    """A nnplay schedule (in optimizer steps) as a ``keras.optimizers.schedules`` call."""
    cfg = sched.get_config()
    kind = cfg.pop("type")
    cfg.pop("name", None)
    if kind == "step_decay":      # nnplay's own; Keras writes it as a staircase exponential decay
        return call("keras.optimizers.schedules.ExponentialDecay", (),
                    {"initial_learning_rate": cfg["initial_learning_rate"], "decay_steps": cfg["every"],
                     "decay_rate": cfg["drop"], "staircase": True})
    cls = type(sched)
    defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    args = {k: v for k, v in cfg.items() if k not in defaults or defaults[k] != v}
    return call(f"keras.optimizers.schedules.{cls.__name__}", (), args)


def optimizer_source(opt: OptimizerPlan, to: str = "keras", schedule_var: str | None = None) -> str:
    """``keras.optimizers.Adam(learning_rate=0.01)``; a schedule goes in as ``learning_rate`` (by the name
    ``schedule_var`` when it is made on a line of its own)."""
    cls = OPTIMIZERS[opt.name]
    if opt.args.get("epsilon_mode", "keras") != "keras":
        raise refuse(to, f"optimizer {opt.name!r} with epsilon_mode={opt.args['epsilon_mode']!r}", "Keras' Adam "
                     "always adds epsilon before the bias correction", "remove epsilon_mode from the optimizer")
    lr = opt.learning_rate
    if opt.schedule is not None:
        lr = Src(schedule_var or schedule_source(opt.schedule))
    args: dict = {"learning_rate": lr}
    for key, default in cls._args.items():
        if key != "epsilon_mode" and opt.args[key] != default:
            args[key] = opt.args[key]
    if opt.weight_decay is not None and opt.weight_decay != cls._default_weight_decay:
        args["weight_decay"] = opt.weight_decay
    if opt.clip is not None:
        args[opt.clip[0]] = opt.clip[1]
    return call(f"keras.optimizers.{KERAS_OPTIMIZERS[opt.name]}", (), args)


#: Short names Keras knows as well as nnplay (others are written out in full).
KERAS_SHORT_LOSSES = ("mse", "mae")


def loss_source(loss, spelling: str | None = None) -> str:
    """The loss by name when it has Keras' default arguments (the preset's spelling when Keras knows it), else
    its class with the others."""
    cfg = loss.get_config()
    name = cfg.pop("name")
    defaults = {k: p.default for k, p in inspect.signature(type(loss).__init__).parameters.items()
                if p.default is not inspect.Parameter.empty}
    args = {k: v for k, v in cfg.items() if k in defaults and defaults[k] != v}
    if not args:
        return f'"{spelling if spelling in KERAS_SHORT_LOSSES else name}"'
    return call(f"keras.losses.{KERAS_LOSSES[name]}", (), args)


def metrics_source(plan: TrainingPlan, units: int) -> tuple[list[str], list[str]]:
    """(the metrics as Keras source, comments for the ones Keras measures differently and that are left out)."""
    out, left = [], []
    for key in plan.metrics:
        if key in ("accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "mae",
                   "mse"):
            out.append(f'"{key}"')
        elif key == "rmse":
            out.append('keras.metrics.RootMeanSquaredError(name="rmse")')
        elif key == "r2":
            out.append('keras.metrics.R2Score(name="r2")')
        elif key in ("precision", "recall") and units == 1:
            out.append(f'keras.metrics.{key.capitalize()}(name="{key}")')
        else:
            left.append(f"nnplay's metric {key!r} has no Keras metric that computes it the same way: left out")
    return out, left


def loss_note(loss, last_activation: str | None) -> str | None:
    """Where Keras computes this loss differently from nnplay (a comment), or None."""
    if isinstance(loss, (losses_mod.BinaryCrossentropy, losses_mod.CategoricalCrossentropy)) and \
            not loss.from_logits and last_activation in ("sigmoid", "softmax"):
        return ("nnplay computes the cross-entropy from the logits of the last layer (as Keras' TensorFlow "
                "backend does); Keras' torch and JAX backends clip the probabilities to [1e-7, 1 - 1e-7], which "
                "gives the same loss unless a prediction saturates")
    return None
