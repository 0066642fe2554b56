"""Convolution, pooling, upsampling and batch-norm: kernels vs naive loops, finite differences, Keras shapes
and layouts, build-time shape errors, and a small CNN that learns."""
import sys
from pathlib import Path

import numpy as np
import pytest

from nnplay.core.errors import NnplayError
from nnplay.core.gradcheck import check_layer
from nnplay.core.kernels import conv as K
from nnplay.core.kernels import pool as P
from nnplay.core.kernels.activations import LINEAR, RELU, TANH
from nnplay.core.layers import (AveragePooling1D, AveragePooling2D, BatchNormalization, Conv1D, Conv2D,
                                Conv2DTranspose, Dense, Flatten, GlobalAveragePooling1D, GlobalAveragePooling2D,
                                GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D, Reshape,
                                UpSampling1D, UpSampling2D, layer_from_config)
from nnplay.core.models import Sequential

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import naive_conv as naive  # noqa: E402

TOL = 1e-5  # max relative error of the finite-difference checks (float64, eps 1e-6)
METHODS = {"direct": K.DIRECT, "rows": K.ROWS, "plane": K.PLANE}

# (batch, H, W, C, F, kh, kw, sh, sw, padding)
CONV_CASES = [
    (2, 7, 6, 3, 4, 3, 3, 1, 1, "valid"),     # odd kernel, non-square input
    (3, 7, 6, 3, 4, 2, 2, 2, 2, "same"),      # even kernel, stride 2, odd sizes: extra pad bottom/right
    (1, 5, 8, 2, 5, 4, 3, 2, 1, "same"),      # batch 1, 4x3 kernel, mixed strides
    (2, 9, 9, 1, 3, 4, 4, 3, 2, "same"),      # one channel, 4x4 kernel, stride 3/2
    (2, 6, 7, 9, 17, 3, 3, 2, 1, "same"),     # many channels and filters
    (2, 8, 8, 16, 8, 2, 2, 1, 1, "same"),     # even kernel, stride 1 "same": pad 0 before, 1 after
    (1, 8, 5, 8, 16, 3, 2, 2, 3, "valid"),
    (2, 8, 5, 1, 4, 4, 4, 1, 1, "same"),
    (2, 6, 6, 2, 3, 1, 1, 1, 1, "valid"),     # 1x1 kernel
    (1, 4, 4, 2, 3, 4, 4, 1, 1, "valid"),     # kernel as large as the input
]


def conv_buffers(method, x, kh, kw, out_hw, f):
    """The scratch arrays a layer would allocate for ``method``."""
    n, c = x.shape[0], x.shape[-1]
    oh, ow = out_hw
    empty = np.zeros(0, x.dtype)
    if method == K.ROWS:
        return np.empty((n * oh * ow, kh * kw * c), x.dtype), empty
    if method == K.PLANE:
        _, _, total, used = K.plane_geometry(n, oh, ow, kh, kw)
        return np.empty((kh * kw * c, used), x.dtype), np.empty(max(total * c, used * f), x.dtype)
    return np.zeros((0, 0), x.dtype), empty


def forward(method, x, w, b, sh, sw, pt, pl, use_bias, code, cols, buf, z, a):
    if method == K.DIRECT:
        K.conv2d_direct_forward(x, w, b, sh, sw, pt, pl, use_bias, code, 0.0, z, a)
    else:
        K.conv2d_forward(x, w, b, sh, sw, pt, pl, use_bias, code, 0.0, method, cols, buf, z, a)


def backward(method, x, w, z, a, grad_a, sh, sw, pt, pl, code, use_bias, logits, need_x, cols, buf, grad_w, grad_b,
             grad_x):
    if method == K.DIRECT:
        K.conv2d_direct_backward(x, w, z, a, grad_a, sh, sw, pt, pl, code, 0.0, use_bias, logits, need_x,
                                 np.empty_like(z), grad_w, grad_b, grad_x)
    else:
        K.conv2d_backward(x, w, z, a, grad_a, sh, sw, pt, pl, code, 0.0, use_bias, logits, need_x, method, cols, buf,
                          np.empty_like(z), grad_w, grad_b, grad_x)


