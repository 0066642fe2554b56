"""An experiment: what one run of a preset trains, behind one interface for every kind.

``nnplay run``, the playground and scripts all use the same few calls::

    exp = build_experiment(preset)          # kind "plain", "autoencoder" or "gan"
    exp.warm_up()                           # compile the kernels on a copy (optional)
    trainer = exp.trainer()                 # or exp.trainer(initial_epoch=50, epochs=100) to continue
    for event in trainer.run(): ...
    metrics = exp.evaluate(trainer)         # train_loss, test_accuracy, test_reconstruction_mse, ...
    exp.target_met(metrics), exp.render()   # the preset's [target]; samples or reconstructions as text
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..presets import Preset, TargetConfig
from ..training import Trainer
from ..training.compile_ahead import CompileAhead
from ..training.data import validation_count
from ..training.tiered import ModelWarmUp
from .memory import MemoryEstimate


@dataclass
class Experiment:
    """A plain experiment: a compiled model, its data and the preset's stop rules. Subclasses add kinds."""

    kind = "plain"                 #: "plain", "autoencoder" or "gan"

    preset: Preset
    dataset: Any                   #: the :class:`~nnplay.core.datasets.Dataset` as the model sees it
    model: Any                     #: the compiled model (a GAN's generator)
    callbacks: list                #: the preset's stop rules
    fit_kwargs: dict               #: x, y, batch_size, shuffle, validation: what ``fit`` would be given
    target: TargetConfig | None
    steps_per_epoch: int
    memory: MemoryEstimate
    augment: Any = None            #: the :class:`~nnplay.core.layers.augment.Augmenter` of [data.augment], or None
    base: Any = None               #: the :class:`~.transfer.Base` of [model.base] (its first layers start the model)
    n_base_layers: int = 0         #: how many of ``model.layers`` come from the base (the preset's layers follow)

    @property
    def epochs(self) -> int:
        """The epochs the preset asks for."""
        return int(self.fit_kwargs["epochs"])

    @property
    def input_shape(self) -> tuple:
        """What the edited layer stack takes: one sample's shape (a GAN generator's: the latent vector; with a
        ``[model.base]``, what the base hands the preset's own layers)."""
        if self.n_base_layers:
            return tuple(self.model.layers[self.n_base_layers - 1].output_shape)
        return tuple(self.dataset.input_shape)

    def trainer(self, *, initial_epoch: int = 0, epochs: int | None = None, callbacks=()) -> Trainer:
        """The trainer for this experiment's model: from ``initial_epoch`` up to ``epochs`` (default: the
        preset's), with ``callbacks`` added to the preset's stop rules."""
        kw = dict(self.fit_kwargs)
        kw["epochs"] = self.epochs if epochs is None else int(epochs)
        return Trainer(self.model, **kw, initial_epoch=initial_epoch, callbacks=[*self.callbacks, *callbacks],
                       augment=self.augment)

    def evaluate(self, trainer=None) -> dict:
        """Flat metrics of the current weights: ``train_loss``, ``val_accuracy``, ``test_loss``, ..."""
        kw = self.fit_kwargs
        sets = {}
        if trainer is not None:
            sets["train"] = (trainer.x, trainer.y)
            if trainer.val is not None:
                sets["val"] = trainer.val
        else:
            x, y = kw["x"], kw["y"]
            n_val = validation_count(len(x), kw.get("validation_split", 0.0))
            sets["train"] = (x[:len(x) - n_val], y[:len(y) - n_val])
            if n_val:
                sets["val"] = (x[len(x) - n_val:], y[len(y) - n_val:])
            elif kw.get("validation_data") is not None:
                sets["val"] = kw["validation_data"]
        ds = self.dataset
        if len(ds.x_test):
            sets["test"] = (ds.x_test, ds.y_test)
        out = {}
        for split, (x, y) in sets.items():
            if len(x) == 0:
                continue
            logs = self.model.evaluate(x, y, batch_size=max(256, kw["batch_size"]), return_dict=True)
            out.update({f"{split}_{k}": float(v) for k, v in logs.items()})
        return out

    def target_met(self, metrics: dict) -> bool | None:
        """None without a target, else whether ``metrics`` meet it."""
        if self.target is None:
            return None
        return self.target.check(metrics.get(self.target.metric))

    def render(self) -> str:
        """What the run made, as text for the terminal (reconstructions, samples); "" when nothing."""
        return ""

    def warm_up(self) -> float:
        """Compile the kernels on a copy of the model and two samples; returns the seconds it took.

        A copy, so the real model's weights, optimizer state and random streams are untouched and a run
        gives the same numbers with or without warming up.
        """
        t0 = time.perf_counter()
        with CompileAhead(self.model):  # on a cold cache, a helper process compiles from the other end
            self._model_warm_up().warm_up()
            if self.augment is not None:
                self.augment.samples(self.fit_kwargs["x"][0], 2)   # copies of the layers: the stream stays
        return time.perf_counter() - t0

    def helper_spec(self) -> str | None:
        """What a helper process needs to compile every kernel :meth:`warm_up` takes (None: it cannot)."""
        return self._model_warm_up().helper_spec()

    def _model_warm_up(self) -> ModelWarmUp:
        return ModelWarmUp(self.model, self.fit_kwargs["x"], self.fit_kwargs["y"])
