"""A whole training step of a convolutional chain in one kernel call, in cache-sized micro-batches.

A chain is Conv2D / pooling (max, average, global) / Dropout / Dense layers in a row (Flatten is free in a
flat buffer) ending in a Dense layer and a loss the fused step knows (:func:`.mlp.head_loss`). Layer by layer
over a whole batch, every activation of a CNN's first layers is several MB: each layer streams its input and
output through main memory, and the backward pass reads them back long after. Here each sample range (one per
kernel thread) is cut into micro-batches of a few samples; one micro-batch goes forward through every layer,
through the loss and back before the next starts, so what a layer writes is still in the core's cache when the
next one reads it. The arithmetic is the per-layer kernels' (:mod:`.conv`, :mod:`.pool`, :mod:`.dense`): a
micro-batch's weight gradients are added into its range's share, and the shares are added in range order, so
threaded and serial runs give the same bits (the per-layer path differs by float rounding only). The ranges
run on Python threads (:func:`nnplay.core.pacing.run_ranges`), not in a ``prange``: a parallel compile of this
kernel's body cost ~15 s more on a cold start.

Layer ``l`` is row ``l`` of ``spec`` (int64, columns ``S_*``) with ``alphas[l]``; its buffers sit in each
range's workspace row at the offsets ``offs[l]`` (columns ``O_*``), sized for ``m`` samples.
"""
from __future__ import annotations

from ._jit import jit
from .conv import PLANE, conv2d_backward, conv2d_forward
from .dense import dense_backward, dense_forward
from .mlp import LOSS_NONE, head_loss
from .pool import avgpool2d_backward, avgpool2d_forward, maxpool2d_backward, maxpool2d_forward

OP_CONV, OP_POOL, OP_DENSE, OP_DROP, OP_AVG = 0, 1, 2, 3, 4     # OP_POOL: max, OP_AVG: mean
# spec columns: input (H, W, C) and output (OH, OW, F) per sample (a Dense: n_in = H, units = F, the rest 1);
# window, strides, padding before; the conv's method, activation, bias flag and weight offsets in P (a
# Dropout: S_KOFF places its mask, see ``masks``).
(S_OP, S_H, S_W, S_C, S_OH, S_OW, S_F, S_KH, S_KW, S_SH, S_SW, S_PT, S_PL, S_METHOD, S_CODE, S_BIAS, S_KOFF,
 S_BOFF) = range(18)
SPEC_COLUMNS = 18
# offs columns: the layer's output a and pre-activation z, a conv's window matrix and PLANE scratch (in the
# workspace) and a max pool's argmax indices (in the index workspace)
O_A, O_Z, O_COLS, O_BUF, O_IDX = range(5)
OFFS_COLUMNS = 5


@jit
def _conv_scratch(ws, offs, spec, l, mb):
    """(cols, buf) of conv layer ``l`` for ``mb`` samples: the window matrix of its method, PLANE scratch."""
    OH, OW, kh, kw = spec[l, S_OH], spec[l, S_OW], spec[l, S_KH], spec[l, S_KW]
    K = kh * kw * spec[l, S_C]
    co, bo = offs[l, O_COLS], offs[l, O_BUF]
    if spec[l, S_METHOD] == PLANE:
        Hp, Wp = OH + kh - 1, OW + kw - 1
        total = mb * Hp * Wp
        used = total - (kh - 1) * Wp - (kw - 1)
        size = max(total * spec[l, S_C], used * spec[l, S_F])
        return ws[co:co + K * used].reshape((K, used)), ws[bo:bo + size]
    rows = mb * OH * OW
    return ws[co:co + rows * K].reshape((rows, K)), ws[bo:bo]


@jit
def _input(x1, ws, offs, spec, l, s, mb):
    """Layer ``l``'s input for samples [s, s + mb), flat: the batch's rows, or the layer before's output."""
    n_in = spec[l, S_H] * spec[l, S_W] * spec[l, S_C]
    if l == 0:
        return x1[s * n_in:(s + mb) * n_in]
    o = offs[l - 1, O_A]
    return ws[o:o + mb * n_in]


@jit
def _mask(masks, spec, l, total, s, mb):
    """Dropout layer ``l``'s mask for samples [s, s + mb) (the batch's masks: one block per layer)."""
    size = spec[l, S_H] * spec[l, S_W] * spec[l, S_C]
    o = total * spec[l, S_KOFF] + s * size
    return masks[o:o + mb * size]


@jit
def _times(v, mask, out):
    """out = v * mask: a Dropout's forward, and its backward on the gradient."""
    for i in range(out.size):
        out[i] = v[i] * mask[i]