def case_id(c):
    return "x".join(map(str, c[:5])) + f"-k{c[5]}{c[6]}-s{c[7]}{c[8]}-{c[9]}"


def with_methods(cases, stride_one):
    """(method, case) pairs; PLANE is a stride-1 method."""
    return [(m, c) for m in METHODS for c in cases if m != "plane" or stride_one(c)]


@pytest.mark.parametrize("method,case", with_methods(CONV_CASES, lambda c: c[7:9] == (1, 1)),
                         ids=lambda v: case_id(v) if isinstance(v, tuple) else v)
def test_conv2d_kernels_match_naive(method, case):
    n, h, w, c, f, kh, kw, sh, sw, padding = case
    method = METHODS[method]
    rng = np.random.default_rng(CONV_CASES.index(case))
    x = rng.standard_normal((n, h, w, c))
    wt = rng.standard_normal((kh, kw, c, f))
    b = rng.standard_normal(f)
    pads = naive.conv_pads(h, w, kh, kw, sh, sw, padding)
    z_ref = naive.conv2d(x, wt, b, (sh, sw), pads)
    z = np.empty(z_ref.shape)
    a = np.empty_like(z)
    cols, buf = conv_buffers(method, x, kh, kw, z.shape[1:3], f)
    forward(method, x, wt, b, sh, sw, pads[0], pads[2], True, TANH, cols, buf, z, a)
    np.testing.assert_allclose(z, z_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a, np.tanh(z_ref), rtol=1e-12, atol=1e-12)
    grad_a = rng.standard_normal(z.shape)
    grad_w, grad_b, grad_x = np.empty_like(wt), np.empty_like(b), np.empty_like(x)
    backward(method, x, wt, z, a, grad_a, sh, sw, pads[0], pads[2], TANH, True, False, True, cols, buf, grad_w,
             grad_b, grad_x)
    gx_ref, gw_ref, gb_ref = naive.conv2d_grads(x, wt, grad_a * (1 - np.tanh(z_ref) ** 2), (sh, sw), pads)
    np.testing.assert_allclose(grad_x, gx_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad_w, gw_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(grad_b, gb_ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("method", list(METHODS))
def test_conv2d_backward_flags(method):
    """grad_is_logits passes grad_a through as dL/dz; need_grad_x=False leaves grad_x alone; no bias."""
    method = METHODS[method]
    rng = np.random.default_rng(1)
    x, wt = rng.standard_normal((2, 6, 5, 2)), rng.standard_normal((3, 3, 2, 4))
    z, a = np.empty((2, 6, 5, 4)), np.empty((2, 6, 5, 4))
    cols, buf = conv_buffers(method, x, 3, 3, (6, 5), 4)
    forward(method, x, wt, np.zeros(1), 1, 1, 1, 1, False, RELU, cols, buf, z, a)
    np.testing.assert_allclose(z, naive.conv2d(x, wt, None, (1, 1), (1, 1, 1, 1)), atol=1e-12)
    grad_a = rng.standard_normal(z.shape)
    grad_w, grad_b, grad_x = np.empty_like(wt), np.full(4, 7.0), np.full(x.shape, 5.0)
    backward(method, x, wt, z, a, grad_a, 1, 1, 1, 1, RELU, False, True, False, cols, buf, grad_w, grad_b, grad_x)
    _, gw_ref, _ = naive.conv2d_grads(x, wt, grad_a, (1, 1), (1, 1, 1, 1))  # no relu mask: already dL/dz
    np.testing.assert_allclose(grad_w, gw_ref, atol=1e-10)
    assert np.all(grad_x == 5.0) and np.all(grad_b == 7.0)


def test_conv2d_float32_matches_float64():
    rng = np.random.default_rng(2)
    x, wt, b = rng.standard_normal((4, 10, 9, 3)), rng.standard_normal((3, 3, 3, 8)), rng.standard_normal(8)
    ref = naive.conv2d(x, wt, b, (1, 1), (1, 1, 1, 1))
    for method in (K.ROWS, K.PLANE):  # the training paths (float32 DIRECT would only add compile time)
        x32, w32, b32 = (v.astype(np.float32) for v in (x, wt, b))
        z = np.empty(ref.shape, np.float32)
        cols, buf = conv_buffers(method, x32, 3, 3, (10, 9), 8)
        K.conv2d_forward(x32, w32, b32, 1, 1, 1, 1, True, LINEAR, 0.0, method, cols, buf, z, z)
        np.testing.assert_allclose(z, ref, rtol=1e-4, atol=1e-4)


# (batch, H, W, Cin, Cout, kh, kw, s, padding)
TRANSPOSE_CASES = [(2, 4, 3, 2, 3, 3, 3, 2, "valid"), (1, 3, 5, 3, 2, 4, 4, 2, "same"),
                   (2, 3, 3, 2, 2, 2, 2, 3, "same"), (2, 4, 4, 3, 5, 3, 3, 1, "same"),
                   (1, 2, 3, 2, 2, 2, 3, 1, "valid"),
                   # "valid" with a kernel smaller than the stride: Keras' length, the last cells get the bias only
                   (2, 3, 2, 2, 3, 2, 1, 3, "valid")]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
@pytest.mark.parametrize("method", ["direct", "rows"])
def test_conv2d_transpose_kernels_match_naive(case, method):
    n, h, w, cin, cout, kh, kw, s, padding = case
    method = METHODS[method]
    layer = Conv2DTranspose(cout, (kh, kw), strides=s, padding=padding)
    layer.build((h, w, cin), np.random.default_rng(0), np.float64)
    oh, ow, _ = layer.output_shape
    keras_valid = (h * s + max(kh - s, 0), w * s + max(kw - s, 0))         # Keras' deconv_output_length
    assert (oh, ow) == (keras_valid if padding == "valid" else (h * s, w * s))
    rng = np.random.default_rng(3)
    x, wt, b = rng.standard_normal((n, h, w, cin)), rng.standard_normal((kh, kw, cout, cin)), rng.standard_normal(cout)
    z_ref = naive.conv2d_transpose(x, wt, b, (s, s), (oh, ow), (layer._pt, layer._pl))
    z, a = np.empty(z_ref.shape), np.empty(z_ref.shape)
    cols = np.empty((n * h * w, kh * kw * cout)) if method == K.ROWS else np.zeros((0, 0))
    K.conv2d_transpose_forward(x, wt, b, s, s, layer._pt, layer._pl, True, LINEAR, 0.0, method, cols, z, a)
    np.testing.assert_allclose(z, z_ref, atol=1e-12)
    # Gradients through the adjoint: the transposed conv is the data gradient of the forward-direction conv.
    grad_a = rng.standard_normal(z.shape)
    pads = (layer._pt, max(0, (h - 1) * s + kh - oh - layer._pt), layer._pl, max(0, (w - 1) * s + kw - ow - layer._pl))
    gx_ref = naive.conv2d(grad_a, wt, None, (s, s), pads)[:, :h, :w]
    _, gw_ref, _ = naive.conv2d_grads(grad_a, wt, x, (s, s), pads)
    grad_w, grad_b, grad_x = np.empty_like(wt), np.empty_like(b), np.empty_like(x)
    K.conv2d_transpose_backward(x, wt, z, a, grad_a, s, s, layer._pt, layer._pl, LINEAR, 0.0, True, False, True,
                                method, cols, np.empty_like(z), grad_w, grad_b, grad_x)
    np.testing.assert_allclose(grad_x, gx_ref, atol=1e-10)
    np.testing.assert_allclose(grad_w, gw_ref, atol=1e-10)
    np.testing.assert_allclose(grad_b, grad_a.sum(axis=(0, 1, 2)), atol=1e-10)


# (H, W, C, pool, strides, padding)
POOL_CASES = [(6, 4, 3, (2, 2), (2, 2), "valid"), (5, 7, 2, (2, 2), (2, 2), "valid"), (5, 4, 3, (3, 3), (2, 1), "same"),
              (7, 5, 2, (2, 3), (1, 2), "valid"), (4, 6, 1, (2, 2), (2, 2), "same"), (5, 5, 2, (3, 2), (3, 3), "same"),
              # 2x2 / 2 "same" on odd sizes: the last window hangs over the edge (not the unrolled whole-window path)
              (5, 7, 3, (2, 2), (2, 2), "same"), (4, 5, 2, (2, 2), (2, 2), "same"), (7, 4, 4, (2, 2), (2, 2), "same")]


@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_kernels_match_naive(case):
    h, w, c, pool, strides, padding = case
    rng = np.random.default_rng(4)
    x = rng.permutation(np.arange(2 * h * w * c, dtype=np.float64)).reshape(2, h, w, c)  # distinct: no ties
    pads = (*naive.same_pads(h, pool[0], strides[0]), *naive.same_pads(w, pool[1], strides[1])) \
        if padding == "same" else (0, 0, 0, 0)
    out_ref, where = naive.maxpool2d(x, pool, strides, pads)
    out, idx = np.empty(out_ref.shape), np.empty(out_ref.shape, np.int32)
    P.maxpool2d_forward(x, *pool, *strides, pads[0], pads[2], out, idx)
    np.testing.assert_array_equal(out, out_ref)
    grad_out = rng.standard_normal(out.shape)
    grad_x = np.full(x.shape, 9.0)
    P.maxpool2d_backward(grad_out, idx, *strides, *pool, grad_x)
    np.testing.assert_allclose(grad_x, naive.maxpool2d_grad(x.shape, where, grad_out), atol=1e-12)

    avg_ref = naive.avgpool2d(x, pool, strides, pads)
    avg = np.empty(avg_ref.shape)
    P.avgpool2d_forward(x, *pool, *strides, pads[0], pads[2], avg)
    np.testing.assert_allclose(avg, avg_ref, atol=1e-12)
    grad_x = np.full(x.shape, 9.0)
    P.avgpool2d_backward(grad_out, *pool, *strides, pads[0], pads[2], grad_x)
    np.testing.assert_allclose(grad_x, naive.avgpool2d_grad(x.shape, pool, strides, pads, grad_out), atol=1e-12)


@pytest.mark.parametrize("pool,strides", [((2, 2), (2, 2)), ((3, 3), (1, 1))])
def test_maxpool_tie_goes_to_first_maximum(pool, strides):
    x = np.ones((1, 4, 4, 2))
    out, idx = np.empty((1, *(((4 - p) // s + 1) for p, s in zip(pool, strides)), 2)), None
    idx = np.empty(out.shape, np.int32)
    P.maxpool2d_forward(x, *pool, *strides, 0, 0, out, idx)
    grad_x = np.empty_like(x)
    P.maxpool2d_backward(np.ones(out.shape), idx, *strides, *pool, grad_x)
    first = np.zeros((4, 4))
    for oh in range(out.shape[1]):
        for ow in range(out.shape[2]):
            first[oh * strides[0], ow * strides[1]] += 1  # the top-left cell of each window
    np.testing.assert_array_equal(grad_x[0, :, :, 0], first)


def test_upsampling_kernels_match_naive():
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 2))
    out = np.empty((2, 6, 12, 2))
    P.upsampling2d_forward(x, 2, 3, out)
    np.testing.assert_array_equal(out, naive.upsample2d(x, (2, 3)))
    grad_x = np.empty_like(x)
    P.upsampling2d_backward(out, 2, 3, grad_x)
    np.testing.assert_allclose(grad_x, 6 * x, atol=1e-12)


@pytest.mark.parametrize("kernel,strides,shape", [(4, 2, (7, 6, 2)), (2, 1, (5, 4, 3)), ((3, 4), (2, 3), (8, 9, 1))])
def test_layers_pad_like_tensorflow(kernel, strides, shape):
    """The layers' own "same" geometry (more padding at the bottom/right) against the naive reference."""
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, *shape))
    conv = Conv2D(3, kernel, strides=strides, padding="same")
    conv.build(shape, rng, np.float64)
    conv.params["bias"][...] = rng.standard_normal(3)
    (kh, kw), (sh, sw) = conv.kernel_size, conv.strides
    pads = naive.conv_pads(shape[0], shape[1], kh, kw, sh, sw, "same")
    np.testing.assert_allclose(conv.forward(x), naive.conv2d(x, conv.params["kernel"], conv.params["bias"],
                                                             (sh, sw), pads), atol=1e-12)
    for cls, ref in ((MaxPooling2D, lambda *a: naive.maxpool2d(*a)[0]), (AveragePooling2D, naive.avgpool2d)):
        pool = cls(kernel, strides=strides, padding="same")
        pool.build(shape, rng, np.float64)
        np.testing.assert_allclose(pool.forward(x), ref(x, (kh, kw), (sh, sw), pads), atol=1e-12)


@pytest.mark.parametrize("padding,pads", [("causal", (0, 0, 2, 0)), ("same", (0, 0, 1, 1)), ("valid", (0, 0, 0, 0))])
def test_conv1d_matches_naive(padding, pads):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 9, 2))
    layer = Conv1D(4, 3, padding=padding)
    layer.build((9, 2), rng, np.float64)
    w = layer.params["kernel"]
    assert w.shape == (3, 2, 4)
    ref = naive.conv2d(x[:, None], w[None], layer.params["bias"], (1, 1), pads)[:, 0]
    np.testing.assert_allclose(layer.forward(x), ref, atol=1e-12)


