"""Generative scenarios in one place: autoencoders, GANs, text renderings, and their presets.

The models and trainers live in :mod:`.autoencoder` and :mod:`.gan`; this module re-exports them and adds
the plain-text views the headless runner prints (and a TUI can reuse): images as shade characters and
2-D samples as a density plot. It also builds the experiments of the generative presets:

* ``[data] target = "input"``: an autoencoder; the test split (and ``train_``/``val_`` losses) compare
  reconstructions with inputs. ``[anomaly] held_out_class = 4, percentile = 95`` leaves one class out of
  training and reports how well reconstruction error finds it.
* ``[gan]``: ``[[model.layers]]`` is the generator, ``[[gan.discriminator]]`` the discriminator, plus
  ``latent_dim``, ``k``, ``g_steps``, ``label_smoothing``, ``label_noise``, ``n_eval`` and ``d_optimizer``
  (default: the ``[training]`` optimizer, which the generator uses).
"""
from __future__ import annotations

import dataclasses
import time

import numpy as np

from . import optimizers, presets_memory
from .autoencoder import (BOTTLENECK, AnomalyReport, add_noise, anomaly_report, build_autoencoder,  # noqa: F401
                          build_conv_autoencoder, decode, holdout_split, latent_codes, mean_image_baseline,
                          per_sample_mse, reconstruction_errors, roc_auc)
from .callbacks import CallbackList
from .errors import NnplayError
from .gan import (GANBatchEnded, GANTrainer, build_gan, default_optimizer, metrics_for,  # noqa: F401
                  nearest_class_metrics, ring_metrics, swissroll_metrics)
from .layers.base import layer_from_config
from .layers.generative import GaussianNoise
from .model import Sequential
from .presets import Experiment

#: Darkest to brightest; one character per value level.
SHADES = " .:-=+*#%@"


def shade(values, lo: float = 0.0, hi: float = 1.0, ramp: str = SHADES) -> np.ndarray:
    """Map values in [lo, hi] to characters of ``ramp`` (an array of 1-char strings, same shape)."""
    v = (np.asarray(values, np.float64) - lo) / max(hi - lo, 1e-12)
    idx = np.clip(np.rint(v * (len(ramp) - 1)), 0, len(ramp) - 1).astype(int)
    return np.array(list(ramp))[idx]


def render_images(images, cols: int = 8, gap: int = 2, squash: bool = True, lo: float = 0.0, hi: float = 1.0,
                  ramp: str = SHADES) -> str:
    """Images (n, H, W[, 1]) side by side as text, ``cols`` per band.

    ``squash`` averages pairs of rows, so a square image looks square in a terminal (cells are about
    twice as tall as wide).
    """
    imgs = np.asarray(images, np.float64)
    if imgs.ndim == 4:
        imgs = imgs.mean(axis=-1)
    if imgs.ndim == 2:  # flat vectors: make them as square as possible
        side = int(round(np.sqrt(imgs.shape[1])))
        imgs = imgs.reshape(len(imgs), side, -1) if side * side == imgs.shape[1] else imgs[:, None, :]
    if squash and imgs.shape[1] > 1:
        h = imgs.shape[1] - imgs.shape[1] % 2
        imgs = 0.5 * (imgs[:, 0:h:2] + imgs[:, 1:h:2])
    bands = []
    for start in range(0, len(imgs), max(1, cols)):
        chunk = [shade(im, lo, hi, ramp) for im in imgs[start:start + cols]]
        rows = [(" " * gap).join("".join(c[r]) for c in chunk).rstrip() for r in range(chunk[0].shape[0])]
        bands.append("\n".join(rows))
    return "\n\n".join(bands)


def render_pairs(originals, reconstructions, cols: int = 8, **kwargs) -> str:
    """Originals above their reconstructions, ``cols`` pairs per band."""
    out = []
    for start in range(0, len(originals), cols):
        out.append("originals\n" + render_images(originals[start:start + cols], cols, **kwargs))
        out.append("reconstructions\n" + render_images(reconstructions[start:start + cols], cols, **kwargs))
    return "\n".join(out)


