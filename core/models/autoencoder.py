"""Autoencoders: models whose target is their input, and what to measure on them.

    model = build_autoencoder((16, 16, 1), hidden=(128,), latent_dim=32)          # vanilla
    model = build_autoencoder((16, 16, 1), noise_stddev=0.3)                       # denoising
    model = build_autoencoder((16, 16, 1), sparsity_l1=1e-4)                       # sparse
    model = build_autoencoder((16, 16, 1), latent_dim=2, variational=True, beta=0.005)  # VAE
    model.compile(optimizer="adam", loss="mse"); model.fit(x, x, epochs=10)
    codes = model.predict_until(x, "bottleneck")                                   # the latent view
    report = anomaly_report(model, x_normal, x_anomalous, percentile=95, x_train=x)

Every builder names the latent layer ``"bottleneck"``; in a VAE it is the :class:`Sampling` layer, whose
inference output is the latent mean. Errors here are per-sample mean squared errors over all pixels.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..errors import NnplayError
from ..layers.base import layer_from_config
from ..layers.core import Dense, Flatten, Reshape
from ..layers.stochastic import GaussianNoise, Sampling
from .sequential import Sequential

BOTTLENECK = "bottleneck"


# ------------------------------------------------------------------------------------------ builders
def build_autoencoder(input_shape, hidden=(128,), latent_dim: int = 32, *, noise_stddev: float = 0.0,
                      sparsity_l1: float = 0.0, variational: bool = False, beta: float = 1.0,
                      activation: str = "relu", bottleneck_activation: str | None = "relu",
                      output_activation: str = "sigmoid", seed: int | None = None,
                      name: str = "autoencoder") -> Sequential:
    """A dense autoencoder: [GaussianNoise] -> [Flatten] -> Dense(hidden...) -> bottleneck ->
    Dense(reversed hidden...) -> Dense(n_in, output_activation) -> [Reshape].

    Args:
        noise_stddev: > 0 makes it denoising (GaussianNoise first: noisy inputs in training, clean targets).
        sparsity_l1: > 0 puts an L1 activity penalty on the bottleneck (a sparse autoencoder).
        variational: the bottleneck becomes Dense(2 * latent_dim) + Sampling(beta) (a VAE).
        bottleneck_activation: the code's activation (ignored by a VAE, whose mean and log-variance are linear).
    """
    input_shape = tuple(int(s) for s in np.atleast_1d(input_shape))
    n_in = int(np.prod(input_shape))
    layers = []
    if noise_stddev:
        layers.append(GaussianNoise(noise_stddev, input_shape=input_shape))
    if len(input_shape) > 1:
        layers.append(Flatten(input_shape=None if layers else input_shape))
    for i, units in enumerate(hidden):
        kw = {"input_shape": input_shape} if not layers and i == 0 else {}
        layers.append(Dense(units, activation=activation, **kw))
    kw = {"input_shape": input_shape} if not layers else {}
    if variational:
        layers.append(Dense(2 * latent_dim, name="latent_params", **kw))
        layers.append(Sampling(beta=beta, name=BOTTLENECK))
    else:
        reg = {"type": "l1", "l1": float(sparsity_l1)} if sparsity_l1 else None
        layers.append(Dense(latent_dim, activation=bottleneck_activation, activity_regularizer=reg, name=BOTTLENECK,
                            **kw))
    for units in reversed(tuple(hidden)):
        layers.append(Dense(units, activation=activation))
    layers.append(Dense(n_in, activation=output_activation, name="reconstruction"))
    if len(input_shape) > 1:
        layers.append(Reshape(input_shape))
    return Sequential(layers, name=name, seed=seed)


def build_conv_autoencoder(input_shape=(16, 16, 1), filters=(16, 8), *, noise_stddev: float = 0.0,
                           transpose: bool = False, seed: int | None = None, name: str = "conv_autoencoder"
                           ) -> Sequential:
    """Keras' convolutional autoencoder: (Conv2D 3x3 relu + MaxPooling2D 2) per entry of ``filters`` down
    (the last pooling is the ``"bottleneck"``), then (Conv2D + UpSampling2D), or Conv2DTranspose stride 2
    with ``transpose=True``, back up, and a sigmoid Conv2D to the input's channels."""
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3:
        raise NnplayError(f"a conv autoencoder takes images (H, W, C), got input_shape={input_shape!r}")
    h, w, c = input_shape
    if h % 2 ** len(filters) or w % 2 ** len(filters):
        raise NnplayError(f"{h}x{w} images cannot be halved {len(filters)} times; use fewer filters entries")
    cfgs: list[dict] = []
    if noise_stddev:
        cfgs.append({"type": "gaussian_noise", "stddev": float(noise_stddev)})
    for i, f in enumerate(filters):
        cfgs.append({"type": "conv2d", "filters": int(f), "kernel_size": 3, "activation": "relu", "padding": "same"})
        cfgs.append({"type": "max_pooling2d", "pool_size": 2, "padding": "same",
                     **({"name": BOTTLENECK} if i == len(filters) - 1 else {})})
    for f in reversed(tuple(filters)):
        if transpose:
            cfgs.append({"type": "conv2d_transpose", "filters": int(f), "kernel_size": 3, "strides": 2,
                         "activation": "relu", "padding": "same"})
        else:
            cfgs.append({"type": "conv2d", "filters": int(f), "kernel_size": 3, "activation": "relu", "padding": "same"})
            cfgs.append({"type": "up_sampling2d", "size": 2})
    cfgs.append({"type": "conv2d", "filters": c, "kernel_size": 3, "activation": "sigmoid", "padding": "same",
                 "name": "reconstruction"})
    cfgs[0]["input_shape"] = list(input_shape)
    try:
        layers = [layer_from_config(cfg) for cfg in cfgs]
    except NnplayError as exc:
        raise NnplayError(f"conv autoencoder: {exc} (are the convolution layers installed?)") from None
    return Sequential(layers, name=name, seed=seed)


