"""What a preset says about training, resolved once for both script writers: the optimizer with all its
values, the schedule in optimizer steps, the loss, the metrics, the validation split, the stop rules and, for
a GAN, the players' settings."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .. import losses, optimizers
from ..optimizers import schedules
from ..presets import Preset
from ..presets.fields import schedule_config
from ..training.data import validation_count

#: Metric names by what they measure (nnplay's spellings -> one key).
METRIC_KEYS = {"accuracy": "accuracy", "acc": "accuracy", "binary_accuracy": "binary_accuracy",
               "categorical_accuracy": "categorical_accuracy",
               "sparse_categorical_accuracy": "sparse_categorical_accuracy", "mae": "mae",
               "mean_absolute_error": "mae", "mse": "mse", "mean_squared_error": "mse", "rmse": "rmse",
               "root_mean_squared_error": "rmse", "r2": "r2", "r2_score": "r2", "precision": "precision",
               "recall": "recall", "f1": "f1", "f1_score": "f1"}


@dataclass
class OptimizerPlan:
    name: str                                    #: nnplay's key: sgd, adam, adamw, rmsprop, adagrad, adadelta, nadam
    learning_rate: float                         #: the rate (a schedule's initial rate when there is one)
    args: dict[str, Any]                         #: every hyper-parameter with its value (defaults included)
    weight_decay: float | None
    clip: tuple[str, float] | None               #: ("clipnorm" | "clipvalue" | "global_clipnorm", value)
    schedule: Any = None                         #: a nnplay LearningRateSchedule (in optimizer steps) or None


@dataclass
class TrainingPlan:
    kind: str                                    #: "plain", "autoencoder" or "gan"
    epochs: int
    batch_size: int
    shuffle: bool
    validation: str                              #: "test", "split" or "none"
    validation_split: float
    n_train: int                                 #: samples trained on (after a validation split)
    steps_per_epoch: int
    optimizer: OptimizerPlan
    loss: Any                                    #: a nnplay Loss
    metrics: list[str]                           #: metric keys (see METRIC_KEYS)
    stop: Any = None                             #: the preset's StopConfig or None
    seed: int = 0
    gan: dict[str, Any] = field(default_factory=dict)
    d_optimizer: OptimizerPlan | None = None
    loss_spelling: str | None = None             #: the preset's own name for the loss ("mse"), when a string


def optimizer_plan(cfg: dict, steps_per_epoch: int = 1, schedule: dict | None = None) -> OptimizerPlan:
    """Resolve an optimizer table (and a preset schedule, given in epochs or steps) to every value."""
    cfg = dict(cfg)
    opt = optimizers.get(dict(cfg))
    sched = None
    if schedule is not None:
        sched = schedules.get(schedule_config(schedule, steps_per_epoch, opt.current_learning_rate()))
    args = {key: opt._hp[key] for key in type(opt)._args}
    wd = getattr(opt, "_weight_decay", None)
    clip = next(((k, getattr(opt, k)) for k in ("clipnorm", "clipvalue", "global_clipnorm")
                 if getattr(opt, k) is not None), None)
    lr = sched.initial_learning_rate if sched is not None and hasattr(sched, "initial_learning_rate") else \
        opt.current_learning_rate()
    return OptimizerPlan(opt.key, float(lr), args, wd, clip, sched)


def training_plan(preset: Preset, dataset) -> TrainingPlan:
    """The preset's training, for ``dataset`` as the model sees it (an autoencoder's targets are its inputs)."""
    tr = preset.training
    split = tr.validation_split if tr.validation_split is not None else 0.2
    n = len(dataset.x_train)
    n_train = n - (validation_count(n, split) if tr.validation == "split" else 0)
    batch = min(tr.batch_size, max(n_train, 1))
    steps = math.ceil(n_train / batch) if n_train else 0
    kind = "gan" if preset.gan is not None else "autoencoder" if preset.data.target == "input" else "plain"
    loss = losses.get(tr.loss)
    spelling = tr.loss.strip().lower() if isinstance(tr.loss, str) else None
    metrics = [METRIC_KEYS.get(m.strip().lower().replace("-", "_"), m) for m in tr.metrics]
    if kind == "gan":
        gan = dict(preset.gan)
        k = int(gan.get("k", 1))
        steps = max(1, n // (min(tr.batch_size, n) * k))
        settings = {"latent_dim": int(gan["latent_dim"]), "k": k, "g_steps": int(gan.get("g_steps", 1)),
                    "label_smoothing": float(gan.get("label_smoothing", 0.1)),
                    "label_noise": float(gan.get("label_noise", 0.0))}
        d_opt = optimizer_plan(gan.get("d_optimizer") or tr.optimizer)
        return TrainingPlan(kind, tr.epochs, min(tr.batch_size, n), True, "none", 0.0, n, steps,
                            optimizer_plan(tr.optimizer), loss, [], None, preset.seed, settings, d_opt, spelling)
    return TrainingPlan(kind, tr.epochs, tr.batch_size, tr.shuffle, tr.validation, split, n_train, steps,
                        optimizer_plan(tr.optimizer, steps, tr.schedule), loss, metrics, tr.stop, preset.seed,
                        loss_spelling=spelling)
