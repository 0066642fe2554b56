"""The update rules, with Keras 3's names, defaults and formulas: SGD, RMSprop, Adam, AdamW, Adagrad,
Adadelta, Nadam (see :mod:`nnplay.core.optimizers` for where nnplay differs from Keras)."""
from __future__ import annotations

import math

import numpy as np

from ..errors import NnplayError
from ..kernels import optim as K
from ..kernels import optim_threads as KT
from ..tiers import numpy_tier
from ..tiers import optim as T
from .base import Optimizer, _non_negative, _unit, _flag, _hyper


def _steps(opt: Optimizer):
    """The update functions for this step, all with :mod:`..kernels.optim`'s signatures: NumPy's while the
    kernels compile, the kernels, or (when :meth:`Optimizer.apply` cut the update in parts) the kernels run
    part by part, one after the other or on threads (the ``seg`` they are given is then not used)."""
    if numpy_tier():
        return T
    if opt._threads == 1:
        return K
    table = opt._thread_parts()
    return K if table is None else _InParts(table, opt._parallel)


class _InParts:
    """``.NAME(p, g, slots, seg, *rest)``: update rule NAME over the parts of ``table`` instead of ``seg``."""

    def __init__(self, table: np.ndarray, parallel: bool):
        self.table, self.parallel = table, parallel

    def __getattr__(self, name: str):
        table = self.table
        if self.parallel:
            threaded = getattr(KT, name)
            return lambda p, g, slots, seg, *rest: threaded(p, g, slots, table, *rest)
        serial = getattr(K, name)

        def one_by_one(p, g, slots, seg, *rest):
            for part in table:
                serial(p, g, slots, part, *rest)
        return one_by_one


# ------------------------------------------------------------------------------------------ optimizers
class SGD(Optimizer):
    """Gradient descent with optional momentum (Keras ``SGD``).

    ``momentum == 0``: ``p -= lr * g``. Otherwise ``m = momentum * m - lr * g`` then
    ``p += momentum * m - lr * g`` (``nesterov=True``) or ``p += m``.
    """

    key = "sgd"
    _args = {"momentum": 0.0, "nesterov": False}
    momentum = _hyper("momentum")
    nesterov = _hyper("nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        o = type(self).__name__
        self._hp = {"momentum": _unit(o, "momentum", momentum, closed=True),
                    "nesterov": _flag(o, "nesterov", nesterov)}
        super().__init__(learning_rate, **kwargs)

    def _slot_names(self):
        return ("momentum",) if self._hp["momentum"] != 0 else ()

    def _update(self, P, G, lr):
        hp = self._hp
        _steps(self).sgd_step(P, G, self._slots, self._step_seg, self._mode, self._clip, lr * self._wd, lr,
                              hp["momentum"], hp["nesterov"])


class RMSprop(Optimizer):
    """RMSprop (Keras ``RMSprop``; epsilon inside the square root).

    ``v = rho * v + (1 - rho) * g**2``; ``centered``: ``a = rho * a + (1 - rho) * g``,
    ``inc = lr * g / sqrt(v - a**2 + eps)``, else ``inc = lr * g / sqrt(v + eps)``;
    ``momentum > 0``: ``mom = momentum * mom + inc; p -= mom``, else ``p -= inc``.
    """

    key = "rmsprop"
    _args = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False}
    rho = _hyper("rho")
    momentum = _hyper("momentum")
    epsilon = _hyper("epsilon")
    centered = _hyper("centered")

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        o = type(self).__name__
        self._hp = {"rho": _unit(o, "rho", rho, closed=True),
                    "momentum": _unit(o, "momentum", momentum, closed=True),
                    "epsilon": _non_negative(o, "epsilon", epsilon),
                    "centered": _flag(o, "centered", centered)}
        super().__init__(learning_rate, **kwargs)

    def _slot_names(self):
        names = ["velocity"]
        if self._hp["momentum"] > 0:
            names.append("momentum")
        if self._hp["centered"]:
            names.append("average_gradient")
        return tuple(names)

    def build(self, segments, size, dtype=np.float32):
        names = self._slot_names()
        self._mom_row = names.index("momentum") if "momentum" in names else -1
        self._avg_row = names.index("average_gradient") if "average_gradient" in names else -1
        super().build(segments, size, dtype)

    def _update(self, P, G, lr):
        hp = self._hp
        _steps(self).rmsprop_step(P, G, self._slots, self._step_seg, self._mode, self._clip, lr * self._wd, lr,
                                  hp["rho"], hp["momentum"], hp["epsilon"], self._mom_row, self._avg_row)