# ------------------------------------------------------------------------------------------ gradient checks
ACTIVATIONS = ["linear", "relu", "leaky_relu", "elu", "selu", "sigmoid", "hard_sigmoid", "tanh", "softmax",
               "softplus", "softsign", "swish", "gelu"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_conv2d_gradients_every_activation(activation):
    err = check_layer(Conv2D(4, 3, padding="same", activation=activation), (5, 4, 3), batch=2)
    assert max(err.values()) < TOL, err


CONV2D_GRAD_CASES = [
    dict(filters=3, kernel_size=2, strides=2, padding="same", shape=(7, 6, 2)),       # even kernel, odd sizes
    dict(filters=3, kernel_size=4, padding="same", shape=(6, 5, 1)),                  # PLANE, 4x4 same
    dict(filters=2, kernel_size=(4, 3), padding="same", shape=(6, 5, 9)),             # ROWS
    dict(filters=5, kernel_size=(3, 2), strides=(2, 3), shape=(9, 8, 2)),
    dict(filters=2, kernel_size=3, use_bias=False, shape=(5, 5, 2)),
]


@pytest.mark.parametrize("method,case", with_methods(CONV2D_GRAD_CASES, lambda c: c.get("strides", 1) == 1))
def test_conv2d_gradients(method, case):
    kw = dict(case)
    shape = kw.pop("shape")
    layer = Conv2D(activation="tanh", **kw)
    layer.build(shape, np.random.default_rng(1), np.float64)
    layer.method = METHODS[method]
    err = check_layer(layer, shape, batch=2)
    assert max(err.values()) < TOL, err
    assert layer.cache["s"].method == METHODS[method]


@pytest.mark.parametrize("kw,shape", [(dict(kernel_size=3, strides=2), (4, 3, 2)),
                                      (dict(kernel_size=4, strides=2, padding="same"), (3, 4, 2)),
                                      (dict(kernel_size=2, strides=3, padding="same", activation="sigmoid"), (3, 3, 2)),
                                      (dict(kernel_size=(3, 2), padding="same", activation="relu"), (4, 4, 3)),
                                      (dict(kernel_size=(2, 1), strides=3, activation="tanh"), (3, 2, 2))])
def test_conv2d_transpose_gradients(kw, shape):
    err = check_layer(Conv2DTranspose(3, **kw), shape, batch=2)
    assert max(err.values()) < TOL, err


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=4, padding="same", strides=2),
                                dict(kernel_size=3, padding="causal", activation="tanh")])