@jit
def _forward(x1, P, spec, alphas, offs, ws, iws, masks, total, training, s, mb):
    """Every layer's forward pass for samples [s, s + mb) (outputs in the workspace)."""
    for l in range(spec.shape[0]):
        H, W, C, OH, OW, F = spec[l, S_H], spec[l, S_W], spec[l, S_C], spec[l, S_OH], spec[l, S_OW], spec[l, S_F]
        src = _input(x1, ws, offs, spec, l, s, mb)
        n_out = mb * OH * OW * F
        a = ws[offs[l, O_A]:offs[l, O_A] + n_out]
        op = spec[l, S_OP]
        if op == OP_DROP:
            if training:
                _times(src, _mask(masks, spec, l, total, s, mb), a)
            else:
                a[:] = src
            continue
        if op == OP_AVG:
            avgpool2d_forward(src.reshape((mb, H, W, C)), spec[l, S_KH], spec[l, S_KW], spec[l, S_SH],
                              spec[l, S_SW], spec[l, S_PT], spec[l, S_PL], a.reshape((mb, OH, OW, C)))
            continue
        if op == OP_POOL:
            idx = iws[offs[l, O_IDX]:offs[l, O_IDX] + n_out]
            maxpool2d_forward(src.reshape((mb, H, W, C)), spec[l, S_KH], spec[l, S_KW], spec[l, S_SH],
                              spec[l, S_SW], spec[l, S_PT], spec[l, S_PL], a.reshape((mb, OH, OW, C)),
                              idx.reshape((mb, OH, OW, C)))
            continue
        z = ws[offs[l, O_Z]:offs[l, O_Z] + n_out]
        ko, bo, code, use_bias = spec[l, S_KOFF], max(0, spec[l, S_BOFF]), spec[l, S_CODE], spec[l, S_BIAS] != 0
        bias = P[bo:bo + F]
        if op == OP_DENSE:
            dense_forward(src.reshape((mb, H)), P[ko:ko + H * F].reshape((H, F)), bias, use_bias, code, alphas[l],
                          z.reshape((mb, F)), a.reshape((mb, F)), None, False)
            continue
        kh, kw = spec[l, S_KH], spec[l, S_KW]
        cols, buf = _conv_scratch(ws, offs, spec, l, mb)
        conv2d_forward(src.reshape((mb, H, W, C)), P[ko:ko + kh * kw * C * F].reshape((kh, kw, C, F)), bias,
                       spec[l, S_SH], spec[l, S_SW], spec[l, S_PT], spec[l, S_PL], use_bias, code, alphas[l],
                       spec[l, S_METHOD], cols, buf, z.reshape((mb, OH, OW, F)), a.reshape((mb, OH, OW, F)))


@jit
def _add(Gp, off, g):
    """Gp[off:off + g.size] += g (a micro-batch's weight gradient into its range's share)."""
    for i in range(g.size):
        Gp[off + i] += g[i]


@jit
def _backward(x1, P, Gp, spec, alphas, offs, ws, iws, masks, total, g1, g2, g3, gt, s, mb):
    """Every layer's backward pass for samples [s, s + mb), dL/dz of the last layer in ``g1``; the weight
    gradients are added into ``Gp`` (``g3``: dL/dz scratch, apart from dL/da: a loop whose output overlaps
    its input runs unvectorised; ``gt``: one layer's weight gradients)."""
    L = spec.shape[0]
    cur, other = g1, g2
    for l in range(L - 1, -1, -1):
        H, W, C, OH, OW, F = spec[l, S_H], spec[l, S_W], spec[l, S_C], spec[l, S_OH], spec[l, S_OW], spec[l, S_F]
        n_in, n_out = mb * H * W * C, mb * OH * OW * F
        need_x = l > 0
        ga, gx = cur[:n_out], other[:n_in]
        op = spec[l, S_OP]
        if op == OP_DROP:
            if need_x:
                _times(ga, _mask(masks, spec, l, total, s, mb), gx)
            cur, other = other, cur
            continue
        if op == OP_AVG:
            if need_x:
                avgpool2d_backward(ga.reshape((mb, OH, OW, C)), spec[l, S_KH], spec[l, S_KW], spec[l, S_SH],
                                   spec[l, S_SW], spec[l, S_PT], spec[l, S_PL], gx.reshape((mb, H, W, C)))
            cur, other = other, cur
            continue
        if op == OP_POOL:
            if need_x:
                idx = iws[offs[l, O_IDX]:offs[l, O_IDX] + n_out]
                maxpool2d_backward(ga.reshape((mb, OH, OW, C)), idx.reshape((mb, OH, OW, C)), spec[l, S_SH],
                                   spec[l, S_SW], spec[l, S_KH], spec[l, S_KW], gx.reshape((mb, H, W, C)))
            cur, other = other, cur
            continue
        src = _input(x1, ws, offs, spec, l, s, mb)
        a = ws[offs[l, O_A]:offs[l, O_A] + n_out]
        z = ws[offs[l, O_Z]:offs[l, O_Z] + n_out]
        ko, bo, code, use_bias = spec[l, S_KOFF], spec[l, S_BOFF], spec[l, S_CODE], spec[l, S_BIAS] != 0
        logits = l == L - 1      # the loss gave dL/dz of the last layer
        if op == OP_DENSE:
            gw, gb = gt[:H * F], gt[H * F:H * F + F]
            dense_backward(src.reshape((mb, H)), P[ko:ko + H * F].reshape((H, F)), z.reshape((mb, F)),
                           a.reshape((mb, F)), ga.reshape((mb, F)), code, alphas[l], use_bias, logits, need_x,
                           g3[:n_out].reshape((mb, F)), gw.reshape((H, F)), gb, gx.reshape((mb, H)), None, False)
        else:
            kh, kw = spec[l, S_KH], spec[l, S_KW]
            n_w = kh * kw * C * F
            gw, gb = gt[:n_w], gt[n_w:n_w + F]
            cols, buf = _conv_scratch(ws, offs, spec, l, mb)
            ga4 = ga.reshape((mb, OH, OW, F))
            conv2d_backward(src.reshape((mb, H, W, C)), P[ko:ko + n_w].reshape((kh, kw, C, F)),
                            z.reshape((mb, OH, OW, F)), a.reshape((mb, OH, OW, F)), ga4, spec[l, S_SH],
                            spec[l, S_SW], spec[l, S_PT], spec[l, S_PL], code, alphas[l], use_bias, logits, need_x,
                            spec[l, S_METHOD], cols, buf, g3[:n_out].reshape((mb, OH, OW, F)),
                            gw.reshape((kh, kw, C, F)), gb, gx.reshape((mb, H, W, C)))
        _add(Gp, ko, gw)
        if use_bias:
            _add(Gp, bo, gb)
        cur, other = other, cur