class Adam(Optimizer):
    """Adam (Keras ``Adam``), bias correction folded into the step size.

    With ``t = iterations + 1``: ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``;
    ``m += (g - m) * (1 - beta_1)``; ``v += (g**2 - v) * (1 - beta_2)``; ``amsgrad``: ``v_hat = max(v_hat, v)``
    is used for ``v``; ``p -= alpha * m / (sqrt(v) + epsilon)``.

    ``epsilon_mode="paper"`` (not a Keras argument) adds ``epsilon`` to the bias-corrected ``sqrt(v_hat)``
    instead, as Algorithm 1 of the Adam paper and PyTorch do: ``p -= lr * m_hat / (sqrt(v_hat) + epsilon)``.
    The two differ only when gradients are tiny; the benchmark uses it to compare with PyTorch step by step.
    """

    key = "adam"
    _args = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False, "epsilon_mode": "keras"}
    beta_1 = _hyper("beta_1")
    beta_2 = _hyper("beta_2")
    epsilon = _hyper("epsilon")
    amsgrad = _hyper("amsgrad")
    epsilon_mode = _hyper("epsilon_mode")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 epsilon_mode="keras", **kwargs):
        self._set_adam_args(beta_1, beta_2, epsilon, amsgrad, epsilon_mode)
        super().__init__(learning_rate, **kwargs)

    def _set_adam_args(self, beta_1, beta_2, epsilon, amsgrad, epsilon_mode="keras"):
        o = type(self).__name__
        if epsilon_mode not in ("keras", "paper"):
            raise NnplayError(f"{o}: epsilon_mode must be 'keras' or 'paper', got epsilon_mode={epsilon_mode!r}")
        self._hp = {"beta_1": _unit(o, "beta_1", beta_1, closed=False),
                    "beta_2": _unit(o, "beta_2", beta_2, closed=False),
                    "epsilon": _non_negative(o, "epsilon", epsilon),
                    "amsgrad": _flag(o, "amsgrad", amsgrad),
                    "epsilon_mode": epsilon_mode}

    def _slot_names(self):
        return ("momentum", "velocity", "velocity_hat") if self._hp["amsgrad"] else ("momentum", "velocity")

    def _scalars(self, lr: float) -> tuple[float, float]:
        """This step's ``(alpha, epsilon)``."""
        hp = self._hp
        b1, b2 = hp["beta_1"], hp["beta_2"]
        t = self.iterations + 1
        alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        eps = hp["epsilon"]
        if hp["epsilon_mode"] == "paper":  # eps on sqrt(v_hat) = eps * sqrt(1 - b2^t) on sqrt(v)
            eps *= math.sqrt(1.0 - b2 ** t)
        return alpha, eps

    def _update(self, P, G, lr):
        hp = self._hp
        alpha, eps = self._scalars(lr)
        _steps(self).adam_step(P, G, self._slots, self._step_seg, self._mode, self._clip, lr * self._wd, alpha,
                               hp["beta_1"], hp["beta_2"], eps, hp["amsgrad"])

    def fused_update(self):
        if self._slots is None or self._mode not in (K.CLIP_NONE, K.CLIP_VALUE):
            return None
        hp = self._hp
        lr = self.current_learning_rate()
        alpha, eps = self._scalars(lr)
        lo, hi = (-self._clip, self._clip) if self._mode == K.CLIP_VALUE else (-math.inf, math.inf)
        # the layout of nnplay.core.kernels.mlp_update's ``hp``
        return self._slots, np.array([alpha, 1.0 - hp["beta_1"], 1.0 - hp["beta_2"], eps, lr * self._wd, lo, hi,
                                      float(hp["amsgrad"])])


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras ``AdamW``): before the Adam step,
    ``p -= p * weight_decay * lr`` (``weight_decay`` defaults to 0.004 and must be set)."""

    key = "adamw"
    _default_weight_decay = 0.004

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, epsilon_mode="keras", **kwargs):
        if weight_decay is None:
            raise NnplayError("AdamW: weight_decay must be a number >= 0, got weight_decay=None")
        self._set_adam_args(beta_1, beta_2, epsilon, amsgrad, epsilon_mode)
        Optimizer.__init__(self, learning_rate, weight_decay=weight_decay, **kwargs)


class Adagrad(Optimizer):
    """Adagrad (Keras ``Adagrad``): ``acc += g**2``; ``p -= lr * g / sqrt(acc + epsilon)``, with ``acc``
    starting at ``initial_accumulator_value``."""

    key = "adagrad"
    _args = {"initial_accumulator_value": 0.1, "epsilon": 1e-7}
    initial_accumulator_value = _hyper("initial_accumulator_value")
    epsilon = _hyper("epsilon")

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        o = type(self).__name__
        self._hp = {"initial_accumulator_value": _non_negative(o, "initial_accumulator_value",
                                                               initial_accumulator_value),
                    "epsilon": _non_negative(o, "epsilon", epsilon)}
        super().__init__(learning_rate, **kwargs)

    def _slot_names(self):
        return ("accumulator",)

    def _init_slots(self, slots):
        slots[0].fill(self._hp["initial_accumulator_value"])

    def _update(self, P, G, lr):
        _steps(self).adagrad_step(P, G, self._slots, self._step_seg, self._mode, self._clip, lr * self._wd, lr,
                                  self._hp["epsilon"])


class Adadelta(Optimizer):
    """Adadelta (Keras ``Adadelta``, with a learning rate; ``learning_rate=1.0`` is the paper's form).

    ``Eg = rho * Eg + (1 - rho) * g**2``; ``d = -sqrt(Ed + eps) * g / sqrt(Eg + eps)``;
    ``Ed = rho * Ed + (1 - rho) * d**2``; ``p += lr * d``.
    """

    key = "adadelta"
    _args = {"rho": 0.95, "epsilon": 1e-7}
    rho = _hyper("rho")
    epsilon = _hyper("epsilon")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        o = type(self).__name__
        self._hp = {"rho": _unit(o, "rho", rho, closed=True), "epsilon": _non_negative(o, "epsilon", epsilon)}
        super().__init__(learning_rate, **kwargs)

    def _slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def _update(self, P, G, lr):
        hp = self._hp
        _steps(self).adadelta_step(P, G, self._slots, self._step_seg, self._mode, self._clip, lr * self._wd, lr,
                                   hp["rho"], hp["epsilon"])


class Nadam(Optimizer):
    """Nadam (Keras ``Nadam``): Adam with Nesterov momentum and Dozat's momentum schedule.

    With ``t = iterations + 1``, ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and ``u_product`` the running
    product of the ``u``'s up to ``t``: ``m += (g - m) * (1 - beta_1)``; ``v += (g**2 - v) * (1 - beta_2)``;
    ``m_hat = u_{t+1} * m / (1 - u_product * u_{t+1}) + (1 - u_t) * g / (1 - u_product)``;
    ``v_hat = v / (1 - beta_2**t)``; ``p -= lr * m_hat / (sqrt(v_hat) + epsilon)``.
    """

    key = "nadam"
    _args = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
    beta_1 = _hyper("beta_1")
    beta_2 = _hyper("beta_2")
    epsilon = _hyper("epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        o = type(self).__name__
        self._hp = {"beta_1": _unit(o, "beta_1", beta_1, closed=False),
                    "beta_2": _unit(o, "beta_2", beta_2, closed=False),
                    "epsilon": _non_negative(o, "epsilon", epsilon)}
        super().__init__(learning_rate, **kwargs)
        self._u_product = 1.0

    def _slot_names(self):
        return ("momentum", "velocity")

    def _reset_extra(self):
        self._u_product = 1.0

    def _extra_state(self):
        return {"u_product": np.array(self._u_product, dtype=np.float64)}

    def _set_extra_state(self, state):
        if "u_product" in state:
            self._u_product = float(np.asarray(state["u_product"]))
        else:                       # a deterministic function of the step count
            b1 = self._hp["beta_1"]
            self._u_product = math.prod(b1 * (1.0 - 0.5 * 0.96 ** i) for i in range(1, self.iterations + 1))

    def _update(self, P, G, lr):
        hp = self._hp
        b1, b2 = hp["beta_1"], hp["beta_2"]
        t = self.iterations + 1
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_next = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        u_prod = self._u_product * u_t
        c_m = u_next / (1.0 - u_prod * u_next)
        c_g = (1.0 - u_t) / (1.0 - u_prod)
        _steps(self).nadam_step(P, G, self._slots, self._step_seg, self._mode, self._clip, lr * self._wd, lr, b1, b2,
                                hp["epsilon"], c_m, c_g, 1.0 - b2 ** t)
        self._u_product = u_prod
