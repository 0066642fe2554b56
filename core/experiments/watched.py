"""A script's own ``fit`` call as an experiment, so ``nnplay watch`` can show it with the playground's views.

The dataset is made from the arrays the script passed (the validation data stands in for a test split);
the task is read from the loss and the output width; two raw input features give the decision-boundary
plane, as the playground's 2-D sets do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..datasets import Dataset
from ..datasets.toy2d import data_domain
from ..training import Trainer
from .base import Experiment
from .memory import MemoryEstimate

_CLASSIFY = {"binary_crossentropy": "binary", "categorical_crossentropy": "multiclass",
             "sparse_categorical_crossentropy": "multiclass"}


def _task(model) -> tuple[str, int | None]:
    kind = _CLASSIFY.get(getattr(model.loss, "name", ""), "regression")
    units = int(model.output_shapes[0][-1]) if model.output_shapes and model.output_shapes[0] else 1
    if kind == "binary" and units > 1:
        kind = "multiclass"
    if kind == "multiclass":
        return kind, max(units, 2)
    return kind, (2 if kind == "binary" else None)


def _labels(y, task):
    """Class indices for the views (one-hot targets become indices)."""
    y = np.asarray(y)
    if task == "multiclass" and y.ndim > 1 and y.shape[-1] > 1:
        return y.argmax(axis=-1)
    if task in ("binary", "multiclass"):
        return y.reshape(len(y), -1)[:, 0].astype(np.int64) if y.ndim > 1 else y.astype(np.int64)
    return y


def dataset_of(model, trainer: Trainer, name: str) -> Dataset:
    """The arrays a trainer learns from, as a :class:`Dataset` the views can read."""
    x, y = trainer.x, trainer.y
    if isinstance(x, list) or isinstance(y, list):       # several inputs/outputs: views read the first
        x, y = (x[0] if isinstance(x, list) else x), (y[0] if isinstance(y, list) else y)
    x_val, y_val = trainer.val if trainer.val is not None else (x[-min(len(x), 200):], y[-min(len(y), 200):])
    if isinstance(x_val, list) or isinstance(y_val, list):
        x_val, y_val = (x_val[0] if isinstance(x_val, list) else x_val), (y_val[0] if isinstance(y_val, list)
                                                                         else y_val)
    task, n_classes = _task(model)
    meta = {}
    featurizer = None
    if x.ndim == 2 and x.shape[1] == 2:                  # a plane: the decision boundary view applies
        meta = {"domain": data_domain(np.concatenate([x, x_val])), "points_train": x, "points_test": x_val,
                "feature_names": ["x1", "x2"]}
        featurizer = lambda pts: np.asarray(pts, x.dtype)  # noqa: E731
    return Dataset(name, task, x, _labels(y, task), x_val, _labels(y_val, task),
                   description=f"the data {name} passed to fit", n_classes=n_classes, meta=meta,
                   featurizer=featurizer)


@dataclass
class WatchedExperiment(Experiment):
    """The run a script's ``fit`` asked for: its model, its arrays and the trainer ``fit`` made."""

    run: Trainer | None = field(default=None, repr=False)

    @classmethod
    def of(cls, model, trainer: Trainer, name: str) -> "WatchedExperiment":
        ds = dataset_of(model, trainer, name)
        fit = {"x": trainer.x, "y": trainer.y, "epochs": trainer.epochs, "batch_size": trainer.batch_size}
        return cls(preset=None, dataset=ds, model=model, callbacks=[], fit_kwargs=fit, target=None,
                   steps_per_epoch=trainer.steps, memory=MemoryEstimate(), run=trainer)

    def trainer(self, *, initial_epoch: int = 0, epochs: int | None = None, callbacks=()) -> Trainer:
        """The trainer the script's ``fit`` made (the script decides epochs and data)."""
        return self.run

    def warm_up(self) -> float:
        return 0.0
