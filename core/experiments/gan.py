"""GAN experiments: ``[[model.layers]]`` is the generator, ``[[gan.discriminator]]`` the discriminator, plus
``latent_dim``, ``k``, ``g_steps``, ``label_smoothing``, ``label_noise``, ``n_eval`` and ``d_optimizer``
(default: the ``[training]`` optimizer, which the generator uses)."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import optimizers
from ..errors import NnplayError
from ..layers.base import layer_from_config
from ..models import Sequential
from ..models.compile_helper import describe_gan, warm_gan
from ..models.gan import GANTrainer, metrics_for
from ..training.callbacks import CallbackList
from .base import Experiment
from .memory import MemoryEstimate, check, estimate
from .reports import gan_report


@dataclass
class GANExperiment(Experiment):
    """An :class:`Experiment` for a ``[gan]`` preset: ``model`` is the generator, ``trainer()`` a
    :class:`~nnplay.core.models.gan.GANTrainer` that also owns the discriminator."""

    kind = "gan"
    gan: GANTrainer | None = None                  #: the players of the current (or next) run
    make_players: Callable[[], GANTrainer] | None = field(default=None, repr=False)  #: fresh, seeded players
    text: str = field(default="", repr=False)      #: the last report as text (see :meth:`render`)
    _handed_out: bool = field(default=False, repr=False)

    @property
    def input_shape(self) -> tuple:
        return tuple(self.gan.latent_shape)

    def trainer(self, *, initial_epoch: int = 0, epochs: int | None = None, callbacks=()) -> GANTrainer:
        """The GAN trainer: the same two players continue from ``initial_epoch`` > 0; a run from 0 gets
        fresh players (the ones built with the experiment, the first time)."""
        epochs = self.epochs if epochs is None else int(epochs)
        if not (initial_epoch and self._handed_out):
            if self._handed_out:
                self.gan = self.make_players()
            self._handed_out = True
        self.gan.continue_run(initial_epoch, epochs)
        self.gan.callbacks = CallbackList([*self.callbacks, *callbacks], model=self.gan.combined, trainer=self.gan)
        self.model = self.gan.generator
        return self.gan

    def evaluate(self, trainer=None) -> dict:
        """``train_`` + the last epoch's d_loss, g_loss, d_real, d_fake; ``test_`` + the sample metrics."""
        gan = trainer or self.gan
        last = {k: v[-1] for k, v in gan.history.history.items() if v}
        out = {f"train_{k}": float(last[k]) for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in last}
        metrics, self.text = gan_report(gan, self.dataset)
        out.update({f"test_{k}": v if isinstance(v, int) else float(v) for k, v in metrics.items()})
        return out

    def render(self) -> str:
        """Generated samples as text."""
        return self.text or gan_report(self.gan, self.dataset)[1]

    def helper_spec(self) -> str | None:
        """What a helper process needs to warm both players (:func:`~..models.compile_helper.warm_gan`), so
        that on a cold cache they compile there instead of beside the NumPy training in this process."""
        try:
            return json.dumps({"gan": describe_gan(self.gan)})
        except (TypeError, ValueError):     # a config JSON cannot hold: this thread compiles instead
            return None

    def warm_up(self) -> float:
        """Compile the kernels on copies of both models (one step of each player on two samples)."""
        t0 = time.perf_counter()
        warm_gan(describe_gan(self.gan))
        return time.perf_counter() - t0


def gan_experiment(p, ds, *, check_memory: bool = True) -> GANExperiment:
    """Build a ``[gan]`` preset's models and trainer (nothing trains yet); mistakes raise located errors."""
    gan, tr, ctx = dict(p.gan), p.training, p.context
    if p.data.target is not None:
        raise ctx.error(("data", "target"), "a GAN learns from the data itself; remove data.target")
    latent = (int(gan["latent_dim"]),)

    def stack(cfgs, where, name, seed):
        layers = []
        for i, cfg in enumerate(cfgs):
            try:
                layers.append(layer_from_config(dict(cfg)))
            except NnplayError as exc:
                raise ctx.error(where + (i,), str(exc)) from None
        return Sequential(layers, name=name, seed=seed)

    d_opt = dict(gan.get("d_optimizer") or tr.optimizer)

    def make() -> GANTrainer:
        g = stack(p.model.layers, ("model", "layers"), "generator", p.seed)
        d = stack(gan["discriminator"], ("gan", "discriminator"), "discriminator", p.seed + 1)
        for model, shape, where in ((g, latent, ("model",)), (d, ds.input_shape, ("gan", "discriminator"))):
            try:
                model.build(shape)
            except NnplayError as exc:
                raise ctx.error(where, str(exc)) from None
        try:
            return GANTrainer(g, d, ds.x_train, epochs=tr.epochs, batch_size=tr.batch_size,
                              k=int(gan.get("k", 1)), g_steps=int(gan.get("g_steps", 1)),
                              label_smoothing=float(gan.get("label_smoothing", 0.1)),
                              label_noise=float(gan.get("label_noise", 0.0)), n_eval=int(gan.get("n_eval", 1000)),
                              d_optimizer=optimizers.get(dict(d_opt)), g_optimizer=optimizers.get(dict(tr.optimizer)),
                              loss=tr.loss, sample_metrics=metrics_for(ds), seed=p.seed)
        except NnplayError as exc:
            raise ctx.error(("gan",), str(exc)) from None

    players = make()
    data_bytes = sum(int(a.nbytes) for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    n_slots = len(players.combined.optimizer._slot_names())
    g_est = estimate(players.generator.layers, latent, tr.batch_size, n_slots, 4, data_bytes)
    d_est = estimate(players.discriminator.layers, ds.input_shape, 2 * tr.batch_size, n_slots, 4, 0)
    est = MemoryEstimate(weights=g_est.weights + d_est.weights, optimizer=g_est.optimizer + d_est.optimizer,
                         activations=g_est.activations + d_est.activations, data=data_bytes,
                         params=players.generator.count_params() + players.discriminator.count_params())
    if check_memory:
        check(est, ctx.error)
    fit = {"x": ds.x_train, "epochs": tr.epochs, "batch_size": tr.batch_size}
    return GANExperiment(preset=p, dataset=ds, model=players.generator, callbacks=[], fit_kwargs=fit,
                         target=p.target, steps_per_epoch=players.steps, memory=est, gan=players, make_players=make)
