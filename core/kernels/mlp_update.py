"""A big Dense layer's products and its Adam update, block by block, inside the MLP step.

The MLP step (:mod:`.mlp`) cuts its big products into one block of rows per thread. For the weight
gradient ``gW = x.T @ gz`` of such a layer it can also update the weights right there: each thread computes
its rows in tiles of a few KB and runs Adam over each tile while it is still in the core's first-level
cache, instead of leaving the gradient for a separate pass over the whole buffer. Measured on the W2
benchmark (784-128-64-10, batch 64, 2 threads): ~285 µs a step against ~315 µs with the update as a
separate threaded pass, which itself had cut ~45 µs from a serial one.

Each thread owns a block of the kernel's rows throughout the step: it computes the forward product's share
from those rows (``x[:, rows] @ W[rows]``, the shares added up after), their weight gradients and their
update, so the kernel, its gradients and the optimizer's slots never move between cores. Measured on W2,
one process, alternating: the forward cut by rows of W ran the step in 239-246 µs against 251-274 µs with it
cut by columns of the output.

The update is :func:`.optim.adam_range`, the optimizer's own code, so the numbers are the optimizer's; the
tiles are the same serial or threaded, so threads change no bit. ``hp`` carries the step's scalars
(float64): ``[alpha, 1 - beta_1, 1 - beta_2, epsilon, weight_decay * lr, clip_lo, clip_hi, amsgrad]``
(:meth:`nnplay.core.optimizers.Adam.fused_update`).
"""
from __future__ import annotations

from numba import prange

from ._jit import jit
from .blas import gemm_one, span
from .optim import adam_range

#: Elements of gradient per tile: ~24 KB of float32, inside a 32 KB first-level cache with room for the
#: inputs. Measured on W2: tiles of 24-64 rows (12-32 KB) were equally fast, 392 rows 5 % slower and
#: 4-8 rows slower again (more, smaller BLAS calls).
TILE_ELEMENTS = 6144
#: Length of ``hp``.
HP_SIZE = 8


@jit
def _rows_part(a, gz, P, G, slots, hp, off, parts, p):
    n_in, units = a.shape[1], gz.shape[1]
    gW = G[off:off + n_in * units].reshape((n_in, units))
    dt = P.dtype.type
    one = dt(1.0)
    alpha, omb1, omb2, eps, wdl = dt(hp[0]), dt(hp[1]), dt(hp[2]), dt(hp[3]), dt(hp[4])
    lo, hi = dt(hp[5]), dt(hp[6])
    amsgrad = hp[7] != 0.0
    tile = max(8, TILE_ELEMENTS // units)
    i0, i1 = span(n_in, parts, p)
    for r0 in range(i0, i1, tile):
        r1 = min(i1, r0 + tile)
        gemm_one(a[:, r0:r1], True, gz, False, gW[r0:r1], 0.0)
        adam_range(P, G, slots, off + r0 * units, off + r1 * units, one, lo, hi, wdl, alpha, omb1, omb2, eps,
                   amsgrad)


@jit(parallel=True)
def grad_and_update(a, gz, P, G, slots, hp, off, parts, parallel):
    """``G[off:...] = a.T @ gz`` as an (n_in, units) block, then Adam on those weights of ``P``, in ``parts``
    blocks of rows (on threads when ``parallel``), each in cache-sized tiles.

    Shapes: a: (batch, n_in) the layer's input; gz: (batch, units); P, G: (n,); slots: (2 or 3, n);
    hp: (HP_SIZE,) float64.
    """
    if parallel:
        for p in prange(parts):
            _rows_part(a, gz, P, G, slots, hp, off, parts, p)
    else:
        for p in range(parts):
            _rows_part(a, gz, P, G, slots, hp, off, parts, p)


@jit
def _share(a, W, z, scratch, parts, p):
    B, units = z.shape
    k0, k1 = span(W.shape[0], parts, p)
    out = z if p == 0 else scratch[(p - 1) * B * units:p * B * units].reshape((B, units))
    gemm_one(a[:, k0:k1], False, W[k0:k1], False, out, 0.0)


@jit(parallel=True)
def forward_by_rows(a, W, z, scratch, parts, parallel):
    """z = a @ W as ``parts`` shares ``a[:, rows] @ W[rows]`` (the rows of :func:`grad_and_update`'s blocks;
    on threads when ``parallel``), added up in order, so both modes give the same bits.

    Shapes: a: (batch, n_in); W: (n_in, units); z: (batch, units); scratch: ((parts - 1) * batch * units,).
    """
    if parallel:
        for p in prange(parts):
            _share(a, W, z, scratch, parts, p)
    else:
        for p in range(parts):
            _share(a, W, z, scratch, parts, p)
    B, units = z.shape
    for q in range(1, parts):
        zq = scratch[(q - 1) * B * units:q * B * units].reshape((B, units))
        for i in range(B):
            for j in range(units):
                z[i, j] += zq[i, j]
