"""BLAS from inside the kernels: one product, a product cut into blocks, and a product split over threads.

Every kernel reaches BLAS through ``numba_xxgemm`` (the routine behind Numba's ``np.dot``, which calls
SciPy's BLAS), called directly so that strided blocks and ``C += A @ B`` need no copies.

Threads. OpenBLAS has its own thread pool; a BLAS call made from inside a Numba parallel region while that
pool has more than one thread oversubscribes the cores (measured: 1-7 GFLOP/s instead of 100+). nnplay's
own processes therefore run OpenBLAS single-threaded and split the big products themselves
(:func:`split_gemm`, one block of rows or columns per thread); see ``nnplay.core.system``.

A cached kernel that calls :func:`split_gemm` links against Numba's thread scheduler; ``._jit`` starts it
at import, so the caller itself need not be compiled with ``parallel=True`` (which costs seconds of
compilation on a cold start).
"""
from __future__ import annotations

import numpy as np
from numba import prange, types
from numba.np.linalg import ensure_blas

from ._jit import jit

ensure_blas()  # numba_xxgemm calls SciPy's BLAS; fail at import, not inside a kernel

# ``int numba_xxgemm(kind, transa, transb, m, n, k, *alpha, *a, lda, *b, ldb, *beta, *c, ldc)``: a symbol of
# Numba's helper library (column-major BLAS gemm for kind 's'/'d'). Resolved by name, so kernels that call
# it still cache to disk.
_xxgemm = types.ExternalFunction("numba_xxgemm", types.intc(
    types.char, types.char, types.char, types.intp, types.intp, types.intp,
    types.voidptr, types.voidptr, types.intp, types.voidptr, types.intp, types.voidptr, types.voidptr, types.intp))

# Products of at most this many multiply-adds (m*n*k) go to BLAS in one call; bigger ones are split into
# blocks below it. Measured with OpenBLAS: up to this size it runs single-threaded small-matrix kernels (the
# fastest for these shapes); above, it uses its thread pool, which on a busy 2-core machine made products
# 2-10x slower.
GEMM_BLOCK = 1 << 18
# Below this many multiply-adds a plain loop is cheaper than the BLAS call.
SMALL_GEMM = 4096

_ORD_N, _ORD_T = 78, 84  # 'N', 'T'