def test_conv1d_gradients(kw):
    err = check_layer(Conv1D(4, **kw), (9, 2), batch=2)
    assert max(err.values()) < TOL, err


def distinct(shape, batch=2, seed=6):
    """Inputs without ties (a tie makes the max non-differentiable)."""
    n = batch * int(np.prod(shape))
    return np.random.default_rng(seed).permutation(n).reshape(batch, *shape) * 0.1


@pytest.mark.parametrize("layer,shape,ties", [
    (MaxPooling2D(2), (5, 4, 3), False),
    (MaxPooling2D(3, strides=(2, 1), padding="same"), (5, 4, 3), False),
    (MaxPooling2D((2, 3), strides=1), (4, 5, 2), False),
    (AveragePooling2D(2), (5, 4, 3), True),
    (AveragePooling2D(3, strides=2, padding="same"), (5, 4, 3), True),
    (GlobalAveragePooling2D(), (3, 4, 2), True),
    (GlobalMaxPooling2D(), (3, 4, 2), False),
    (UpSampling2D((2, 3)), (3, 2, 2), True),
    (MaxPooling1D(2), (7, 2), False),
    (AveragePooling1D(3, strides=2, padding="same"), (7, 2), True),
    (GlobalAveragePooling1D(), (7, 2), True),
    (GlobalMaxPooling1D(), (7, 2), False),
    (UpSampling1D(3), (4, 2), True),
], ids=lambda v: type(v).__name__ if not isinstance(v, (tuple, bool)) else str(v))
def test_pooling_gradients(layer, shape, ties):
    x = None if ties else distinct(shape)
    err = check_layer(layer, shape, batch=2, x=x)
    assert max(err.values()) < TOL, err


