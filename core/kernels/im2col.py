"""The window matrices behind the GEMM convolutions: im2col rows (ROWS) and shifted padded planes
(PLANE, stride 1), and the scatter back (col2im) for the data gradient. See :mod:`.conv`."""
from __future__ import annotations

from ._jit import jit


# ---------------------------------------------------------------------------------------- elementwise
# (bias + activation epilogues are shared with the dense kernels: see .activations.bias_act)

@jit
def _zero(a):
    """a[...] = 0 for a contiguous array (an explicit loop compiles faster than the array expression)."""
    a1 = a.reshape(-1)
    for i in range(a1.size):
        a1[i] = 0.0


# ---------------------------------------------------------------------------------------- im2col (rows)
# Two rules keep these copies at memory speed:
# * runs of (kw*C) values that are contiguous in x are copied by one loop (a loop over one channel
#   costs more in set-up than in copying);
# * every computed offset is written ``max(0, ...)``: Numba wraps negative indices, and an index LLVM
#   cannot prove non-negative gets a per-element check that stops vectorization (measured 10x).

@jit
def _im2col(x, kh, kw, sh, sw, pt, pl, OH, OW, cols):
    """cols[(n*OH + oh)*OW + ow, (i*kw + j)*C + c] = x[n, oh*sh - pt + i, ow*sw - pl + j, c] (0 outside).

    Shapes:
        x: (batch, H, W, C); cols: (batch*OH*OW, kh*kw*C).
    """
    N, H, W, C = x.shape
    x2 = x.reshape(N * H, W * C)
    KC = kw * C
    for n in range(N):
        for oh in range(OH):
            top = oh * sh - pt
            for ow in range(OW):
                row = max(0, (n * OH + oh) * OW + ow)
                left = ow * sw - pl
                j0, j1 = max(0, -left), min(kw, W - left)
                for i in range(kh):
                    ih = top + i
                    seg = max(0, i * KC)
                    if ih < 0 or ih >= H or j1 <= j0:
                        for q in range(KC):
                            cols[row, seg + q] = 0.0
                        continue
                    for q in range(j0 * C):
                        cols[row, seg + q] = 0.0
                    dst = max(0, seg + j0 * C)
                    src = max(0, (left + j0) * C)
                    xr = max(0, n * H + ih)
                    for q in range((j1 - j0) * C):
                        cols[row, dst + q] = x2[xr, src + q]
                    tail = max(0, seg + j1 * C)
                    for q in range((kw - j1) * C):
                        cols[row, tail + q] = 0.0


@jit
def _col2im(cols, kh, kw, sh, sw, pt, pl, OH, OW, grad_x):
    """grad_x = the window columns of ``cols`` summed back into place (the adjoint of :func:`_im2col`).

    Shapes:
        cols: (batch*OH*OW, kh*kw*C); grad_x: (batch, H, W, C), overwritten.
    """
    N, H, W, C = grad_x.shape
    g2 = grad_x.reshape(N * H, W * C)
    _zero(g2)
    KC = kw * C
    for n in range(N):
        for oh in range(OH):
            top = oh * sh - pt
            for ow in range(OW):
                row = max(0, (n * OH + oh) * OW + ow)
                left = ow * sw - pl
                j0, j1 = max(0, -left), min(kw, W - left)
                for i in range(max(0, -top), min(kh, H - top)):
                    src = max(0, i * KC + j0 * C)
                    dst = max(0, (left + j0) * C)
                    gr = max(0, n * H + top + i)
                    for q in range((j1 - j0) * C):
                        g2[gr, dst + q] += cols[row, src + q]


# ---------------------------------------------------------------------------------------- im2col (plane)
# Stride 1 only. The input is zero-padded into a "plane" of Hp x Wp pixels per sample; output pixel
# (n, oh, ow) sits at plane index q = (n*Hp + oh)*Wp + ow and its tap (i, j) at q + i*Wp + j. So one
# kernel tap is one shifted copy of the whole plane: the transposed window matrix colsT (K, Lq) is built
# from K long copies, whatever the channel count. Plane rows that are not output pixels (the
# right/bottom margins) are computed and dropped. Best for few input channels (first layers).

