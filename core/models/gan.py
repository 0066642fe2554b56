"""GANs: a generator and a discriminator (two Sequential models) trained alternately.

    gen = Sequential([Dense(128, activation="relu", input_shape=(8,)), Dense(2)])
    disc = Sequential([Dense(128, activation="relu", input_shape=(2,)), Dense(1, activation="sigmoid")])
    trainer = GANTrainer(gen, disc, x_real, epochs=200, k=1, label_smoothing=0.1,
                         sample_metrics=metrics_for(load("ring8")))
    for event in trainer.run(): ...          # the same events (and requests) as Trainer

The recipe is the Keras tutorials' one: the discriminator is compiled on its own, then frozen
(``trainable = False``) and stacked after the generator in a ``combined`` model compiled with the same
loss, so a generator step moves only the generator's weights, through the frozen discriminator. Both use
Adam(2e-4, beta_1=0.5) unless given optimizers; the discriminator learns on real images labelled
``1 - label_smoothing`` (one-sided smoothing, optionally jittered by ``label_noise``) and fakes labelled 0.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .. import optimizers as optimizers_mod
from .. import tiers
from ..errors import NnplayError
from ..layers.core import Input
from ..seeding import resolve_seed
from ..training import callbacks as callbacks_mod
from ..training.trainer import non_finite_output
from ..training import (BatchEnded, Diverged, EpochEnded, Event, Finished, History, TrainingControls,
                        TrainingStarted)
from .sequential import Sequential


@dataclass(frozen=True)
class GANBatchEnded(BatchEnded):
    """A :class:`BatchEnded` (``loss`` is the generator's running loss) with both players' numbers."""

    d_loss: float = math.nan     #: discriminator loss, mean over this batch's k steps
    g_loss: float = math.nan     #: generator loss of this batch
    d_real: float = math.nan     #: mean D(x) on real samples (1 = sure it is real)
    d_fake: float = math.nan     #: mean D(G(z)) on generated samples


def default_optimizer(learning_rate: float = 2e-4):
    """Adam(learning_rate, beta_1=0.5): the DCGAN setting the tutorials use for both players."""
    return optimizers_mod.Adam(learning_rate=learning_rate, beta_1=0.5)


def build_gan(generator: Sequential, discriminator: Sequential, *, latent_dim: int | None = None,
              d_optimizer=None, g_optimizer=None, loss="binary_crossentropy") -> Sequential:
    """Compile D (unless compiled) and ``combined = [Input(latent), G, D]``.

    Returns the combined model. As in Keras 3, ``trainable`` is read at every step, so whoever trains them
    freezes D for the combined step and unfreezes it for D's own (:class:`GANTrainer` does); the tutorials'
    Keras 2 habit of freezing D once before compiling the combined model would leave D untrained.
    """
    if not isinstance(generator, Sequential) or not isinstance(discriminator, Sequential):
        raise NnplayError("build_gan needs two Sequential models: the generator and the discriminator")
    if latent_dim is None:
        if generator._input_shape is None:
            raise NnplayError("the generator does not know its latent size: give its first layer "
                              "input_shape=(latent_dim,) or pass latent_dim=...")
        latent_dim = int(np.prod(generator._input_shape))
    latent_shape = tuple(generator._input_shape or (int(latent_dim),))
    if not generator.built:
        generator.build(latent_shape)
    if not discriminator.built:
        discriminator.build()
    if tuple(generator.output_shape) != tuple(discriminator._input_shape):
        raise NnplayError(f"the generator makes samples of shape {tuple(generator.output_shape)} but the "
                          f"discriminator takes {tuple(discriminator._input_shape)}; make them match")
    for model, role in ((generator, "generator"), (discriminator, "discriminator")):
        if model.name.startswith("sequential"):   # a default name: say which player it is
            model.name = role
    if generator.name == discriminator.name:
        raise NnplayError(f"the generator and the discriminator are both named {generator.name!r}; rename one")
    if not discriminator.compiled:
        discriminator.compile(optimizer=d_optimizer or default_optimizer(), loss=loss)
    was = discriminator.trainable
    discriminator.trainable = False
    try:
        combined = Sequential([Input(shape=latent_shape), generator, discriminator], name="gan",
                              seed=generator.seed, dtype=generator.model_dtype)
        combined.compile(optimizer=g_optimizer or default_optimizer(), loss=loss)
    finally:
        discriminator.trainable = was
    return combined


#: The batch the generator's samples are drawn in after every epoch (the fixed evaluation points).
SAMPLE_BATCH = 512


class GANTrainer(TrainingControls):
    """Alternate ``k`` discriminator steps and ``g_steps`` generator steps; iterate :meth:`run`.

    One *batch* is k discriminator updates (each on ``batch_size`` real + ``batch_size`` fake samples) and
    ``g_steps`` generator updates; one *epoch* is one pass over the real data. Requests (pause, step,
    stop, set_learning_rate, which sets both players' rates) are those of :class:`~nnplay.core.training.Trainer`.

    Per epoch ``EpochEnded.logs`` holds ``d_loss``, ``g_loss``, ``d_real``, ``d_fake`` (epoch means) and
    whatever ``sample_metrics(samples)`` returns for ``n_eval`` samples drawn from a fixed latent batch
    (e.g. ``modes_covered``, ``high_quality``; see :func:`metrics_for`).
    """

    def __init__(self, generator: Sequential, discriminator: Sequential, x_real, latent_dim: int | None = None,
                 epochs: int = 100, batch_size: int = 64, k: int = 1, label_smoothing: float = 0.1, *,
                 label_noise: float = 0.0, g_steps: int = 1, d_optimizer=None, g_optimizer=None,
                 loss="binary_crossentropy", sample_metrics: Callable[[np.ndarray], dict] | None = None,
                 n_eval: int = 1000, seed: int | None = None, callbacks=None, snapshot: bool = True,
                 initial_epoch: int = 0):
        for field, value in (("epochs", epochs), ("initial_epoch", initial_epoch), ("batch_size", batch_size),
                             ("k", k), ("g_steps", g_steps), ("n_eval", n_eval)):
            lowest = 0 if field in ("epochs", "initial_epoch") else 1
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lowest:
                raise NnplayError(f"GANTrainer: {field} must be a whole number >= {lowest}, got {field}={value!r}")
        if not 0.0 <= float(label_smoothing) < 0.5:
            raise NnplayError(f"GANTrainer: label_smoothing must be in [0, 0.5), got {label_smoothing!r}")
        if not 0.0 <= float(label_noise) < 0.5:
            raise NnplayError(f"GANTrainer: label_noise must be in [0, 0.5), got {label_noise!r}")
        self.generator, self.discriminator = generator, discriminator
        self.combined = build_gan(generator, discriminator, latent_dim=latent_dim, d_optimizer=d_optimizer,
                                  g_optimizer=g_optimizer, loss=loss)
        self.latent_shape = tuple(generator._input_shape)
        x, _ = discriminator.check_data(x_real, what="x_real")
        if len(x) == 0:
            raise NnplayError("GANTrainer: x_real is empty; give at least one real sample")
        self.x = x
        self.epochs, self.k, self.g_steps = int(epochs), int(k), int(g_steps)
        #: Epochs already trained: set it (and ``epochs``) before another ``run()`` to keep training the same
        #: players for more epochs, numbered on from there (as ``Trainer(initial_epoch=...)`` does).
        self.initial_epoch = int(initial_epoch)
        self.batch_size = int(min(batch_size, len(x)))
        self.steps = max(1, len(x) // (self.batch_size * self.k))
        self.label_smoothing, self.label_noise = float(label_smoothing), float(label_noise)
        self.sample_metrics = sample_metrics
        self.rng = np.random.default_rng(resolve_seed(seed if seed is not None else generator.seed))
        dt = discriminator.model_dtype
        #: Fixed latent points: samples shown after every epoch come from the same z, so views animate smoothly.
        self.eval_z = self.rng.standard_normal((int(n_eval), *self.latent_shape)).astype(dt)
        self.history = History()
        self.model = self.combined  # what callbacks (and code written for Trainer) see
        self.callbacks = callbacks_mod.CallbackList(callbacks or [], model=self.combined, trainer=self)
        self.snapshot = snapshot
        self._init_controls()

    def continue_run(self, initial_epoch: int, epochs: int) -> None:
        """Make the next :meth:`run` keep training the same players from ``initial_epoch`` up to ``epochs``
        (weights, optimizer state, history and the fixed evaluation batch carry on; requests start afresh)."""
        if not 0 <= int(initial_epoch) <= int(epochs):
            raise NnplayError(f"GANTrainer.continue_run: need 0 <= initial_epoch <= epochs, got "
                              f"initial_epoch={initial_epoch!r}, epochs={epochs!r}")
        self.initial_epoch, self.epochs = int(initial_epoch), int(epochs)
        self._init_controls()

    # -------------------------------------------------------------- sampling
    def noise(self, n: int) -> np.ndarray:
        return self.rng.standard_normal((n, *self.latent_shape)).astype(self.discriminator.model_dtype)

    def generate(self, n: int | None = None, z=None) -> np.ndarray:
        """Generator samples (inference mode) for ``z``, or for the first ``n`` fixed evaluation points."""
        if z is None:
            z = self.eval_z if n is None else (self.eval_z[:n] if n <= len(self.eval_z) else self.noise(n))
        return self.generator.predict(z, batch_size=SAMPLE_BATCH)

    def evaluate(self) -> dict:
        """``sample_metrics`` of the fixed evaluation samples ({} without metrics)."""
        return dict(self.sample_metrics(self.generate())) if self.sample_metrics else {}

    # -------------------------------------------------------------- one step of each player
    def _labels(self, n: int, real: bool) -> np.ndarray:
        shape = (n, *self.discriminator.output_shape)
        dt = self.discriminator.model_dtype
        y = np.full(shape, 1.0 - self.label_smoothing if real else 0.0, dt)
        if self.label_noise:
            jitter = self.rng.uniform(0.0, self.label_noise, shape).astype(dt)
            y = y - jitter if real else y + jitter
        return y

    def d_step(self, x_batch: np.ndarray):
        """One discriminator update on real ``x_batch`` plus as many fakes. Returns (loss, D(real), D(fake))."""
        n = len(x_batch)
        fake = self.generator.forward(self.noise(n), True)
        x = np.concatenate([x_batch, fake.astype(x_batch.dtype, copy=False)])
        y = np.concatenate([self._labels(n, True), self._labels(n, False)])
        self.discriminator.trainable = True
        loss, out = self.discriminator.train_step(x, y)
        return float(loss), float(np.mean(out[:n])), float(np.mean(out[n:]))

    def g_step(self, n: int):
        """One generator update through the frozen discriminator, targets "real". Returns (loss, D(G(z)))."""
        d = self.discriminator
        y = np.ones((n, *d.output_shape), d.model_dtype)
        d.trainable = False                      # the generator's step moves the generator only
        loss, out = self.combined.train_step(self.noise(n), y)
        return float(loss), float(np.mean(out))

    # -------------------------------------------------------------- the loop
    def run(self) -> Iterator[Event]:
        g_opt = self.combined.optimizer
        x, bs, n = self.x, self.batch_size, len(self.x)
        cbs = self.callbacks
        self.combined.stop_training = False
        cbs.on_train_begin()
        yield TrainingStarted(self.epochs, self.steps, n, 0, self.initial_epoch)
        reason, logs, message, tier = "completed", {}, "", tiers.current()
        for epoch in range(self.initial_epoch, self.epochs):
            cbs.on_epoch_begin(epoch)
            good = (self.discriminator.P.copy(), self.combined.P.copy()) if self.snapshot else None
            order = self.rng.permutation(n)
            sums = dict.fromkeys(("d_loss", "g_loss", "d_real", "d_fake"), 0.0)
            done, seen, t0 = 0, 0, time.perf_counter()
            for b in range(self.steps):
                if (yield from self._before_batch(epoch, b)):
                    break
                lr = g_opt.current_learning_rate()
                d, g = np.zeros(3), np.zeros(2)
                tier = self._batch_tier()
                with tiers.running(tier):
                    for j in range(self.k):
                        idx = order[(b * self.k + j) * bs:(b * self.k + j + 1) * bs]
                        d += self.d_step(x[idx])
                        seen += len(idx)
                    for _ in range(self.g_steps):
                        g += self.g_step(bs)
                d /= self.k
                g /= self.g_steps
                if not (math.isfinite(d[0]) and math.isfinite(g[0])):
                    with tiers.running(tier):
                        event = self._diverged(epoch, b, d[0], g[0], lr, good)
                    yield event
                    reason, message = "diverged", event.message
                    break
                done += 1
                for key, value in zip(("d_loss", "d_real", "d_fake", "g_loss"), (*d, g[0])):
                    sums[key] += float(value)
                cbs.on_batch_end(b, float(g[0]))
                yield GANBatchEnded(epoch, b, self.steps, sums["g_loss"] / done, float(g[0]), seen,
                                    time.perf_counter() - t0, lr, g_opt.iterations, d_loss=float(d[0]),
                                    g_loss=float(g[0]), d_real=float(d[1]), d_fake=float(d[2]), tier=tier)
                self._after_batch()
            if reason == "diverged" or (self._stop and done < self.steps):
                reason = reason if reason == "diverged" else "stopped"
                break
            logs = {key: value / max(done, 1) for key, value in sums.items()}
            with tiers.running(tier):
                logs.update(self.evaluate())
            seconds = time.perf_counter() - t0
            self.history.append(epoch, logs)
            cbs.on_epoch_end(epoch, logs)
            yield EpochEnded(epoch, self.epochs, dict(logs), seconds, g_opt.current_learning_rate(),
                             seen / seconds if seconds > 0 else float("inf"), tier)
            if self.combined.stop_training:
                reason, message = "early_stopped", getattr(self.combined, "stop_reason", "") or ""
                break
            if self._stop:
                reason = "stopped"
                break
        cbs.on_train_end()
        yield Finished(reason, len(self.history.epoch), dict(logs), self.history, message, dict(self.tier_steps))

    def _optimizers(self) -> tuple:
        """Both players learn at the live rate (the generator's is the one reported)."""
        return (self.combined.optimizer, self.discriminator.optimizer)

    def _diverged(self, epoch, batch, d_loss, g_loss, lr, good) -> Diverged:
        who = "discriminator" if not math.isfinite(d_loss) else "generator"
        model = self.discriminator if who == "discriminator" else self.combined
        culprit = next(((o.name, n) for o, n in model._slots
                        if not (np.isfinite(o.params[n]).all() and np.isfinite(o.grads[n]).all())), (None, None))
        if culprit == (None, None):
            culprit = non_finite_output(model)
        where = f" in layer {culprit[0]!r} ({culprit[1]})" if culprit[0] else ""
        restored = ""
        if good is not None:
            self.discriminator.P[...] = good[0]
            self.combined.P[...] = good[1]
            restored = f"; weights restored to the start of epoch {epoch + 1}"
        loss = d_loss if who == "discriminator" else g_loss
        msg = (f"GAN training diverged at epoch {epoch + 1}, batch {batch + 1}: the {who} loss became {loss}"
               f"{where}{restored}. Try a lower learning rate (now {lr:g}), more label smoothing, or fewer "
               f"discriminator steps per generator step (k)")
        return Diverged(epoch, batch, float(loss), culprit[0], culprit[1], msg)


# ------------------------------------------------------------------------------------------ sample quality
def ring_metrics(centres, std: float, n_std: float = 3.0, min_fraction: float = 0.02):
    """Mode coverage for Gaussian-mixture toys (ring8): a callable ``samples -> dict``.

    A sample is *high quality* when it lies within ``n_std`` standard deviations of some mode's centre; a
    mode is *covered* when at least ``min_fraction`` of all samples are high-quality samples of that mode
    (VEEGAN's protocol: 3 std, 50 of 2500 samples). Mode collapse shows as ``modes_covered`` dropping.
    """
    centres = np.asarray(centres, np.float64)
    radius = n_std * float(std)

    def metrics(samples: np.ndarray) -> dict:
        s = np.asarray(samples, np.float64).reshape(len(samples), -1)
        dist = np.sqrt(((s[:, None, :] - centres[None]) ** 2).sum(-1))
        nearest = dist.argmin(1)
        good = dist[np.arange(len(s)), nearest] <= radius
        counts = np.bincount(nearest[good], minlength=len(centres))
        return {"modes_covered": int((counts >= min_fraction * len(s)).sum()),
                "high_quality": float(good.mean()) if len(s) else 0.0}

    metrics.n_modes = len(centres)
    return metrics


def swissroll_metrics(noise: float = 0.05, n_std: float = 3.0, segments: int = 20, min_fraction: float = 0.01):
    """Quality and coverage for swissroll2d: ``high_quality`` is the fraction of samples within ``n_std``
    noise std of the curve; ``segments_covered`` counts the equal-``t`` pieces of the curve (of
    ``segments``) that hold at least ``min_fraction`` of the samples as high-quality samples."""
    t = np.linspace(1.5 * np.pi, 4.5 * np.pi, 2000)
    curve = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 10.0
    radius = n_std * max(float(noise), 1e-3)

    def metrics(samples: np.ndarray) -> dict:
        s = np.asarray(samples, np.float64).reshape(len(samples), -1)
        dist = np.sqrt(((s[:, None, :] - curve[None]) ** 2).sum(-1))
        nearest = dist.argmin(1)
        good = dist[np.arange(len(s)), nearest] <= radius
        seg = (nearest[good] * segments) // len(curve)
        counts = np.bincount(seg, minlength=segments)
        return {"segments_covered": int((counts >= min_fraction * len(s)).sum()),
                "high_quality": float(good.mean()) if len(s) else 0.0}

    return metrics


def nearest_class_metrics(x_ref, y_ref, n_classes: int, x_check=None, min_fraction: float = 0.02):
    """For image GANs: give each sample the class of its nearest real image (Euclidean).

    ``classes_covered`` counts classes that get at least ``min_fraction`` of the samples (mode collapse
    shows as few classes); ``high_quality`` is the fraction of samples at least as close to the real set as
    95% of held-out real images ``x_check`` are (without ``x_check``: the 95th percentile of real-to-real
    distances inside ``x_ref``); ``nn_distance`` is the mean per-pixel RMS distance to the nearest image.
    """
    ref = np.asarray(x_ref, np.float64).reshape(len(x_ref), -1)
    labels = np.asarray(y_ref).astype(np.int64)
    ref_sq = (ref ** 2).sum(1)

    def nearest(s):
        d2 = (s ** 2).sum(1)[:, None] - 2.0 * s @ ref.T + ref_sq[None]
        return np.maximum(d2, 0.0)

    if x_check is not None:
        chk = np.asarray(x_check, np.float64).reshape(len(x_check), -1)
        cut = np.percentile(np.sqrt(nearest(chk).min(1)), 95)
    else:
        d2 = nearest(ref[:1000])
        d2[np.arange(len(d2)), np.arange(len(d2))] = np.inf
        cut = np.percentile(np.sqrt(d2.min(1)), 95)

    def metrics(samples: np.ndarray) -> dict:
        s = np.asarray(samples, np.float64).reshape(len(samples), -1)
        d2 = nearest(s)
        idx = d2.argmin(1)
        dist = np.sqrt(d2[np.arange(len(s)), idx])
        counts = np.bincount(labels[idx], minlength=n_classes)
        return {"classes_covered": int((counts >= min_fraction * len(s)).sum()),
                "high_quality": float((dist <= cut).mean()),
                "nn_distance": float(dist.mean() / math.sqrt(s.shape[1]))}

    return metrics


def metrics_for(dataset, limit: int = 4000) -> Callable[[np.ndarray], dict] | None:
    """The sample metrics that suit a built-in dataset (ring8, swissroll2d, labelled images), else None."""
    name, p = dataset.name, dataset.params or {}
    if name == "ring8":
        return ring_metrics(dataset.meta["modes"], p.get("std", 0.05))
    if name == "swissroll2d":
        return swissroll_metrics(p.get("noise", 0.05))
    if dataset.meta.get("image") and dataset.n_classes:
        x_check = dataset.x_test[:500] if len(dataset.x_test) else None
        return nearest_class_metrics(dataset.x_train[:limit], dataset.y_train[:limit], dataset.n_classes, x_check)
    return None