# ----------------------------------------------------------------------------------------------- BLAS
@jit
def _blas_gemm(a, ta, b, tb, c, beta):
    """One BLAS call: c = op(a) @ op(b) + beta * c, op = transpose when ``ta``/``tb``.

    Every array must have unit stride along its last axis (rows may be strided: blocks of bigger arrays).
    Row-major ``c`` is column-major ``c.T = op(b).T @ op(a).T``, hence the swapped operands.
    """
    m, n = c.shape
    k = a.shape[0] if ta else a.shape[1]
    size = c.itemsize
    scalars = np.empty(2, c.dtype)
    scalars[0] = 1.0
    scalars[1] = beta
    kind = 115 if size == 4 else 100  # 's' or 'd'
    _xxgemm(kind, _ORD_T if tb else _ORD_N, _ORD_T if ta else _ORD_N, n, m, k,
            scalars[0:1].ctypes, b.ctypes, max(b.strides[0] // size, b.shape[1], 1),
            a.ctypes, max(a.strides[0] // size, a.shape[1], 1),
            scalars[1:2].ctypes, c.ctypes, max(c.strides[0] // size, n, 1))


@jit
def _zero2d(c):
    """c[:, :] = 0 by loops (``c`` may be a strided block; array expressions cost more to compile)."""
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            c[i, j] = 0.0


@jit
def _loop_gemm(a, ta, b, tb, c, beta):
    """c = op(a) @ op(b) + beta * c by hand (small products); the inner loops run along rows."""
    m, n = c.shape
    k = a.shape[0] if ta else a.shape[1]
    if beta == 0.0:
        _zero2d(c)
    if tb:  # c[i, j] += dot(op(a)[i, :], b[j, :])
        for i in range(m):
            ci = c[i]
            for j in range(n):
                bj = b[j]
                s = 0.0
                if ta:
                    for p in range(k):
                        s += a[p, i] * bj[p]
                else:
                    ai = a[i]
                    for p in range(k):
                        s += ai[p] * bj[p]
                ci[j] += s
        return
    for i in range(m):  # c[i, :] += op(a)[i, p] * b[p, :]
        ci = c[i]
        for p in range(k):
            av = a[p, i] if ta else a[i, p]
            bp = b[p]
            for j in range(n):
                ci[j] += av * bp[j]


@jit
def gemm_one(a, ta, b, tb, c, beta):
    """c = op(a) @ op(b) + beta * c in one BLAS call (a plain loop for tiny products); see :func:`gemm`."""
    m, n = c.shape
    k = a.shape[0] if ta else a.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        if beta == 0.0:
            _zero2d(c)
        return
    if m * n * k <= SMALL_GEMM:
        _loop_gemm(a, ta, b, tb, c, beta)
    else:
        _blas_gemm(a, ta, b, tb, c, beta)


@jit
def gemm(a, ta, b, tb, c, beta):
    """c = op(a) @ op(b) + beta * c (``beta`` 0 or 1; with 0, ``c`` is only written).

    Shapes:
        op(a): (m, k); op(b): (k, n); c: (m, n). Unit stride along the last axis of each array.
    """
    m, n = c.shape
    k = a.shape[0] if ta else a.shape[1]
    if m * n * k <= GEMM_BLOCK:
        gemm_one(a, ta, b, tb, c, beta)
        return
    # Halve the larger of m and n until one block fits under GEMM_BLOCK; split k (blocks added up with
    # beta = 1) only once both are small: measured, k-blocks were up to 1.5x slower.
    bm, bn, bk = m, n, k
    while bm * bn * bk > GEMM_BLOCK:
        if bm >= bn and bm > 8:
            bm = (bm + 1) // 2
        elif bn > 8:
            bn = (bn + 1) // 2
        else:
            bk = (bk + 1) // 2
    for m0 in range(0, m, bm):
        m1 = min(m, m0 + bm)
        for n0 in range(0, n, bn):
            n1 = min(n, n0 + bn)
            for k0 in range(0, k, bk):
                k1 = min(k, k0 + bk)
                a_blk = a[k0:k1, m0:m1] if ta else a[m0:m1, k0:k1]
                b_blk = b[n0:n1, k0:k1] if tb else b[k0:k1, n0:n1]
                _blas_gemm(a_blk, ta, b_blk, tb, c[m0:m1, n0:n1], beta if k0 == 0 else 1.0)


@jit
def span(n, parts, p):
    """[start, stop) of part ``p`` when ``n`` items are cut into ``parts`` near-equal contiguous ranges."""
    return (n * p) // parts, (n * (p + 1)) // parts


@jit
def _gemm_part(a, ta, b, tb, c, beta, parts, p, by_rows):
    m, n = c.shape
    if by_rows:
        i0, i1 = span(m, parts, p)
        gemm_one(a[:, i0:i1] if ta else a[i0:i1], ta, b, tb, c[i0:i1], beta)
    else:
        j0, j1 = span(n, parts, p)
        gemm_one(a, ta, b[j0:j1] if tb else b[:, j0:j1], tb, c[:, j0:j1], beta)


@jit(parallel=True)
def split_gemm(a, ta, b, tb, c, beta, parts, parallel):
    """c = op(a) @ op(b) + beta * c as ``parts`` blocks of ``c`` (rows, or columns when ``c`` is wider than
    tall), one BLAS call each; ``parallel`` runs the blocks on Numba threads. The blocks are the same either
    way, so both modes give the same bits. Needs single-threaded BLAS when parallel (module docstring).

    Shapes: as :func:`gemm`.
    """
    m, n = c.shape
    if parts <= 1:
        gemm_one(a, ta, b, tb, c, beta)
        return
    by_rows = m >= n
    if parallel:
        for p in prange(parts):
            _gemm_part(a, ta, b, tb, c, beta, parts, p, by_rows)
    else:
        for p in range(parts):
            _gemm_part(a, ta, b, tb, c, beta, parts, p, by_rows)