@pytest.mark.parametrize("shape", [(5,), (3, 4, 2)])
@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradients(shape, training):
    layer = BatchNormalization()
    layer.build(shape, np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(7)
    layer.params["gamma"][...] = rng.uniform(0.5, 1.5, shape[-1])
    layer.params["beta"][...] = rng.standard_normal(shape[-1])
    layer.state["moving_variance"][...] = rng.uniform(0.5, 2.0, shape[-1])
    err = check_layer(layer, shape, batch=4, training=training)
    assert set(err) == {"x", "gamma", "beta"}
    assert max(err.values()) < TOL, err


def test_batchnorm_without_center_or_scale():
    err = check_layer(BatchNormalization(center=False, scale=False), (3,), batch=5, training=True)
    assert set(err) == {"x"} and err["x"] < TOL


# ------------------------------------------------------------------------------------------ batch norm semantics
def test_batchnorm_moving_statistics_and_inference():
    layer = BatchNormalization(momentum=0.9, epsilon=1e-3)
    layer.build((2, 2, 3), np.random.default_rng(0), np.float64)
    layer.params["gamma"][...] = [1.0, 2.0, 0.5]
    layer.params["beta"][...] = [0.0, -1.0, 3.0]
    x = np.random.default_rng(8).normal(2.0, 3.0, (5, 2, 2, 3))
    y_train, mean, var = naive.batchnorm_train(x, layer.params["gamma"], layer.params["beta"], 1e-3)
    np.testing.assert_allclose(layer.forward(x, training=True), y_train, atol=1e-12)
    np.testing.assert_allclose(layer.state["moving_mean"], 0.9 * 0.0 + 0.1 * mean, atol=1e-12)
    np.testing.assert_allclose(layer.state["moving_variance"], 0.9 * 1.0 + 0.1 * var, atol=1e-12)  # biased var
    mm, mv = layer.state["moving_mean"].copy(), layer.state["moving_variance"].copy()
    x2 = x[:2] + 1.0
    expect = layer.params["gamma"] * (x2 - mm) / np.sqrt(mv + 1e-3) + layer.params["beta"]
    np.testing.assert_allclose(layer.forward(x2, training=False), expect, atol=1e-12)
    assert np.array_equal(layer.state["moving_mean"], mm)  # inference leaves the statistics alone


def test_batchnorm_keras_weights_in_a_model():
    model = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(1)], seed=0)
    model.build()
    names = [f"{o.name}/{n}" for o, n in model.all_weights()]
    assert names[2:6] == ["batch_normalization/gamma", "batch_normalization/beta", "batch_normalization/moving_mean",
                          "batch_normalization/moving_variance"]
    assert [n for _, n in model.trainable_weights()] == ["kernel", "bias", "gamma", "beta", "kernel", "bias"]
    w = model.get_weights()
    np.testing.assert_array_equal(w[2], np.ones(4))
    np.testing.assert_array_equal(w[5], np.ones(4))
    model.compile(optimizer="adam", loss="mse")
    model.train_on_batch(np.random.default_rng(0).standard_normal((8, 3)), np.zeros((8, 1)))
    assert not np.array_equal(model.get_weights()[4], np.zeros(4))  # moving mean moved


