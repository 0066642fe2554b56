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

import math

import numpy as np

from . import schedules
from .checks import non_negative as _non_negative
from .checks import number as _number
from .checks import positive as _positive
from .errors import NnplayError, did_you_mean
from .kernels import optim as K
from .registry import Registry
from .schedules import LearningRateSchedule

_BASE_ARGS = ("learning_rate", "clipnorm", "clipvalue", "global_clipnorm", "weight_decay", "name")
# Keras 3 base arguments nnplay does not implement: accepted at their no-op value (so Keras configs load).
_KERAS_NOOP = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
               "loss_scale_factor": None, "gradient_accumulation_steps": None}
_HINTS = {"lr": "learning_rate", "beta1": "beta_1", "beta2": "beta_2", "eps": "epsilon",
          "decay": "weight_decay", "clip_norm": "clipnorm", "clip_value": "clipvalue"}


# ------------------------------------------------------------------------------------------ validation
def _unit(owner: str, field: str, value, closed: bool) -> float:
    """A number in [0, 1] (``closed``) or [0, 1)."""
    x = _number(owner, field, value)
    if x < 0 or x > 1 or (x == 1 and not closed):
        raise NnplayError(f"{owner}: {field} must be in [0, 1{']' if closed else ')'}, got {field}={value!r}")
    return x


def _flag(owner: str, field: str, value) -> bool:
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, (int, np.integer)) and value in (0, 1)):
        return bool(value)
    raise NnplayError(f"{owner}: {field} must be True or False, got {field}={value!r}")


def _hyper(name: str, doc: str = "") -> property:
    """A read-only hyper-parameter (changing it after build could mismatch the slots)."""
    return property(lambda self: self._hp[name], doc=doc or f"``{name}`` (read only).")


