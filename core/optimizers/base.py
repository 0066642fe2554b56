"""The optimizer base class: one flat parameter buffer, clipping, weight decay, schedules, state and
config; and the lookup (:func:`get`) every optimizer registers with. The rules are in :mod:`.rules`."""
from __future__ import annotations

import warnings


import numpy as np

from ..checks import non_negative as _non_negative
from ..checks import number as _number
from ..checks import positive as _positive
from ..errors import NnplayError, did_you_mean
from ..kernels import optim as K
from ..registry import Registry
from . import parts as _parts
from . import schedules
from .schedules import LearningRateSchedule

#: Every optimizer class by its ``key``; a subclass with a ``key`` registers itself.
_TABLE: Registry[type] = Registry("optimizer")

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

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.key:
            _TABLE.add(cls.key, cls)

    def __init__(self, learning_rate=0.001, *, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, name=None, **unknown):
        owner = type(self).__name__
        if "lr" in unknown:              # Keras 2's name, still in many tutorials (Keras 3 refuses it)
            learning_rate = unknown.pop("lr")
            warnings.warn(f"{owner}(lr=...): lr is Keras 2's name for learning_rate; nnplay takes it, Keras 3 "
                          f"refuses it", UserWarning, stacklevel=3)
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
        # this step's update (apply): its parts, run on threads or not, and the variables and runs it updates
        self._threads, self._parallel = 1, False
        self._step_vars, self._step_seg = self._seg_vars, self._seg
        self._cache: dict = {}                  # tables for the above, per (what, the variables they came from)

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
        """The learning rate as set: a float or a :class:`~nnplay.core.optimizers.schedules.LearningRateSchedule`."""
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
        self.use_segments(self.segment_runs(seg))
        names = self._slot_names()
        self._slots = np.zeros((len(names), size), dt)
        self._init_slots(self._slots)
        self._shape = (size,)
        self._dtype = dt
        self._reset_extra()
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self.set_state(pending)

    def segment_runs(self, segments) -> tuple[np.ndarray, np.ndarray]:
        """(the variables, the same merged into touching runs) for the segments a step updates."""
        seg = np.asarray(segments, dtype=np.int64).reshape(-1, 2)
        seg = seg[np.argsort(seg[:, 0], kind="stable")]
        seg = np.ascontiguousarray(seg[seg[:, 1] > 0])
        return seg, _parts.runs(seg)

    def use_segments(self, runs: tuple[np.ndarray, np.ndarray]) -> None:
        """Update only these segments from the next step on (frozen weights keep their values and slots);
        ``runs`` comes from :meth:`segment_runs`. Clipping norms cover the updated variables only."""
        self._seg_vars, run_arr = runs
        self._seg = self._seg_vars if self._mode == K.CLIP_NORM else run_arr
        self._step_vars, self._step_seg = self._seg_vars, self._seg

    @property
    def built(self) -> bool:
        return self._shape is not None

    def apply(self, P: np.ndarray, G: np.ndarray, parts: int = 1, parallel: bool = False,
              done: np.ndarray | None = None) -> None:
        """One training step: clip ``G`` (without modifying it), weight decay, update ``P`` in place,
        ``iterations += 1``.

        ``parts`` > 1: the step that wrote ``G`` cut its big products in that many blocks (to run them on
        threads when ``parallel``). The update then cuts each big variable in as many parts, run on the same
        threads when ``parallel`` (:mod:`.parts`); a norm clip keeps it whole. Like the products, the cut may
        change rounding; threads change no bit. ``done``: ``(offset, length)`` variables the step already
        updated with this step's :meth:`fused_update`; they are left alone.
        """
        if P.shape != self._shape or G.shape != self._shape:
            self._bad_buffers(P, G)
        s = self._schedule
        lr = self._lr if s is None else float(s(self.iterations))
        if parts == 1 and done is None:         # the common case pays one check
            self._update(P, G, lr)
        else:
            self._cut(parts, parallel, done)
            try:
                self._update(P, G, lr)
            finally:
                self._threads, self._step_vars, self._step_seg = 1, self._seg_vars, self._seg
        self.iterations += 1

    def _cut(self, parts: int, parallel: bool, done: np.ndarray | None) -> None:
        """This step's parts, threads and variables (:meth:`apply`)."""
        self._threads = parts if parts > 1 and self._mode in (K.CLIP_NONE, K.CLIP_VALUE) else 1
        self._parallel = parallel
        if done is None or not len(done):
            self._step_vars, self._step_seg = self._seg_vars, self._seg
        else:
            self._step_vars, self._step_seg = self._cached(("without", done.tobytes()), self._seg_vars,
                                                           lambda v: self._vars_and_seg(_parts.without(v, done)))

    def fused_update(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(slots, scalars)`` with which a training step may update its biggest weights itself, for this
        step, before :meth:`apply` updates the rest (``done``); None when this optimizer cannot (only Adam
        and AdamW can, without a norm clip)."""
        return None

    def _vars_and_seg(self, variables: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return variables, (variables if self._mode == K.CLIP_NORM else _parts.runs(variables))

    def _cached(self, key, source, make):
        """``make(source)``, kept until ``source`` (an array of the optimizer's) is replaced."""
        hit = self._cache.get(key)
        if hit is None or hit[0] is not source:
            if len(self._cache) > 64:
                self._cache.clear()
            hit = self._cache[key] = (source, make(source))
        return hit[1]

    def _thread_parts(self) -> np.ndarray | None:
        """This step's variables cut for its threads (:func:`.parts.cut`), or None when only the first part
        has work (no big variable)."""
        def make(variables):
            table = _parts.cut(variables, self._threads)
            return table if (table[1:, :, 1] > 0).any() else None
        return self._cached(("cut", self._threads), self._step_vars, make)

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



# ------------------------------------------------------------------------------------------ lookup


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
