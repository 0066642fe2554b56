"""The optimizer updates of :mod:`.optim` run on threads, one part of the buffer per thread.

A training step whose big products ran on threads leaves each thread's block of the weight gradients in
that core's cache. A serial update then pulls half of them across to the other core, and the next step's
threads pull the updated weights back: measured on the W2 benchmark (784-128-64-10, batch 64, Adam), the
update took 91 µs right after a threaded step against 34 µs after a serial one. Updating each part on the
thread that computed it keeps the data where it is.

Each function takes the same arguments as its namesake in :mod:`.optim`, except that ``seg`` becomes
``parts``: (threads, s, 2) int64, one segment table per thread (rows of zero length pad the shorter
tables). Iteration ``k`` of the loop runs part ``k``, as iteration ``k`` of :func:`.blas.split_gemm` runs
block ``k`` of a product; with Numba's OpenMP and workqueue layers the same thread takes it both times.
The parts never overlap, so threads change speed, never results. Only elementwise clipping is allowed
(``CLIP_NONE`` or ``CLIP_VALUE``): a norm over a variable cut in parts is not any part's own.

Each is a ``parallel=True`` kernel (seconds to compile), compiled only when a model's step runs on threads.
"""
from __future__ import annotations

from numba import prange

from . import optim
from ._jit import jit


@jit(parallel=True)
def sgd_step(p, g, slots, parts, clip_mode, clip, wd_lr, lr, momentum, nesterov):
    for k in prange(parts.shape[0]):
        optim.sgd_step(p, g, slots, parts[k], clip_mode, clip, wd_lr, lr, momentum, nesterov)


@jit(parallel=True)
def rmsprop_step(p, g, slots, parts, clip_mode, clip, wd_lr, lr, rho, momentum, epsilon, mom_row, avg_row):
    for k in prange(parts.shape[0]):
        optim.rmsprop_step(p, g, slots, parts[k], clip_mode, clip, wd_lr, lr, rho, momentum, epsilon,
                           mom_row, avg_row)


@jit(parallel=True)
def adam_step(p, g, slots, parts, clip_mode, clip, wd_lr, alpha, beta_1, beta_2, epsilon, amsgrad):
    for k in prange(parts.shape[0]):
        optim.adam_step(p, g, slots, parts[k], clip_mode, clip, wd_lr, alpha, beta_1, beta_2, epsilon, amsgrad)


@jit(parallel=True)
def adagrad_step(p, g, slots, parts, clip_mode, clip, wd_lr, lr, epsilon):
    for k in prange(parts.shape[0]):
        optim.adagrad_step(p, g, slots, parts[k], clip_mode, clip, wd_lr, lr, epsilon)


@jit(parallel=True)
def adadelta_step(p, g, slots, parts, clip_mode, clip, wd_lr, lr, rho, epsilon):
    for k in prange(parts.shape[0]):
        optim.adadelta_step(p, g, slots, parts[k], clip_mode, clip, wd_lr, lr, rho, epsilon)


@jit(parallel=True)
def nadam_step(p, g, slots, parts, clip_mode, clip, wd_lr, lr, beta_1, beta_2, epsilon, c_m, c_g, bc_2):
    for k in prange(parts.shape[0]):
        optim.nadam_step(p, g, slots, parts[k], clip_mode, clip, wd_lr, lr, beta_1, beta_2, epsilon,
                         c_m, c_g, bc_2)
