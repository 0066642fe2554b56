"""A whole training step of an all-Dense network in one kernel call: forward, loss, backward.

Small playground networks (2 inputs, a few hidden units, batch 10) spend almost all their time in Python
between kernel calls, so a model made only of Dense layers runs its step here instead: one call computes
every layer, the loss and every gradient, writing gradients straight into the model's flat buffer ``G``.
The math is exactly the per-layer kernels' (:mod:`.dense`); the per-layer path remains the reference and
the tests compare the two.

Layer ``l`` is described by row ``l`` of ``spec`` (int64): ``[n_in, units, kernel_offset, bias_offset,
act_code, use_bias, update_in_step]`` (offsets into ``P``/``G``; ``bias_offset`` -1 without bias) and ``alphas[l]``.
Activations live in the flat scratch buffers ``zbuf``/``abuf`` at ``act_off[l]`` (room for the largest batch).
"""
from __future__ import annotations

import math


from ._jit import jit
from .activations import LINEAR, SIGMOID, act_grad_rows, act_scalar, act_scalar_grad, bias_act
from .dense import SPLIT_WORK, matmul  # noqa: F401  (SPLIT_WORK: the model reads it here)
from .mlp_update import forward_by_rows, grad_and_update

# loss kinds; LOSS_NONE: forward only (inference), nothing else is computed
LOSS_NONE, LOSS_MSE, LOSS_BCE_LOGITS, LOSS_CCE_LOGITS, LOSS_SPARSE_CCE_LOGITS = -1, 0, 1, 2, 3


