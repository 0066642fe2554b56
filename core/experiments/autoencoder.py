"""Autoencoder experiments: ``[data] target = "input"``; the test split (and the ``train_``/``val_`` losses)
compare reconstructions with inputs. ``[anomaly] held_out_class = 4, percentile = 95`` leaves one class out of
training and reports how well reconstruction error finds it."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..models.autoencoder import holdout_split
from .base import Experiment
from .reports import autoencoder_report


def autoencoder_dataset(ds, anomaly: dict | None = None):
    """The dataset as an autoencoder sees it: targets are the inputs.

    With ``anomaly = {"held_out_class": c}`` class ``c`` leaves training and the test split and waits in
    ``meta["x_anomalous"]``. The class labels stay in ``meta["labels_train"]`` / ``meta["labels_test"]``
    (to colour a latent scatter).
    """
    held = None if not anomaly else anomaly.get("held_out_class")
    x_tr, x_te, y_tr, y_te, x_an = ds.x_train, ds.x_test, ds.y_train, ds.y_test, None
    if held is not None:
        x_tr, x_te, x_an = holdout_split(ds, int(held))
        y_tr, y_te = ds.y_train[ds.y_train != held], ds.y_test[ds.y_test != held]
    meta = {**ds.meta, "labels_train": y_tr, "labels_test": y_te, "x_anomalous": x_an}
    return dataclasses.replace(ds, task="generative", x_train=x_tr, y_train=x_tr, x_test=x_te, y_test=x_te,
                               meta=meta)


@dataclass
class AutoencoderExperiment(Experiment):
    """An :class:`Experiment` whose target is its input; ``evaluate`` adds the report's metrics as ``test_*``."""

    kind = "autoencoder"
    text: str = field(default="", repr=False)      #: the last report as text (see :meth:`render`)

    def evaluate(self, trainer=None) -> dict:
        out = super().evaluate(trainer)
        metrics, self.text = autoencoder_report(self.model, self.dataset, anomaly=self.preset.anomaly)
        out.update({f"test_{k}": v for k, v in metrics.items()})
        return out

    def render(self) -> str:
        """Originals above reconstructions (and the anomaly summary), as text."""
        return self.text or autoencoder_report(self.model, self.dataset, anomaly=self.preset.anomaly)[1]
