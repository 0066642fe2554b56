"""Optimizers with Keras 3's names, defaults and update rules, over one flat parameter buffer.

A model keeps all trainable parameters in one 1-D buffer ``P`` and their gradients in ``G`` (same shape,
float32 or float64); every variable is a contiguous ``(offset, length)`` segment. The optimizer keeps its
slots (momenta, velocities, ...) as rows of one ``(k, size)`` array, so a training step is one call::

    opt = optimizers.get("adam")
    opt.build(segments, P.size, P.dtype)
    opt.apply(P, G)             # clip G, weight decay, update P in place, iterations += 1

Order inside a step, as in Keras: the learning rate is evaluated at the current ``iterations`` (the first
step sees 0), gradients are clipped (``clipnorm`` per variable, ``global_clipnorm`` over all of them, or
``clipvalue`` elementwise; at most one), decoupled weight decay ``p -= p * weight_decay * lr`` is applied
when ``weight_decay`` is set, then the optimizer's update rule runs. The rules (see each class) follow
``keras/src/optimizers/*.py``; the fused kernels are in :mod:`nnplay.core.kernels.optim`.

Configs are flat dicts keyed by ``name``: ``{"name": "adam", "learning_rate": 0.01, "beta_1": 0.8}``
(learning-rate schedules nest as their own ``{"type": ...}`` dict). Keras 3 configs load too: Keras'
no-op base arguments (``use_ema=False``, ``loss_scale_factor=None``, ...) are accepted and ignored.

Where nnplay differs from Keras:

* ``name`` in a config is the optimizer's type (``"sgd"``, ``"rmsprop"``, ...; looked up case-insensitively,
  so Keras' ``"SGD"`` works). A custom ``name=`` is kept on the object for display only.
* ``learning_rate`` reads back what was set (a float or a schedule); the value in effect is
  :meth:`Optimizer.current_learning_rate`. Keras returns the evaluated rate. Setting a float on an
  optimizer driven by a schedule replaces the schedule (Keras raises); that is how the UI changes the
  rate live. Integers are accepted as learning rates (Keras wants a float).
* Arguments are validated with nnplay messages: ``learning_rate > 0``, betas and ``rho`` in [0, 1) resp.
  [0, 1], ``momentum`` in [0, 1], ``epsilon >= 0``, ``weight_decay >= 0``, clip values > 0 (Keras
  silently skips a clip value of 0), ``initial_accumulator_value >= 0``. Recent Keras rejects
  ``epsilon=0`` for RMSprop; nnplay allows it for every optimizer (a zero gradient on a fresh slot then
  gives 0/0 = NaN, which the divergence guard reports).
* EMA, loss scaling, gradient accumulation and ``exclude_from_weight_decay`` are not implemented (weight
  decay applies to every variable in the buffer, Keras' default).
* Nadam's running ``u_product`` is kept in float64 (Keras stores it in the variables' dtype).
* Arithmetic follows the buffer dtype like Keras, but scalar factors (bias corrections, Nadam's
  schedule terms) are computed in float64 before the cast, norms for clipping are accumulated in float64,
  and a norm at or under the clip threshold leaves the gradient exactly unchanged (Keras multiplies by
  ``clip * (1 / clip)``, which can differ from 1 in the last bit).
"""
from __future__ import annotations

from . import schedules
from .base import Optimizer, from_config, get, serialize
from .rules import SGD, Adadelta, Adagrad, Adam, AdamW, Nadam, RMSprop

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Nadam", "get",
           "from_config", "serialize", "schedules"]