# ------------------------------------------------------------------------------------------ measures
def _flat(x) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return x.reshape(len(x), -1)


def per_sample_mse(a, b) -> np.ndarray:
    """Mean squared error of each sample over all its values; shape (n,)."""
    return ((_flat(a) - _flat(b)) ** 2).mean(axis=1)


def reconstruction_errors(model: Sequential, x, target=None, batch_size: int = 256) -> np.ndarray:
    """Per-sample MSE between ``model(x)`` (inference mode) and ``target`` (default: ``x``): anomaly scores."""
    out = model.predict(x, batch_size=batch_size)
    return per_sample_mse(out, x if target is None else target)


def mean_image_baseline(x_train, x_eval) -> float:
    """MSE of always answering the mean training sample: what a useless autoencoder scores."""
    mean = _flat(x_train).mean(axis=0, keepdims=True)
    return float(((_flat(x_eval) - mean) ** 2).mean())


def add_noise(x, stddev: float, seed: int = 0, clip: tuple | None = (0.0, 1.0)) -> np.ndarray:
    """``x + N(0, stddev**2)`` (clipped to ``clip``): noisy inputs to test a denoising autoencoder."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x)
    noisy = x + rng.normal(0.0, stddev, x.shape).astype(x.dtype)
    return np.clip(noisy, *clip).astype(x.dtype) if clip is not None else noisy


def latent_codes(model: Sequential, x, layer: str = BOTTLENECK, batch_size: int = 256) -> np.ndarray:
    """The bottleneck's output (a VAE's latent mean) for ``x``: the data of a latent scatter view."""
    return model.predict_until(x, layer, batch_size=batch_size)


def decode(model: Sequential, codes, layer: str = BOTTLENECK) -> np.ndarray:
    """Run the layers after ``layer`` on latent ``codes`` (a VAE's generator: decode N(0, 1) samples)."""
    names = [l.name for l in model.layers]
    if layer not in names:
        raise NnplayError(f"decode: no top-level layer named {layer!r}; layers: {', '.join(names)}")
    out = np.asarray(codes, model.model_dtype)
    for l in model.layers[names.index(layer) + 1:]:
        out = l.forward(out, False)
    return out


def holdout_split(dataset, held_out: int):
    """Anomaly-detection data from a labelled dataset: train on every class but ``held_out``.

    Returns ``(x_train_normal, x_test_normal, x_test_anomalous)``.
    """
    classes = np.unique(dataset.y_train)
    if held_out not in classes:
        raise NnplayError(f"held_out={held_out!r} is not a class of {dataset.name!r}; classes: {classes.tolist()}")
    tr, te = dataset.y_train != held_out, dataset.y_test != held_out
    return dataset.x_train[tr], dataset.x_test[te], dataset.x_test[~te]


def roc_auc(negative_scores, positive_scores) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random negative
    (ties count half), by the Mann-Whitney rank sum."""
    neg, pos = np.asarray(negative_scores, np.float64), np.asarray(positive_scores, np.float64)
    if not len(neg) or not len(pos):
        raise NnplayError("roc_auc needs at least one negative and one positive score")
    scores = np.concatenate([neg, pos])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks over ties
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = (s + e + 1) / 2.0
    rank_sum = ranks[len(neg):].sum()
    return float((rank_sum - len(pos) * (len(pos) + 1) / 2.0) / (len(pos) * len(neg)))


@dataclass(frozen=True)
class AnomalyReport:
    """How well reconstruction error separates normal from anomalous samples."""

    threshold: float          #: errors above it are flagged anomalous
    percentile: float         #: the percentile of the reference errors the threshold sits at
    auc: float                #: ROC AUC of the error as an anomaly score (0.5 = chance, 1 = perfect)
    precision: float          #: flagged samples that are anomalous
    recall: float             #: anomalous samples that are flagged
    f1: float
    false_positive_rate: float  #: normal samples that are flagged
    normal_mean_error: float
    anomalous_mean_error: float
    n_normal: int
    n_anomalous: int

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return (f"threshold {self.threshold:.4g} (p{self.percentile:g} of the reference errors): "
                f"precision {self.precision:.2f}, recall {self.recall:.2f}, F1 {self.f1:.2f}, "
                f"false-positive rate {self.false_positive_rate:.2f}; ROC AUC {self.auc:.3f}; "
                f"mean error normal {self.normal_mean_error:.4g} vs anomalous {self.anomalous_mean_error:.4g}")


def anomaly_report(model: Sequential, x_normal, x_anomalous, percentile: float = 95, *, x_train=None,
                   batch_size: int = 256) -> AnomalyReport:
    """Score samples by reconstruction error and flag those above a threshold.

    The threshold is the ``percentile`` of the errors on ``x_train`` (the data the model learnt, as in the
    tutorials), or on ``x_normal`` when no training data is given. Precision and recall count the
    anomalous samples as positives; the AUC needs no threshold.
    """
    if not 0 < percentile < 100:
        raise NnplayError(f"percentile must be in (0, 100), got percentile={percentile!r}")
    err_n = reconstruction_errors(model, x_normal, batch_size=batch_size)
    err_a = reconstruction_errors(model, x_anomalous, batch_size=batch_size)
    ref = err_n if x_train is None else reconstruction_errors(model, x_train, batch_size=batch_size)
    threshold = float(np.percentile(ref, percentile))
    tp, fn = int((err_a > threshold).sum()), int((err_a <= threshold).sum())
    fp = int((err_n > threshold).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return AnomalyReport(threshold, float(percentile), roc_auc(err_n, err_a), precision, recall, f1,
                         fp / max(len(err_n), 1), float(err_n.mean()), float(err_a.mean()), len(err_n), len(err_a))
