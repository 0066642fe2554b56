"""Layers for generative models: GaussianNoise, GaussianDropout (Keras' names) and a VAE's Sampling.

All three are random only in training; at inference GaussianNoise and GaussianDropout are the identity and
Sampling returns the mean. Each draws from its own generator (``seed=`` or a stream derived from the
model's seed at build), so a seeded model is reproducible.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import NnplayError
from .base import Layer, register


def _non_negative(layer: str, field: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)) or value < 0:
        raise NnplayError(f"{layer}: {field} must be a number >= 0, got {field}={value!r}")
    return float(value)


class _Random(Layer):
    """A layer that draws noise in training from its own generator."""

    def build(self, input_shape, rng, dtype=np.float32):
        # A child stream of the model's stream (or the layer's seed): weights of later layers and the
        # noise never depend on each other's draws.
        own = np.random.default_rng(self.seed if self.seed is not None else rng.integers(2**63))
        super().build(input_shape, own, dtype)

    def reseed(self, seed: int) -> None:
        """Restart the noise stream (gradient checks draw the same noise in every forward)."""
        self.rng = np.random.default_rng(seed)


@register
class GaussianNoise(_Random):
    """Adds ``N(0, stddev**2)`` noise in training only (Keras' GaussianNoise): a denoising autoencoder's
    first layer, or instance noise for a GAN's discriminator.

    Shapes:
        input (...) -> output (...), unchanged.
    """

    config_keys = ("stddev", "seed")

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = _non_negative("GaussianNoise", "stddev", stddev)
        self.seed = seed

    def forward(self, x, training=False):
        if not training or self.stddev == 0.0:
            return x
        return x + self.rng.normal(0.0, self.stddev, x.shape).astype(x.dtype, copy=False)

    def backward(self, grad_out, need_grad_x=True):
        return grad_out  # the noise does not depend on x


@register
class GaussianDropout(_Random):
    """Multiplies by ``N(1, rate / (1 - rate))`` noise in training only (Keras' GaussianDropout).

    Shapes:
        input (...) -> output (...), unchanged.
    """

    config_keys = ("rate", "seed")

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        rate = _non_negative("GaussianDropout", "rate", rate)
        if rate >= 1.0:
            raise NnplayError(f"GaussianDropout: rate must be in [0, 1), got rate={rate!r}")
        self.rate = rate
        self.seed = seed

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.cache = {"mask": None}
            return x
        std = math.sqrt(self.rate / (1.0 - self.rate))
        mask = self.rng.normal(1.0, std, x.shape).astype(x.dtype, copy=False)
        self.cache = {"mask": mask}
        return x * mask

    def backward(self, grad_out, need_grad_x=True):
        mask = self.cache["mask"]
        return grad_out if mask is None else grad_out * mask


@register
class Sampling(_Random):
    """A VAE's reparameterisation trick plus its KL term.

    The input is the encoder's last Dense output, ``[mean | log_var]`` side by side. In training the output
    is ``mean + exp(0.5 * log_var) * eps`` with ``eps ~ N(0, 1)``; at inference it is ``mean``, so
    ``model.predict_until(x, "bottleneck")`` gives the latent means.

    Every forward (training or not) also computes Keras' VAE KL divergence,
    ``-0.5 * sum(1 + log_var - mean**2 - exp(log_var))`` per sample, mean over the batch, times ``beta``,
    and exposes it as ``cache["aux_losses"] = {"kl_loss": value}``: the model adds it to the loss and the
    trainer logs it separately. ``backward`` adds the KL gradient to the one from the layers above.

    nnplay's MSE is a mean over pixels, while Keras' VAE sums the reconstruction loss over pixels; to
    weigh the two terms as that example does, use ``beta = 1 / (number of pixels)``.

    Shapes:
        input (batch, 2 * latent) -> output (batch, latent).
    """

    config_keys = ("beta", "seed")
    #: The model collects ``cache["aux_losses"]`` from layers that set this.
    adds_aux_loss = True

    def __init__(self, beta=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.beta = _non_negative("Sampling", "beta", beta)
        self.seed = seed

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 1 or input_shape[0] % 2:
            raise self.shape_error(input_shape, "Sampling needs a flat input of [mean | log_var], an even width",
                                   "put Dense(2 * latent_dim) before it")
        return (input_shape[0] // 2,)

    def forward(self, x, training=False):
        k = x.shape[-1] // 2
        mean, log_var = x[:, :k], x[:, k:]
        std = np.exp(0.5 * log_var)
        if training:
            eps = self.rng.standard_normal(mean.shape).astype(x.dtype, copy=False)
            out = mean + std * eps
        else:
            eps = None
            out = np.array(mean)
        m64, lv64 = mean.astype(np.float64), log_var.astype(np.float64)
        kl = -0.5 * np.sum(1.0 + lv64 - m64 * m64 - np.exp(lv64), axis=1)
        self.cache = {"mean": mean, "log_var": log_var, "std": std, "eps": eps, "kl": kl,
                      "aux_losses": {"kl_loss": self.beta * float(np.mean(kl))}}
        return out

    def backward(self, grad_out, need_grad_x=True):
        c = self.cache
        mean, log_var, std, eps = c["mean"], c["log_var"], c["std"], c["eps"]
        b = mean.shape[0]
        grad_x = np.empty((b, 2 * mean.shape[1]), dtype=grad_out.dtype)
        k = mean.shape[1]
        # reparameterisation: d out / d mean = 1, d out / d log_var = 0.5 * std * eps
        grad_x[:, :k] = grad_out
        grad_x[:, k:] = 0.0 if eps is None else grad_out * (0.5 * std * eps)
        if self.beta:
            scale = self.beta / b
            grad_x[:, :k] += scale * mean
            grad_x[:, k:] += (0.5 * scale) * (np.exp(log_var) - 1.0)
        return grad_x

    def extras(self):
        c = self.cache
        return {"mean": c.get("mean"), "log_var": c.get("log_var"), "kl": c.get("kl")} if c else {}
