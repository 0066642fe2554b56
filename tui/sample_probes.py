"""What the output view shows for generative models, computed in the training worker (no Textual).

A GAN: samples its generator makes from a *fixed* noise batch (the trainer's evaluation batch), so each
refresh shows the same latent points moving, drawn over the real data for 2-D sets, as a grid for images.
An autoencoder: the codes of test samples at its ``"bottleneck"`` layer, as points in the plane (projected
to 2-D with PCA when the code has more numbers), with each sample's class, and for anomaly detection how
well the reconstruction error separates the held-out class.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnplay.core.models.autoencoder import BOTTLENECK, latent_codes, reconstruction_errors, roc_auc
from nnplay.core.errors import NnplayError

REAL_POINTS = 1000      #: real 2-D samples drawn under a GAN's samples
GAN_IMAGES = 16         #: generated images computed for the sample grid (the view shows what fits)
LATENT_SAMPLES = 600    #: test samples placed in the latent scatter
ANOMALY_SAMPLES = 500   #: normal and held-out samples scored for the separation line


@dataclass(frozen=True)
class GanSamples:
    """A GAN's generated samples for the fixed noise batch, and what to draw them against."""

    n_z: int                                     #: fixed noise vectors used
    points: np.ndarray | None = None             #: (n, 2) generated points (2-D data)
    real: np.ndarray | None = None               #: (m, 2) real points
    domain: tuple[float, float] | None = None    #: the plane shown, the same range on both axes
    images: tuple[np.ndarray, ...] = ()          #: generated images (H, W), values in [0, 1]
    metrics: dict = field(default_factory=dict)  #: sample metrics of ``points`` (modes_covered, ...)
    n_modes: int | None = None                   #: how many modes ``modes_covered`` counts out of


@dataclass(frozen=True)
class Latent:
    """Test samples' bottleneck codes as points in the plane, with their classes."""

    points: np.ndarray                           #: (n, 2)
    labels: np.ndarray                           #: (n,) class of each point
    bounds: tuple[float, float, float, float]    #: x0, x1, y0, y1 of the picture
    dims: int                                    #: numbers in one code
    explained: float = 1.0                       #: variance the two PCA axes keep (1.0 when dims <= 2)
    held_out: int | None = None                  #: anomaly detection: the class left out of training
    separation: str = ""                         #: anomaly detection: how the error separates it


# ------------------------------------------------------------------ GANs
def gan_samples(gan, ds) -> GanSamples:
    """Generated samples from the trainer's fixed evaluation noise (never its random stream)."""
    z = gan.eval_z
    shape = tuple(ds.input_shape)
    if shape == (2,) and "domain" in ds.meta:
        pts = np.asarray(gan.generate(z=z), np.float64)
        fn = gan.sample_metrics
        metrics = dict(fn(pts)) if fn is not None and np.isfinite(pts).all() else {}
        n_modes = getattr(fn, "n_modes", None) or ds.meta.get("n_modes")
        return GanSamples(len(z), points=pts, real=ds.x_train[:REAL_POINTS], domain=tuple(ds.meta["domain"]),
                          metrics=metrics, n_modes=n_modes)
    if len(shape) == 3:
        imgs = np.asarray(gan.generate(z=z[:GAN_IMAGES]), np.float32).mean(axis=-1)
        return GanSamples(len(imgs), images=tuple(imgs))
    return GanSamples(0)


# ------------------------------------------------------------------ autoencoders
def has_bottleneck(model) -> bool:
    try:
        model.get_layer(BOTTLENECK)
    except NnplayError:
        return False
    return True


def pca_2d(codes: np.ndarray) -> tuple[np.ndarray, float]:
    """Project (n, d) codes onto their two main axes; returns the points and the variance share kept.

    Each axis is signed so that its largest loading is positive, so the picture does not flip over
    between refreshes when the codes barely change.
    """
    centred = codes - codes.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes = axes * np.where(signs == 0, 1.0, signs)[:, None]
    var = s ** 2
    kept = float(var[:2].sum() / var.sum()) if var.sum() > 0 else 1.0
    pts = centred @ axes.T
    if pts.shape[1] < 2:
        pts = np.column_stack([pts, np.zeros(len(pts))])
    return pts, kept


def _bounds(pts: np.ndarray) -> tuple[float, float, float, float]:
    """A frame holding nearly all points (outliers may fall off the edge rather than squash the rest)."""
    lo, hi = np.percentile(pts, 1, axis=0), np.percentile(pts, 99, axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - 0.08 * span, hi + 0.08 * span
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def held_out_class(ds) -> int | None:
    """The class an anomaly-detection dataset left out of training (None for other datasets)."""
    x_an, labels = ds.meta.get("x_anomalous"), ds.meta.get("labels_train")
    if x_an is None or labels is None or not ds.n_classes:
        return None
    missing = sorted(set(range(int(ds.n_classes))) - set(np.unique(labels).tolist()))
    return missing[0] if len(missing) == 1 else None


def separation(model, ds, held: int) -> str:
    """How well the reconstruction error tells the held-out class from normal test samples."""
    x_an = ds.meta["x_anomalous"][:ANOMALY_SAMPLES]
    if not len(x_an) or not ds.n_test:
        return ""
    err_n = reconstruction_errors(model, ds.x_test[:ANOMALY_SAMPLES])
    err_a = reconstruction_errors(model, x_an)
    if not (np.isfinite(err_n).all() and np.isfinite(err_a).all()):
        return ""
    auc = roc_auc(err_n, err_a)
    return (f"held-out {held}s: ROC AUC {auc:.2f} (reconstruction error as the anomaly score; 0.5 = chance, "
            f"1 = perfect), mean error {err_n.mean():.4f} normal vs {err_a.mean():.4f} held-out")


def latent(model, ds) -> Latent | None:
    """The latent scatter of an autoencoder (a model with a ``"bottleneck"`` layer on labelled data)."""
    labels = ds.meta.get("labels_test") if ds.n_test else ds.meta.get("labels_train")
    if labels is None or not has_bottleneck(model):
        return None
    x = (ds.x_test if ds.n_test else ds.x_train)[:LATENT_SAMPLES]
    y = np.asarray(labels[:LATENT_SAMPLES]).astype(np.int64).reshape(-1)
    held = held_out_class(ds)
    if held is not None:        # the held-out samples join the picture, in their own class
        x_an = ds.meta["x_anomalous"][:LATENT_SAMPLES // 8]
        x, y = np.concatenate([x, x_an]), np.concatenate([y, np.full(len(x_an), held, np.int64)])
    codes = np.asarray(latent_codes(model, x), np.float64).reshape(len(x), -1)
    ok = np.isfinite(codes).all(axis=1)
    codes, y = codes[ok], y[ok]
    if not len(codes):
        return None
    dims = codes.shape[1]
    if dims == 2:
        pts, kept = codes, 1.0
    elif dims == 1:
        pts, kept = np.column_stack([codes[:, 0], np.zeros(len(codes))]), 1.0
    else:
        pts, kept = pca_2d(codes)
    sep = separation(model, ds, held) if held is not None else ""
    return Latent(pts, y, _bounds(pts), dims, kept, held, sep)
