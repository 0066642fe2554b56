"""Metrics: streaming (update per batch, result per epoch), with Keras' names.

``"accuracy"`` resolves as Keras does: binary accuracy for binary cross-entropy (or a one-unit output),
sparse categorical accuracy for sparse targets, categorical accuracy for one-hot targets.
Precision, recall and F1 are binary for one-unit outputs and macro-averaged over classes otherwise.
"""
from __future__ import annotations

import numpy as np

from .errors import NnplayError
from .registry import Registry


def _labels_pred(p: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    if p.shape[-1] == 1:
        return (p[..., 0] > threshold).astype(np.int64)
    return p.argmax(axis=-1)


def _labels_true(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    if y.shape == p.shape and p.shape[-1] > 1:
        return y.argmax(axis=-1)
    if y.shape == p.shape:  # (n, 1) binary targets (hinge targets may be -1/+1)
        return (y[..., 0] > 0.5).astype(np.int64) if y.min() >= 0 else (y[..., 0] > 0).astype(np.int64)
    return y.astype(np.int64)


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts ``m[true, predicted]`` from label vectors (or probabilities, which are argmax-ed/thresholded)."""
    yp = np.asarray(y_pred)
    yt = np.asarray(y_true)
    if yp.ndim > 1 and yp.dtype.kind == "f":
        yt = _labels_true(yt, yp)
        yp = _labels_pred(yp)
        if n_classes is None:
            n_classes = max(2, np.asarray(y_pred).shape[-1])
    yt, yp = yt.astype(np.int64).ravel(), yp.astype(np.int64).ravel()
    k = n_classes or int(max(yt.max(initial=0), yp.max(initial=0)) + 1)
    m = np.zeros((k, k), np.int64)
    np.add.at(m, (yt, yp), 1)
    return m


class Metric:
    name = "metric"

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        raise NotImplementedError

    def update(self, y, p) -> None:
        raise NotImplementedError

    def result(self) -> float:
        raise NotImplementedError

    # Keras' names for the same calls
    def update_state(self, y_true, y_pred) -> None:
        self.update(np.asarray(y_true), np.asarray(y_pred))

    def reset_state(self) -> None:
        self.reset()

    def compute(self, y, p) -> float:
        """The metric of one batch alone."""
        self.reset()
        self.update(y, p)
        return self.result()


class _Mean(Metric):
    def reset(self):
        self.total, self.count = 0.0, 0

    def result(self):
        return self.total / self.count if self.count else 0.0


class BinaryAccuracy(_Mean):
    name = "accuracy"

    def __init__(self, threshold: float = 0.5, name: str = "accuracy"):
        self.threshold, self.name = threshold, name
        super().__init__()

    def update(self, y, p):
        yt = np.asarray(y).reshape(p.shape)
        if yt.size and yt.min() < 0:      # hinge targets in {-1, 1}: the decision threshold is 0
            hit = (p > 0) == (yt > 0)
        else:
            hit = (p > self.threshold) == (yt > 0.5)
        self.total += float(hit.sum())
        self.count += hit.size


class CategoricalAccuracy(_Mean):
    name = "accuracy"

    def __init__(self, name: str = "accuracy"):
        self.name = name
        super().__init__()

    def update(self, y, p):
        hit = np.asarray(y).argmax(axis=-1) == p.argmax(axis=-1)
        self.total += float(hit.sum())
        self.count += hit.size


class SparseCategoricalAccuracy(_Mean):
    name = "accuracy"

    def __init__(self, name: str = "accuracy"):
        self.name = name
        super().__init__()

    def update(self, y, p):
        hit = np.asarray(y).reshape(p.shape[:-1]) == p.argmax(axis=-1)
        self.total += float(hit.sum())
        self.count += hit.size


class MeanAbsoluteError(_Mean):
    name = "mae"

    def update(self, y, p):
        d = np.abs(p - np.asarray(y).reshape(p.shape))
        self.total += float(d.sum())
        self.count += d.size


class MeanSquaredError(_Mean):
    name = "mse"

    def update(self, y, p):
        d = np.square(p - np.asarray(y).reshape(p.shape))
        self.total += float(d.sum())
        self.count += d.size


class RootMeanSquaredError(MeanSquaredError):
    name = "rmse"

    def result(self):
        return float(np.sqrt(super().result()))


class R2Score(Metric):
    """Coefficient of determination over all outputs, 1 - SS_res / SS_tot, accumulated over batches."""

    name = "r2"

    def reset(self):
        self.n = 0
        self.sum_y = self.sum_y2 = self.ss_res = 0.0

    def update(self, y, p):
        y = np.asarray(y, np.float64).reshape(p.shape)
        self.n += y.size
        self.sum_y += float(y.sum())
        self.sum_y2 += float(np.square(y).sum())
        self.ss_res += float(np.square(y - p).sum())

    def result(self):
        if self.n == 0:
            return 0.0
        ss_tot = self.sum_y2 - self.sum_y ** 2 / self.n
        return 1.0 - self.ss_res / ss_tot if ss_tot > 0 else 0.0


class _Confusion(Metric):
    """Shared by precision, recall and F1: accumulate a confusion matrix."""

    def __init__(self, n_classes: int = 2):
        self.n_classes = max(2, n_classes)
        super().__init__()

    def reset(self):
        self.cm = np.zeros((self.n_classes, self.n_classes), np.int64)

    def update(self, y, p):
        yt, yp = _labels_true(y, p), _labels_pred(p)
        np.add.at(self.cm, (yt.ravel(), yp.ravel()), 1)

    def _pr(self):
        tp = np.diag(self.cm).astype(np.float64)
        pred = self.cm.sum(axis=0)
        true = self.cm.sum(axis=1)
        precision = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
        recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
        if self.n_classes == 2:
            return precision[1], recall[1]
        return precision.mean(), recall.mean()


class Precision(_Confusion):
    name = "precision"

    def result(self):
        return float(self._pr()[0])


class Recall(_Confusion):
    name = "recall"

    def result(self):
        return float(self._pr()[1])


class F1Score(_Confusion):
    name = "f1"

    def result(self):
        if self.n_classes == 2:
            p, r = self._pr()
            return float(2 * p * r / (p + r)) if p + r > 0 else 0.0
        tp = np.diag(self.cm).astype(np.float64)
        denom = self.cm.sum(axis=0) + self.cm.sum(axis=1)
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        return float(f1.mean())


#: Metric factories by name, given the output width; "accuracy" is resolved from the loss in :func:`get`.
_TABLE: Registry = Registry("metric", {
    "accuracy": None,
    "binary_accuracy": lambda units: BinaryAccuracy(name="binary_accuracy"),
    "categorical_accuracy": lambda units: CategoricalAccuracy(name="categorical_accuracy"),
    "sparse_categorical_accuracy": lambda units: SparseCategoricalAccuracy(name="sparse_categorical_accuracy"),
    "mean_absolute_error": lambda units: MeanAbsoluteError(), "mean_squared_error": lambda units: MeanSquaredError(),
    "root_mean_squared_error": lambda units: RootMeanSquaredError(), "r2_score": lambda units: R2Score(),
    "precision": Precision, "recall": Recall, "f1_score": F1Score,
}, aliases={"acc": "accuracy", "mae": "mean_absolute_error", "mse": "mean_squared_error",
            "rmse": "root_mean_squared_error", "r2": "r2_score", "f1": "f1_score"})


def get(identifier, loss=None, output_shape: tuple = (1,)) -> Metric:
    """A metric from a name, resolving ``"accuracy"`` from the loss and the output shape as Keras does."""
    if isinstance(identifier, Metric):
        return identifier
    if not isinstance(identifier, str):
        raise NnplayError(f"metrics must be names such as 'accuracy', got {identifier!r}")
    make = _TABLE.lookup(identifier)
    units = int(output_shape[-1]) if output_shape else 1
    if make is None:                   # "accuracy": the kind that suits the loss and the output, as Keras picks
        loss_name = getattr(loss, "name", "")
        if loss_name == "sparse_categorical_crossentropy":
            return SparseCategoricalAccuracy()
        if loss_name == "binary_crossentropy" or units == 1:
            return BinaryAccuracy()
        return CategoricalAccuracy()
    return make(units)
