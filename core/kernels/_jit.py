"""The one set of Numba flags every nnplay kernel is compiled with.

* ``cache=True``: compiled once, loaded from the on-disk cache on later starts (Numba falls back to a
  per-user cache directory when site-packages is read-only).
* ``nogil=True``: training runs in a thread of the TUI; a kernel that holds the GIL freezes the screen.
* ``fastmath`` without ``nnan``/``ninf``: reassociation lets reductions vectorise, but NaN and inf must
  stay visible so the divergence guard can see a blow-up.
* ``error_model="numpy"``: division by zero gives inf/nan like NumPy instead of raising (no per-division check).
"""
from __future__ import annotations

import types as pytypes
import warnings

import numba
from numba.core import types

from . import _cache_lock, _cache_stamp

# A kernel compiled with parallel=True whose parallel loop is only taken in some specialisations has none in
# the others; Numba says so on every such compile. Only that one message is silenced.
warnings.filterwarnings("ignore", message="(?s).*'parallel=True' was specified but no transformation",
                        category=numba.NumbaPerformanceWarning)

FASTMATH = {"nsz", "arcp", "contract", "reassoc"}
FLAGS = dict(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")


def _start_thread_pool() -> None:
    """Start Numba's threading layer before any kernel loads: a cached kernel that calls a parallel one
    links against the layer's scheduler, which is otherwise only started by the first parallel dispatcher
    compiled or loaded (when a plain kernel comes first, loading it aborts: "Symbol not found:
    allocate_sched"). Uses a Numba internal; without it, kernels still work when a parallel one runs first.
    """
    try:
        from numba.np.ufunc.parallel import _launch_threads
    except ImportError:  # pragma: no cover - a Numba without it
        return
    _launch_threads()


_start_thread_pool()
_cache_lock.install()       # several nnplay processes may compile into one cache folder at once
_cache_stamp.install()      # a kernel's cache entry is stale once any kernel source changed


def _unliteral_calls(disp):
    """Type calls from other kernels by the arguments' plain types (``bool``, ``int64``), not their values.

    Numba types a constant argument as a literal (``Literal[bool](False)``) and compiles a kernel once per
    distinct value it is called with from other kernels: a product helper called with every combination of
    its transpose flags compiled four times, and everything it calls with it. One compilation per plain
    signature is the cold-start budget. (A choice that must be made at compile time is passed as ``None``
    or not: Numba prunes the branch of an ``is None`` test on an argument.)
    """
    base = getattr(disp, "get_call_template", None)
    if base is None:     # a Numba without this hook: kernels still work, compiled once per literal value
        return disp

    def get_call_template(args, kws):
        return base(tuple(types.unliteral(a) for a in args), {k: types.unliteral(v) for k, v in kws.items()})
    disp.get_call_template = get_call_template
    return disp


def jit(fn=None, **overrides):
    """``@jit`` or ``@jit(parallel=True)``: ``numba.njit`` with nnplay's flags, called from other kernels by
    plain argument types (see :func:`_unliteral_calls`)."""
    flags = {**FLAGS, **overrides}
    if fn is None:
        return lambda f: _unliteral_calls(numba.njit(**flags)(f))
    return _unliteral_calls(numba.njit(**flags)(fn))


_THREADED = {}


def chunked(fn):
    """A kernel whose ``prange`` loop runs the batch's chunks, compiled as two kernels from one source.

    The one returned runs the chunks one after the other (without ``parallel=True`` a ``prange`` is a
    ``range``); its twin, :func:`threaded`, runs one chunk per thread. Both compute the same chunks, so
    they give the same bits. A process that never runs a layer on threads never compiles the twin, and
    that is most of them: most training batches are one chunk, and inference stays serial until training
    found threads faster. (A parallel compile costs seconds: the loop's body is compiled again inside the
    thread function.) The twin has its own name, ``NAME_threads``, so each has its own on-disk cache.
    """
    serial = jit(fn)
    twin = pytypes.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + "_threads", fn.__defaults__,
                                fn.__closure__)
    twin.__qualname__, twin.__module__, twin.__doc__ = fn.__qualname__ + "_threads", fn.__module__, fn.__doc__
    _THREADED[serial] = jit(parallel=True)(twin)
    return serial


def threaded(kernel):
    """The threaded twin of a :func:`chunked` kernel, or None for any other kernel."""
    return _THREADED.get(kernel)
