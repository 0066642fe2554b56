"""What a generative run made, as numbers and as text for the terminal: images as shade characters, 2-D
samples as a density plot, an autoencoder's reconstruction report, a GAN's sample report. ``nnplay run``
prints them after training."""
from __future__ import annotations

import numpy as np

from ..models.autoencoder import (BOTTLENECK, add_noise, anomaly_report, latent_codes, mean_image_baseline,
                                  per_sample_mse, reconstruction_errors)
from ..layers.stochastic import GaussianNoise

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


def gan_report(trainer, dataset, n_show: int = 4) -> tuple[dict, str]:
    """Sample metrics and a text view: a 2-D density with the ring's modes marked, or a grid of images."""
    samples = trainer.generate()
    metrics = dict(trainer.sample_metrics(samples)) if trainer.sample_metrics else {}
    if samples.ndim == 2 and samples.shape[1] == 2:
        text = render_points(samples, marks=dataset.meta.get("modes"), domain=dataset.meta.get("domain"))
    else:
        text = render_images(samples[:2 * n_show], cols=n_show)
    return metrics, text