@jit
def conv_chain_range(x, y, loss_kind, P, Gp, spec, alphas, offs, ws, iws, masks, out, m, b0, b1):
    """Samples [b0, b1) of the batch ``x`` in micro-batches of ``m``: forward (outputs into ``out``), loss
    (over the whole batch's rows) and backward, the weight gradients into ``Gp`` (overwritten). Returns
    this range's share of the loss. With ``loss_kind == LOSS_NONE`` only the forward runs (``y`` and ``Gp``
    are not touched).

    Each range has its own ``Gp``, ``ws`` and ``iws``, so ranges may run at once on separate threads (this
    kernel releases the GIL); adding their ``Gp`` in range order gives the same bits either way.

    Shapes:
        x: (batch, ...) C-contiguous; y: (batch, K), or (batch, 1) class indices (sparse); P, Gp: (n_params,);
        spec: (layers, SPEC_COLUMNS) int64; alphas: (layers,); offs: (layers + 1, OFFS_COLUMNS) int64 (the
        last row places the gradient buffers, see ``ConvChainStep``); ws: (workspace,) float;
        iws: (index workspace,) int32; masks: the Dropout layers' masks of the whole batch, layer ``l``'s
        (batch, its input size) block at ``batch * spec[l, S_KOFF]`` (read in training only); out: (batch, K).
    """
    x1 = x.reshape(-1)
    total = x.shape[0]
    L = spec.shape[0]
    last = L - 1
    K = spec[last, S_F]
    ao, zo = offs[last, O_A], offs[last, O_Z]
    # the row after the last layer places the three gradient buffers (g_len values each) and gt (gt_len)
    gbase, g_len, gt_len = offs[L, O_A], offs[L, O_Z], offs[L, O_COLS]
    g1 = ws[gbase:gbase + g_len]
    g2 = ws[gbase + g_len:gbase + 2 * g_len]
    g3 = ws[gbase + 2 * g_len:gbase + 3 * g_len]
    gt = ws[gbase + 3 * g_len:gbase + 3 * g_len + gt_len]
    grads = loss_kind != LOSS_NONE
    if grads:
        for i in range(Gp.size):
            Gp[i] = 0.0
    loss = 0.0
    for s in range(b0, b1, m):
        mb = min(m, b1 - s)
        _forward(x1, P, spec, alphas, offs, ws, iws, masks, total, grads, s, mb)
        al = ws[ao:ao + mb * K].reshape((mb, K))
        for i in range(mb):
            for j in range(K):
                out[s + i, j] = al[i, j]
        if not grads:
            continue
        zl = ws[zo:zo + mb * K].reshape((mb, K))
        loss += head_loss(loss_kind, zl, al, y[s:s + mb], spec[last, S_CODE], alphas[last], total,
                          g1[:mb * K].reshape((mb, K)))
        _backward(x1, P, Gp, spec, alphas, offs, ws, iws, masks, total, g1, g2, g3, gt, s, mb)
    return loss