@jit
def _plane_pad(x, pt, pl, Hp, Wp, xp):
    """xp[(n*Hp + pt + h)*Wp + pl + v, c] = x[n, h, v, c]; zero elsewhere. xp: (N*Hp*Wp, C)."""
    N, H, W, C = x.shape
    x2 = x.reshape(N * H, W * C)
    xp1 = xp.reshape(-1)
    _zero(xp1)
    for n in range(N):
        for h in range(H):
            d = max(0, ((n * Hp + pt + h) * Wp + pl) * C)
            r = max(0, n * H + h)
            for q in range(W * C):
                xp1[d + q] = x2[r, q]


@jit
def _plane_cols(xp, kh, kw, Wp, colsT):
    """colsT[(i*kw + j)*C + c, q] = xp[q + i*Wp + j, c] for q < Lq. colsT: (kh*kw*C, Lq)."""
    C = xp.shape[1]
    Lq = colsT.shape[1]
    for i in range(kh):
        for j in range(kw):
            off = max(0, i * Wp + j)
            for c in range(C):
                k = max(0, (i * kw + j) * C + c)
                for q in range(Lq):
                    colsT[k, q] = xp[off + q, c]


@jit
def _plane_col2im(colsT, kh, kw, Wp, xp):
    """Adjoint of :func:`_plane_cols`: xp[q + i*Wp + j, c] += colsT[(i*kw + j)*C + c, q] (xp zeroed first)."""
    C = xp.shape[1]
    Lq = colsT.shape[1]
    _zero(xp)
    for i in range(kh):
        for j in range(kw):
            off = max(0, i * Wp + j)
            for c in range(C):
                k = max(0, (i * kw + j) * C + c)
                for q in range(Lq):
                    xp[off + q, c] += colsT[k, q]


@jit
def _plane_rows(zp, Hp, Wp, z, to_plane):
    """Copy output rows between the plane layout zp (Lq, F) and z (N, OH, OW, F), either way.

    Going to the plane, the margin rows of zp are zeroed (they must not feed the weight gradient).
    """
    N, OH, OW, F = z.shape
    z2 = z.reshape(N * OH, OW * F)
    zp1 = zp.reshape(-1)
    if to_plane:
        _zero(zp1)
    for n in range(N):
        for oh in range(OH):
            d = max(0, (n * Hp + oh) * Wp * F)
            r = max(0, n * OH + oh)
            if to_plane:
                for q in range(OW * F):
                    zp1[d + q] = z2[r, q]
            else:
                for q in range(OW * F):
                    z2[r, q] = zp1[d + q]


@jit
def _plane_crop(xp, pt, pl, Hp, Wp, grad_x):
    """grad_x[n, h, v, c] = xp[(n*Hp + pt + h)*Wp + pl + v, c] (the adjoint of the padding)."""
    N, H, W, C = grad_x.shape
    g2 = grad_x.reshape(N * H, W * C)
    xp1 = xp.reshape(-1)
    for n in range(N):
        for h in range(H):
            d = max(0, ((n * Hp + pt + h) * Wp + pl) * C)
            r = max(0, n * H + h)
            for q in range(W * C):
                g2[r, q] = xp1[d + q]


def plane_geometry(batch: int, out_h: int, out_w: int, kh: int, kw: int) -> tuple[int, int, int, int]:
    """(Hp, Wp, L, Lq) of the PLANE method (stride 1): plane size, plane pixels, and used plane rows."""
    hp, wp = out_h + kh - 1, out_w + kw - 1
    total = batch * hp * wp
    return hp, wp, total, total - (kh - 1) * wp - (kw - 1)