@jit
def _log1p_exp(v):
    """log(1 + exp(v)) without overflow."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


@jit
def head_loss(loss_kind, zl, al, y, code, alpha, total, gz):
    """The loss of a batch's rows and gz = dL/dz of the last layer (fused with its activation for the
    cross-entropies, through ``act'(z)`` for MSE), both divided by the whole batch's ``total`` rows: a
    batch cut into pieces sums the pieces' values and gets the whole batch's gradient rows. A cross-entropy
    with a linear last layer (``code``) takes ``zl`` as the logits (Keras' ``from_logits=True``).

    Shapes: zl, al, gz: (rows, K); y: (rows, K), or (rows, 1) class indices for LOSS_SPARSE_CCE_LOGITS.
    """
    B, K = zl.shape
    loss = 0.0
    if loss_kind == LOSS_MSE:
        inv = 1.0 / (total * K)
        for i in range(B):
            for j in range(K):
                d = al[i, j] - y[i, j]
                loss += d * d
                g = 2.0 * d * inv
                gz[i, j] = g * act_scalar_grad(zl[i, j], al[i, j], code, alpha)
        return loss * inv
    logits = code == LINEAR      # a linear last layer and a loss given logits (from_logits=True)
    if loss_kind == LOSS_BCE_LOGITS:
        inv = 1.0 / (total * K)
        for i in range(B):
            for j in range(K):
                v = zl[i, j]
                loss += _log1p_exp(v) - v * y[i, j]
                p = act_scalar(v, SIGMOID, 0.0) if logits else al[i, j]
                gz[i, j] = (p - y[i, j]) * inv
        return loss * inv
    # softmax + categorical cross-entropy (one-hot or sparse targets)
    inv = 1.0 / total
    for i in range(B):
        m = zl[i, 0]
        for j in range(1, K):
            m = max(m, zl[i, j])
        s = 0.0
        for j in range(K):
            s += math.exp(zl[i, j] - m)
        lse = m + math.log(s)
        if loss_kind == LOSS_SPARSE_CCE_LOGITS:
            for j in range(K):
                gz[i, j] = (math.exp(zl[i, j] - lse) if logits else al[i, j]) * inv
            c = int(y[i, 0])
            loss += lse - zl[i, c]
            gz[i, c] -= inv
        else:
            ysum = 0.0
            for j in range(K):
                loss += y[i, j] * (lse - zl[i, j])
                ysum += y[i, j]
            for j in range(K):
                p = math.exp(zl[i, j] - lse) if logits else al[i, j]
                gz[i, j] = (p * ysum - y[i, j]) * inv
    return loss * inv


@jit
def mlp_train_step(x, y, loss_kind, P, G, spec, alphas, act_off, zbuf, abuf, gbuf1, gbuf2, slots, hp, parts,
                   parallel):
    """Forward + loss + backward for a stack of Dense layers; returns the loss (before regularization).
    With ``loss_kind == LOSS_NONE`` only the forward pass runs (``y``, ``G`` and the gbufs are not touched):
    the last layer's output is then in ``abuf``.

    ``parts``: None runs every product whole (a small model compiles nothing for splitting); an int cuts
    products of at least ``dense.SPLIT_WORK`` multiply-adds into that many blocks, run on Numba threads when
    ``parallel`` (the same blocks either way: the mode changes speed, not results).

    ``spec[l, 6]`` set (with ``parts``): layer ``l``'s products are cut by the rows of its kernel, and its
    kernel is updated by Adam block by block right after its gradient (:mod:`.mlp_update`; optimizer
    ``slots`` and step scalars ``hp``, None without ``parts``), unless the loss is not finite. The caller's
    optimizer updates every other weight. ``gbuf1`` holds the forward's shares meanwhile: (parts - 1) *
    batch * units at least.

    Shapes:
        x: (batch, n_in0); y: (batch, units_last), or (batch, 1) class indices for LOSS_SPARSE_CCE_LOGITS;
        P, G: (n_params,) flat weights and gradients; spec: (layers, 7) int64; alphas: (layers,);
        act_off: (layers,) int64; zbuf, abuf: (sum of max_batch*units,); gbuf1, gbuf2: (max_batch*max_units,);
        slots: (k, n_params); hp: (mlp_update.HP_SIZE,) float64.
    """
    B = x.shape[0]
    L = spec.shape[0]
    # ---- forward
    for l in range(L):
        n_in, units, ko, bo, code, use_bias = spec[l, 0], spec[l, 1], spec[l, 2], spec[l, 3], spec[l, 4], spec[l, 5]
        W = P[ko:ko + n_in * units].reshape((n_in, units))
        z = zbuf[act_off[l]:act_off[l] + B * units].reshape((B, units))
        a = abuf[act_off[l]:act_off[l] + B * units].reshape((B, units))
        if l == 0:
            _forward(x, W, z, gbuf1, spec[l, 6] != 0, parts, parallel)
        else:
            pn = spec[l - 1, 1]
            prev = abuf[act_off[l - 1]:act_off[l - 1] + B * pn].reshape((B, pn))
            _forward(prev, W, z, gbuf1, spec[l, 6] != 0, parts, parallel)
        bias = P[max(0, bo):max(0, bo) + units]
        bias_act(z, bias, use_bias, code, alphas[l], a)
    if loss_kind == LOSS_NONE:
        return 0.0
    # ---- loss and dL/dz of the last layer (fused with its activation for cross-entropies)
    last = L - 1
    K = spec[last, 1]
    zl = zbuf[act_off[last]:act_off[last] + B * K].reshape((B, K))
    al = abuf[act_off[last]:act_off[last] + B * K].reshape((B, K))
    gz = gbuf1[:B * K].reshape((B, K))
    loss = head_loss(loss_kind, zl, al, y, spec[last, 4], alphas[last], B, gz)
    # ---- backward (each layer's data gradient before its weight gradient: a fused update changes W)
    finite = math.isfinite(loss)
    cur, other = gbuf1, gbuf2
    for l in range(L - 1, -1, -1):
        n_in, units, ko, bo = spec[l, 0], spec[l, 1], spec[l, 2], spec[l, 3]
        W = P[ko:ko + n_in * units].reshape((n_in, units))
        gW = G[ko:ko + n_in * units].reshape((n_in, units))
        gz = cur[:B * units].reshape((B, units))
        if spec[l, 5]:
            for j in range(units):
                G[bo + j] = 0.0
            for i in range(B):
                for j in range(units):
                    G[bo + j] += gz[i, j]
        if l > 0:
            ga = other[:B * n_in].reshape((B, n_in))
            matmul(gz, False, W, True, ga, parts, parallel)
            zp = zbuf[act_off[l - 1]:act_off[l - 1] + B * n_in].reshape((B, n_in))
            ap = abuf[act_off[l - 1]:act_off[l - 1] + B * n_in].reshape((B, n_in))
            act_grad_rows(zp, ap, ga, spec[l - 1, 4], alphas[l - 1], False, ga, 0, B)
        update = spec[l, 6] != 0 and finite
        if l == 0:
            _grad_w(x, gz, gW, P, G, slots, hp, ko, update, parts, parallel)
        else:
            prev = abuf[act_off[l - 1]:act_off[l - 1] + B * n_in].reshape((B, n_in))
            _grad_w(prev, gz, gW, P, G, slots, hp, ko, update, parts, parallel)
        cur, other = other, cur
    return loss


@jit
def mlp_train_step_whole(x, y, loss_kind, P, G, spec, alphas, act_off, zbuf, abuf, gbuf1, gbuf2):
    """:func:`mlp_train_step` with every product whole (no ``parts``): a small model's step. Its own entry
    point, because each further argument of a kernel call costs Python time on every step (measured
    ~0.1-0.25 µs each, a few % of a playground network's ~8 µs step)."""
    return mlp_train_step(x, y, loss_kind, P, G, spec, alphas, act_off, zbuf, abuf, gbuf1, gbuf2, None, None,
                          None, False)


@jit
def _forward(a, W, z, scratch, by_rows, parts, parallel):
    """z = a @ W; a layer whose update runs in the step (``by_rows``, with ``parts``) cuts it by its rows."""
    if parts is None:
        matmul(a, False, W, False, z, parts, parallel)
    elif by_rows:
        forward_by_rows(a, W, z, scratch, parts, parallel)
    else:
        matmul(a, False, W, False, z, parts, parallel)


@jit
def _grad_w(a, gz, gW, P, G, slots, hp, off, update, parts, parallel):
    """gW = a.T @ gz; with ``update`` (and ``parts``), block by block with the weights' Adam update."""
    if parts is None:       # a small model's kernel compiles neither the split nor the update
        matmul(a, True, gz, False, gW, parts, parallel)
    elif update:
        grad_and_update(a, gz, P, G, slots, hp, off, parts, parallel)
    else:
        matmul(a, True, gz, False, gW, parts, parallel)