def render_points(points, width: int = 60, height: int = 24, domain=None, ramp: str = SHADES,
                  marks=None) -> str:
    """A 2-D point cloud as a density plot (darker = more points), framed, with ``marks`` (e.g. the ring's
    mode centres) drawn as ``o`` where no point fell. ``domain`` is (xmin, xmax, ymin, ymax) or (lo, hi)."""
    p = np.asarray(points, np.float64).reshape(len(points), -1)[:, :2]
    if domain is None:
        ref = p if marks is None else np.vstack([p, np.asarray(marks, np.float64)])
        lo, hi = np.nanmin(ref, axis=0), np.nanmax(ref, axis=0)
        pad = 0.05 * np.maximum(hi - lo, 1e-9)
        domain = (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1])
    x0, x1, y0, y1 = (float(v) for v in (tuple(domain) * 2 if len(domain) == 2 else domain))
    ok = np.isfinite(p).all(axis=1)
    cx = np.floor((p[ok, 0] - x0) / (x1 - x0) * width).astype(int)
    cy = np.floor((y1 - p[ok, 1]) / (y1 - y0) * height).astype(int)
    inside = (cx >= 0) & (cx < width) & (cy >= 0) & (cy < height)
    counts = np.zeros((height, width))
    np.add.at(counts, (cy[inside], cx[inside]), 1.0)
    # sqrt: a few stray samples stay visible next to a dense mode
    grid = shade(np.sqrt(counts), 0.0, max(np.sqrt(counts.max()), 1.0), ramp)
    grid[(counts > 0) & (grid == ramp[0])] = ramp[1]
    for mx, my in (np.asarray(marks, np.float64) if marks is not None else ()):
        i, j = int((y1 - my) / (y1 - y0) * height), int((mx - x0) / (x1 - x0) * width)
        if 0 <= i < height and 0 <= j < width and counts[i, j] == 0:
            grid[i, j] = "o"
    lines = ["+" + "-" * width + "+"] + ["|" + "".join(r) + "|" for r in grid] + ["+" + "-" * width + "+"]
    return "\n".join(lines)




# ------------------------------------------------------------------------------------------ presets
#: Names a generative preset's [target] may use after ``test_`` (see the experiments' ``evaluate``).
AUTOENCODER_METRICS = ("reconstruction_mse", "baseline_mse", "reconstruction_ratio", "denoised_mse", "noisy_mse",
                       "bottleneck_mean_abs", "bottleneck_active_fraction", "anomaly_auc", "anomaly_precision",
                       "anomaly_recall", "anomaly_threshold")
GAN_METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "modes_covered", "segments_covered", "classes_covered",
               "high_quality", "nn_distance")


def target_metric_names(gan: bool) -> list[str]:
    """Metric names (without the split prefix) a generative preset can target, for the preset validator."""
    return list(GAN_METRICS if gan else AUTOENCODER_METRICS)


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


def autoencoder_report(model, dataset, *, anomaly: dict | None = None, n_show: int = 4) -> tuple[dict, str]:
    """Final metrics and a text view for an autoencoder trained on ``autoencoder_dataset(...)``.

    Metrics: ``reconstruction_mse`` (test), ``baseline_mse`` (always answering the mean training sample),
    ``reconstruction_ratio``; ``denoised_mse`` vs ``noisy_mse`` when the first layer is GaussianNoise;
    ``bottleneck_mean_abs`` and ``bottleneck_active_fraction`` (|code| > 1e-3); with ``anomaly`` the
    ``anomaly_auc``, ``anomaly_precision``, ``anomaly_recall`` and ``anomaly_threshold``.
    """
    x_tr, x_te = dataset.x_train, dataset.x_test
    err = float(reconstruction_errors(model, x_te).mean())
    base = mean_image_baseline(x_tr, x_te)
    metrics = {"reconstruction_mse": err, "baseline_mse": base, "reconstruction_ratio": err / base}
    first = model.layers[0]
    if isinstance(first, GaussianNoise) and first.stddev > 0:  # denoising: noisy in, clean out
        noisy = add_noise(x_te, first.stddev, seed=1)
        metrics["denoised_mse"] = float(per_sample_mse(model.predict(noisy), x_te).mean())
        metrics["noisy_mse"] = float(per_sample_mse(noisy, x_te).mean())
    if any(layer.name == BOTTLENECK for layer in model.layers):
        codes = latent_codes(model, x_te)
        metrics["bottleneck_mean_abs"] = float(np.abs(codes).mean())
        metrics["bottleneck_active_fraction"] = float((np.abs(codes) > 1e-3).mean())
    show = x_te[:n_show]
    text = render_pairs(show, model.predict(show), cols=n_show) if show.ndim >= 3 else ""
    x_an = dataset.meta.get("x_anomalous")
    if anomaly and x_an is not None:
        rep = anomaly_report(model, x_te, x_an, anomaly.get("percentile", 95), x_train=x_tr)
        metrics.update({"anomaly_auc": rep.auc, "anomaly_precision": rep.precision, "anomaly_recall": rep.recall,
                        "anomaly_threshold": rep.threshold})
        worst = x_an[np.argsort(-reconstruction_errors(model, x_an))[:n_show]]
        text += f"\n{rep.describe()}"
        if worst.ndim >= 3:
            text += "\nheld-out samples with the largest errors\n" + render_images(worst, cols=n_show)
    return metrics, text