# ------------------------------------------------------------------------------------------- the base
class Optimizer:
    """Base class. Subclasses set ``key``, ``_args`` (their own arguments -> defaults, Keras order),
    ``_slot_names()`` and ``_update()``."""

    key: str = ""
    _args: dict = {}
    _default_weight_decay: float | None = None

    def __init__(self, learning_rate=0.001, *, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, name=None, **unknown):
        owner = type(self).__name__
        self._check_unknown(unknown)
        if not hasattr(self, "_hp"):
            self._hp: dict = {}
        self._schedule: LearningRateSchedule | None = None
        self._lr: float | None = None
        self.learning_rate = learning_rate
        given = {k: v for k, v in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                    ("global_clipnorm", global_clipnorm)) if v is not None}
        if len(given) > 1:
            raise NnplayError(f"{owner}: set only one of clipnorm, clipvalue and global_clipnorm, got "
                              + ", ".join(f"{k}={v!r}" for k, v in given.items()))
        self._clipnorm = None if clipnorm is None else _positive(owner, "clipnorm", clipnorm)
        self._clipvalue = None if clipvalue is None else _positive(owner, "clipvalue", clipvalue)
        self._global_clipnorm = None if global_clipnorm is None else _positive(owner, "global_clipnorm",
                                                                              global_clipnorm)
        if self._clipnorm is not None:
            self._mode, self._clip = K.CLIP_NORM, self._clipnorm
        elif self._global_clipnorm is not None:
            self._mode, self._clip = K.CLIP_GLOBAL, self._global_clipnorm
        elif self._clipvalue is not None:
            self._mode, self._clip = K.CLIP_VALUE, self._clipvalue
        else:
            self._mode, self._clip = K.CLIP_NONE, 0.0
        self._weight_decay = None if weight_decay is None else _non_negative(owner, "weight_decay", weight_decay)
        self._wd = self._weight_decay or 0.0
        if name is not None and not isinstance(name, str):
            raise NnplayError(f"{owner}: name must be a string, got name={name!r}")
        self.name: str = name or self.key
        self.iterations: int = 0
        self._shape: tuple | None = None
        self._dtype: np.dtype | None = None
        self._slots: np.ndarray | None = None
        self._seg_vars = self._seg = np.zeros((0, 2), np.int64)
        self._pending_state: dict | None = None

    def _check_unknown(self, unknown: dict) -> None:
        owner = type(self).__name__
        known = [*self._args, *_BASE_ARGS]
        for key, value in unknown.items():
            if key in _KERAS_NOOP:
                if value is _KERAS_NOOP[key] or value == _KERAS_NOOP[key]:
                    continue
                raise NnplayError(f"{owner}: {key} is not supported by nnplay, got {key}={value!r}")
            hint = _HINTS.get(key)
            suffix = f" (did you mean {hint!r}?)" if hint in known else did_you_mean(key, known)
            raise NnplayError(f"{owner}: unknown argument {key!r}" + suffix)

    # ----------------------------------------------------------------------------- learning rate
    @property
    def learning_rate(self):
        """The learning rate as set: a float or a :class:`~nnplay.core.schedules.LearningRateSchedule`."""
        return self._schedule if self._schedule is not None else self._lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, dict):
            value = schedules.get(value)
        if isinstance(value, LearningRateSchedule):
            self._schedule = value
            return
        owner = type(self).__name__
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise NnplayError(f"{owner}: learning_rate must be a number > 0 or a learning-rate schedule, "
                              f"got learning_rate={value!r}")
        self.set_learning_rate(value)

    def set_learning_rate(self, lr) -> None:
        """Use the constant ``lr`` from the next step on (replaces a schedule)."""
        x = _positive(type(self).__name__, "learning_rate", lr)
        self._lr = x            # set before dropping the schedule: a concurrent apply never sees neither
        self._schedule = None

    def current_learning_rate(self) -> float:
        """The rate the next :meth:`apply` uses: the schedule evaluated at ``iterations``, or the constant."""
        s = self._schedule
        return self._lr if s is None else float(s(self.iterations))

    # ----------------------------------------------------------------------------- clip / decay views
    clipnorm = property(lambda self: self._clipnorm, doc="Per-variable gradient L2-norm limit (read only).")
    clipvalue = property(lambda self: self._clipvalue, doc="Elementwise gradient limit (read only).")
    global_clipnorm = property(lambda self: self._global_clipnorm,
                               doc="Gradient L2-norm limit over all variables together (read only).")
    weight_decay = property(lambda self: self._weight_decay, doc="Decoupled weight decay (read only).")

    # ----------------------------------------------------------------------------- build / step
    def _slot_names(self) -> tuple[str, ...]:
        return ()

    def _init_slots(self, slots: np.ndarray) -> None:
        """Initial slot values (zeros unless overridden)."""

    def _reset_extra(self) -> None:
        """Reset scalar state kept outside the slots (Nadam)."""

    def build(self, segments, size: int, dtype=np.float32) -> None:
        """Allocate the slots for a buffer of ``size`` elements made of ``segments`` ``(offset, length)``.

        Elements outside every segment are never touched. Building again allocates fresh slots (the
        ``iterations`` count is kept); a state given to :meth:`set_state` before the first build is
        loaded now.
        """
        owner = type(self).__name__
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise NnplayError(f"{owner}: parameters must be float32 or float64, got dtype={dt}")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
            raise NnplayError(f"{owner}: size must be a whole number >= 0, got size={size!r}")
        size = int(size)
        if not isinstance(segments, np.ndarray):
            segments = [tuple(s) for s in segments]
        seg = np.asarray(segments) if len(segments) else np.zeros((0, 2), np.int64)
        if seg.ndim != 2 or seg.shape[1] != 2 or seg.dtype.kind not in "iu":
            raise NnplayError(f"{owner}: segments must be (offset, length) pairs of whole numbers, "
                              f"got segments={segments!r}")
        seg = seg.astype(np.int64)
        seg = seg[np.argsort(seg[:, 0], kind="stable")]
        for off, n in seg:
            if off < 0 or n < 0 or off + n > size:
                raise NnplayError(f"{owner}: segment (offset={off}, length={n}) does not fit in a buffer of "
                                  f"size {size}")
        ends = seg[:, 0] + seg[:, 1]
        if len(seg) > 1 and np.any(seg[1:, 0] < ends[:-1]):
            raise NnplayError(f"{owner}: segments overlap: {[tuple(map(int, s)) for s in seg]}")
        seg = seg[seg[:, 1] > 0]
        runs: list[list[int]] = []
        for off, n in seg:                  # merge touching variables into runs (better vectorised loops)
            if runs and runs[-1][0] + runs[-1][1] == off:
                runs[-1][1] += int(n)
            else:
                runs.append([int(off), int(n)])
        self._seg_vars = np.ascontiguousarray(seg, dtype=np.int64).reshape(-1, 2)
        run_arr = np.asarray(runs, dtype=np.int64).reshape(-1, 2)
        self._seg = self._seg_vars if self._mode == K.CLIP_NORM else run_arr
        names = self._slot_names()
        self._slots = np.zeros((len(names), size), dt)
        self._init_slots(self._slots)
        self._shape = (size,)
        self._dtype = dt
        self._reset_extra()
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self.set_state(pending)

    @property
    def built(self) -> bool:
        return self._shape is not None

    def apply(self, P: np.ndarray, G: np.ndarray) -> None:
        """One training step: clip ``G`` (without modifying it), weight decay, update ``P`` in place,
        ``iterations += 1``."""
        if P.shape != self._shape or G.shape != self._shape:
            self._bad_buffers(P, G)
        s = self._schedule
        lr = self._lr if s is None else float(s(self.iterations))
        self._update(P, G, lr)
        self.iterations += 1

    def _bad_buffers(self, P, G) -> None:
        owner = type(self).__name__
        if self._shape is None:
            raise NnplayError(f"{owner}: call build(segments, size, dtype) before apply")
        raise NnplayError(f"{owner}: was built for a buffer of shape {self._shape}, got parameters of shape "
                          f"{getattr(P, 'shape', None)} and gradients of shape {getattr(G, 'shape', None)}")

    def _update(self, P, G, lr: float) -> None:
        raise NotImplementedError

    # ----------------------------------------------------------------------------- state
    def _extra_state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_extra_state(self, state: dict) -> None:
        pass

    def get_state(self) -> dict[str, np.ndarray]:
        """``iterations`` and a copy of every slot (one 1-D array per slot name), ready for ``np.savez``."""
        state = {"iterations": np.array(self.iterations, dtype=np.int64)}
        if self._slots is not None:
            for i, name in enumerate(self._slot_names()):
                state[name] = self._slots[i].copy()
            state.update(self._extra_state())
        return state

    def set_state(self, state) -> None:
        """Load :meth:`get_state` output (also from an ``np.load`` npz). Before :meth:`build` the state is
        kept and loaded when the optimizer is built."""
        owner = type(self).__name__
        state = dict(state)
        if "iterations" not in state:
            raise NnplayError(f"{owner}: optimizer state has no 'iterations'")
        it = np.asarray(state["iterations"])
        if it.shape != () or it.dtype.kind not in "iuf" or it != np.floor(it) or it < 0:
            raise NnplayError(f"{owner}: iterations must be a whole number >= 0, got iterations={it!r}")
        if self._slots is None:
            self._pending_state = state
            self.iterations = int(it)
            return
        names = self._slot_names()
        optional = set(self._extra_state())
        missing = [n for n in names if n not in state]
        extra = [k for k in state if k not in names and k != "iterations" and k not in optional]
        if missing or extra:
            raise NnplayError(f"{owner}: optimizer state does not match this optimizer"
                              + (f"; missing {missing}" if missing else "")
                              + (f"; unexpected {extra}" if extra else ""))
        for i, name in enumerate(names):
            arr = np.asarray(state[name])
            if arr.shape != self._shape:
                raise NnplayError(f"{owner}: state {name!r} has shape {arr.shape}, the optimizer was built "
                                  f"for {self._shape}")
        for i, name in enumerate(names):
            self._slots[i][...] = np.asarray(state[name])
        self.iterations = int(it)
        self._set_extra_state(state)

    # ----------------------------------------------------------------------------- config
    def get_config(self) -> dict:
        """``{"name": <type>, "learning_rate": <float or schedule dict>, <non-default arguments>}``."""
        lr = self._schedule.get_config() if self._schedule is not None else self._lr
        cfg: dict = {"name": self.key, "learning_rate": lr}
        for key, default in self._args.items():
            value = self._hp[key]
            if value != default:
                cfg[key] = value
        if self._weight_decay != self._default_weight_decay:
            cfg["weight_decay"] = self._weight_decay
        for key in ("clipnorm", "clipvalue", "global_clipnorm"):
            value = getattr(self, key)
            if value is not None:
                cfg[key] = value
        return cfg

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        return from_config(config) if cls is Optimizer else cls(**_strip_name(config))

    def __repr__(self) -> str:
        cfg = self.get_config()
        cfg.pop("name")
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in cfg.items())})"


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
        K.sgd_step(P, G, self._slots, self._seg, self._mode, self._clip, lr * self._wd, lr,
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
        K.rmsprop_step(P, G, self._slots, self._seg, self._mode, self._clip, lr * self._wd, lr,
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

    def _update(self, P, G, lr):
        hp = self._hp
        b1, b2 = hp["beta_1"], hp["beta_2"]
        t = self.iterations + 1
        alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        eps = hp["epsilon"]
        if hp["epsilon_mode"] == "paper":  # eps on sqrt(v_hat) = eps * sqrt(1 - b2^t) on sqrt(v)
            eps *= math.sqrt(1.0 - b2 ** t)
        K.adam_step(P, G, self._slots, self._seg, self._mode, self._clip, lr * self._wd, alpha,
                    b1, b2, eps, hp["amsgrad"])


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
        K.adagrad_step(P, G, self._slots, self._seg, self._mode, self._clip, lr * self._wd, lr,
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
        K.adadelta_step(P, G, self._slots, self._seg, self._mode, self._clip, lr * self._wd, lr,
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
        K.nadam_step(P, G, self._slots, self._seg, self._mode, self._clip, lr * self._wd, lr,
                     b1, b2, hp["epsilon"], c_m, c_g, 1.0 - b2 ** t)
        self._u_product = u_prod


# ------------------------------------------------------------------------------------------ lookup
_TABLE: Registry[type] = Registry("optimizer", {cls.key: cls for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta,
                                                                          Nadam)})


def _strip_name(config: dict) -> dict:
    cfg = dict(config)
    cfg.pop("name", None)
    cfg.pop("type", None)
    return cfg


def from_config(config: dict) -> Optimizer:
    """An optimizer from :meth:`Optimizer.get_config` output (or a Keras 3 optimizer config)."""
    if not isinstance(config, dict):
        raise NnplayError(f"an optimizer config must be a dict, got {config!r}")
    if "class_name" in config and "name" not in config:        # Keras' serialized form
        config = {**(config.get("config") or {}), "name": config["class_name"]}
    kind = config.get("name", config.get("type"))
    if kind is None:
        raise NnplayError(f"an optimizer config needs a 'name' such as 'adam', got {config!r}")
    cls = _TABLE.lookup(kind)
    return cls(**_strip_name(config))


def get(identifier) -> Optimizer | None:
    """An optimizer from a name (``"adam"``, ``"SGD"``; case-insensitive, default arguments), a config
    dict, or an :class:`Optimizer` (returned as is). None gives None, as in Keras."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _TABLE.lookup(identifier)()
    if isinstance(identifier, dict):
        return from_config(identifier)
    raise NnplayError(f"optimizer must be a name such as 'adam', a config dict or an Optimizer, "
                      f"got {identifier!r}")


def serialize(optimizer: Optimizer) -> dict:
    return optimizer.get_config()


__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adadelta", "Nadam", "get",
           "from_config", "serialize"]