# ------------------------------------------------------------------------------------------ Keras shapes and config
def test_keras_layouts_and_output_shapes():
    model = Sequential([Conv2D(16, 3, activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(2),
                        Conv2D(32, (3, 3), activation="relu"), MaxPooling2D(), Flatten(), Dense(10, "softmax")])
    model.build()
    assert [l.output_shape for l in model.layers] == [(26, 26, 16), (13, 13, 16), (11, 11, 32), (5, 5, 32), (800,),
                                                       (10,)]
    assert [w.shape for w in model.get_weights()] == [(3, 3, 1, 16), (16,), (3, 3, 16, 32), (32,), (800, 10), (10,)]
    assert model.count_params() == 12810
    assert not model.get_weights()[1].any()
    up = Sequential([Conv2DTranspose(4, 3, strides=2, padding="same", input_shape=(7, 7, 8)),
                     Conv2DTranspose(1, 4, strides=2), UpSampling2D(), GlobalAveragePooling2D()])
    up.build()
    assert [l.output_shape for l in up.layers] == [(14, 14, 4), (30, 30, 1), (60, 60, 1), (1,)]
    assert up.layers[0].params["kernel"].shape == (3, 3, 4, 8)  # (kh, kw, out, in)
    assert Conv2D(2, 3, strides=2, padding="same").compute_output_shape((7, 8, 1)) == (4, 4, 2)
    assert Conv1D(2, 3, strides=2).compute_output_shape((9, 1)) == (4, 2)
    assert Conv1D(2, 3, padding="causal").compute_output_shape((9, 1)) == (9, 2)


def test_config_round_trip():
    layers = [Conv2D(8, (3, 2), strides=2, padding="same", activation="relu", kernel_regularizer="l2"),
              Conv2DTranspose(4, 3, strides=(2, 1)), Conv1D(3, 5, padding="causal"), MaxPooling2D(3, strides=2),
              AveragePooling2D(padding="same"), GlobalMaxPooling2D(keepdims=True), UpSampling2D(3),
              BatchNormalization(momentum=0.9), MaxPooling1D(3), GlobalAveragePooling1D()]
    for layer in layers:
        cfg = layer.get_config()
        again = layer_from_config(cfg)
        assert type(again) is type(layer) and again.get_config() == cfg
    cfg = layer_from_config({"type": "conv2d", "filters": 4, "kernel_size": 3}).get_config()
    assert cfg["kernel_size"] == [3, 3] and cfg["strides"] == [1, 1] and cfg["padding"] == "valid"
    assert cfg["kernel_initializer"] == "glorot_uniform" and cfg["bias_initializer"] == "zeros"
    assert layer_from_config({"type": "MaxPooling2D"}).pool_size == (2, 2)


def test_bad_arguments_echo_the_value():
    with pytest.raises(NnplayError, match="kernel_size=0"):
        Conv2D(4, 0)
    with pytest.raises(NnplayError, match=r"strides=\(1, -2\)"):
        Conv2D(4, 3, strides=(1, -2))
    with pytest.raises(NnplayError, match="filters=0"):
        Conv2D(0, 3)
    with pytest.raises(NnplayError, match="did you mean 'same'"):
        Conv2D(4, 3, padding="sme")
    with pytest.raises(NnplayError, match="pool_size=-1"):
        MaxPooling2D(-1)
    with pytest.raises(NnplayError, match="pool_size"):
        MaxPooling2D((2, 2, 2))
    with pytest.raises(NnplayError, match="channels-last"):
        Conv2D(4, 3, data_format="channels_first")
    with pytest.raises(NnplayError, match="dilation_rate=2"):
        Conv2D(4, 3, dilation_rate=2)
    Conv2D(4, 3, data_format="channels_last", dilation_rate=(1, 1))  # Keras' defaults are accepted


def shape_error(layers, input_shape) -> str:
    with pytest.raises(NnplayError) as info:
        Sequential(layers).build(input_shape)
    return str(info.value)


def test_shape_errors_name_the_layer_and_both_shapes():
    msg = shape_error([Dense(64), Conv2D(8, 3)], (10,))
    assert "'conv2d'" in msg and "(None, 64)" in msg and "(height, width, channels)" in msg
    assert "Reshape((8, 8, 1))" in msg
    msg = shape_error([Conv2D(4, 5, name="c1")], (3, 4, 1))
    assert "'c1'" in msg and "(None, 3, 4, 1)" in msg and "(5, 5)" in msg and "padding='same'" in msg
    msg = shape_error([Conv2D(4, 3), MaxPooling2D(3, name="pool")], (4, 4, 1))
    assert "'pool'" in msg and "(None, 2, 2, 4)" in msg and "(3, 3)" in msg
    assert "padding='same'" in shape_error([MaxPooling1D(5)], (3, 2))
    assert "Reshape((28, 28, 1))" in shape_error([Reshape((28, 28)), MaxPooling2D()], (784,))
    assert "channel (last) axis" in shape_error([BatchNormalization(axis=1)], (4, 4, 2))


def test_methods_agree_in_layers():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((5, 9, 8, 2))
    grad = rng.standard_normal((5, 9, 8, 6))
    outs = []
    for method in METHODS.values():
        layer = Conv2D(6, 3, padding="same", activation="relu")
        layer.build((9, 8, 2), np.random.default_rng(0), np.float64)
        layer.method = method
        y = layer.forward(x, True).copy()
        gx = layer.backward(grad).copy()
        outs.append((y, gx, layer.grads["kernel"].copy(), layer.grads["bias"].copy()))
        assert layer.backward(grad, need_grad_x=False) is None
    for other in outs[1:]:
        for a, b in zip(outs[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("layer", [Conv2D(3, 3, activation="relu"), Conv2D(3, 3, strides=2), Conv1D(3, 3),
                                   Conv2DTranspose(3, 3, activation="tanh"), MaxPooling2D(), AveragePooling2D()],
                         ids=lambda l: type(l).__name__)
def test_outputs_stay_valid_across_calls_and_batch_sizes(layer):
    """Layers keep scratch per batch size; what they return must never be overwritten by a later call."""
    shape = (6, 2) if isinstance(layer, Conv1D) else (6, 6, 2)
    layer.build(shape, np.random.default_rng(0), np.float64)
    rng = np.random.default_rng(12)
    xs = [rng.standard_normal((n, *shape)) for n in (4, 1, 3, 4, 2)]
    outs = [layer.forward(x, True) for x in xs]
    for x, out in zip(xs, outs):
        np.testing.assert_array_equal(out, layer.forward(x, True))
    grads = []
    for x, out in zip(xs, outs):
        layer.forward(x, True)
        grads.append(layer.backward(np.ones_like(out)).copy())
    layer.forward(xs[0], True)
    np.testing.assert_array_equal(layer.backward(np.ones_like(outs[0])), grads[0])


# ------------------------------------------------------------------------------------------ learning
def test_small_cnn_learns_font_digits():
    from nnplay.core.datasets import load
    from nnplay.core.optimizers import Adam

    data = load("font-digits", n_samples=1500, seed=0)
    model = Sequential([Conv2D(8, 3, activation="relu", input_shape=data.x_train.shape[1:]), MaxPooling2D(2),
                        Conv2D(16, 3, activation="relu"), MaxPooling2D(2), Flatten(),
                        Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer=Adam(learning_rate=3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, epochs=6, batch_size=32, verbose=0)
    loss, acc = model.evaluate(data.x_test, data.y_test)
    assert acc >= 0.9, (loss, acc)