def gan_report(trainer: GANTrainer, dataset, n_show: int = 4) -> tuple[dict, str]:
    """Sample metrics and a text view: a 2-D density with the ring's modes marked, or a grid of images."""
    samples = trainer.generate()
    metrics = dict(trainer.sample_metrics(samples)) if trainer.sample_metrics else {}
    if samples.ndim == 2 and samples.shape[1] == 2:
        text = render_points(samples, marks=dataset.meta.get("modes"), domain=dataset.meta.get("domain"))
    else:
        text = render_images(samples[:2 * n_show], cols=n_show)
    return metrics, text


class AutoencoderExperiment(Experiment):
    """An :class:`Experiment` whose target is its input; ``evaluate`` adds the report's metrics as ``test_*``."""

    def evaluate(self, trainer=None) -> dict:
        out = super().evaluate(trainer)
        metrics, self.extra["text"] = autoencoder_report(self.model, self.dataset, anomaly=self.preset.anomaly)
        out.update({f"test_{k}": v for k, v in metrics.items()})
        return out

    def render(self) -> str:
        """Originals above reconstructions (and the anomaly summary), as text."""
        return self.extra.get("text") or autoencoder_report(self.model, self.dataset, anomaly=self.preset.anomaly)[1]


class GANExperiment(Experiment):
    """An :class:`Experiment` for a ``[gan]`` preset: ``model`` is the generator, ``trainer()`` a GANTrainer."""

    def trainer(self, callbacks=()):
        gan = self.extra.pop("fresh", None) or self.extra["make"]()
        gan.callbacks = CallbackList([*self.callbacks, *callbacks], model=gan.combined, trainer=gan)
        self.extra["gan"], self.model = gan, gan.generator
        return gan

    def evaluate(self, trainer=None) -> dict:
        """``train_`` + the last epoch's d_loss, g_loss, d_real, d_fake; ``test_`` + the sample metrics."""
        gan = trainer or self.extra.get("gan") or self.extra.get("fresh")
        last = {k: v[-1] for k, v in gan.history.history.items() if v}
        out = {f"train_{k}": float(last[k]) for k in ("d_loss", "g_loss", "d_real", "d_fake") if k in last}
        metrics, self.extra["text"] = gan_report(gan, self.dataset)
        out.update({f"test_{k}": v if isinstance(v, int) else float(v) for k, v in metrics.items()})
        return out

    def render(self) -> str:
        """Generated samples as text."""
        gan = self.extra.get("gan") or self.extra.get("fresh")
        return self.extra.get("text") or gan_report(gan, self.dataset)[1]

    def warm_up(self) -> float:
        """Compile the kernels on copies of both models (one step of each player on two samples)."""
        t0 = time.perf_counter()
        gan = self.extra.get("fresh") or self.extra["make"]()
        g = Sequential.from_config(gan.generator.get_config())
        d = Sequential.from_config(gan.discriminator.get_config())
        copy = GANTrainer(g, d, gan.x[:2], epochs=1, batch_size=2, n_eval=2, seed=0,
                          d_optimizer=optimizers.get(gan.discriminator.optimizer.get_config()),
                          g_optimizer=optimizers.get(gan.combined.optimizer.get_config()))
        copy.d_step(copy.x)
        copy.g_step(2)
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

    fresh = make()
    data_bytes = sum(int(a.nbytes) for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    n_slots = len(fresh.combined.optimizer._slot_names())
    g_est = presets_memory.estimate(fresh.generator.layers, latent, tr.batch_size, n_slots, 4, data_bytes)
    d_est = presets_memory.estimate(fresh.discriminator.layers, ds.input_shape, 2 * tr.batch_size, n_slots, 4, 0)
    est = presets_memory.MemoryEstimate(weights=g_est.weights + d_est.weights, optimizer=g_est.optimizer + d_est.optimizer,
                                        activations=g_est.activations + d_est.activations, data=data_bytes,
                                        params=fresh.generator.count_params() + fresh.discriminator.count_params())
    if check_memory:
        presets_memory.check(est, ctx.error)
    fit = {"x": ds.x_train, "epochs": tr.epochs, "batch_size": tr.batch_size}
    return GANExperiment(preset=p, dataset=ds, model=fresh.generator, callbacks=[], fit_kwargs=fit, target=p.target,
                         steps_per_epoch=fresh.steps, memory=est, extra={"fresh": fresh, "make": make})
