"""The one-kernel step of convolutional chains must equal the per-layer path up to float rounding (same math
in cache-sized micro-batches, no Python between layers, the same dropout masks), and give the same bits
threaded or serial."""
import numpy as np
import pytest

from nnplay.core import Sequential
from nnplay.core.layers import (AveragePooling2D, BatchNormalization, Conv1D, Conv2D, Dense, Dropout, Flatten,
                                 GlobalAveragePooling2D, GlobalMaxPooling2D, Input, MaxPooling2D, Reshape)
from nnplay.core.losses import SparseCategoricalCrossentropy
from nnplay.core.models.conv_chain import ConvChainStep
from nnplay.core.optimizers import SGD
from nnplay.core.regularizers import L2

pytestmark = pytest.mark.xdist_group("conv_chain")   # one process compiles the chain kernel's few signatures


def _stack(case, reg=None):
    if case == "plane-rows-sparse":     # C=1 stride 1: PLANE; C=6: ROWS; a hidden Dense layer
        return ((12, 12, 1), [Conv2D(6, 3, activation="relu", kernel_regularizer=reg), MaxPooling2D(2),
                              Conv2D(5, 3, activation="tanh"), MaxPooling2D(2), Flatten(),
                              Dense(7, activation="relu"), Dense(4, activation="softmax")],
                "sparse_categorical_crossentropy")
    if case == "strided-same-binary":   # stride 2 "same", no bias, overlapping "same" pooling
        return ((11, 9, 3), [Conv2D(4, (3, 2), strides=2, padding="same", use_bias=False, activation="leaky_relu"),
                             MaxPooling2D(3, strides=2, padding="same"), Flatten(),
                             Dense(1, activation="sigmoid")], "binary_crossentropy")
    if case == "onehot":                # C=3 stride 1: PLANE over three channels; 5x5 windows, "same"
        return ((8, 8, 3), [Conv2D(3, 5, padding="same", activation="elu"), MaxPooling2D(2), Flatten(),
                            Dense(3, activation="softmax")], "categorical_crossentropy")
    if case == "dropout":              # masks drawn as the layers draw them: after a pool and before the head
        return ((10, 10, 1), [Conv2D(4, 3, activation="relu"), MaxPooling2D(2), Dropout(0.3), Flatten(),
                              Dense(6, activation="relu"), Dropout(0.5), Dense(3, activation="softmax")],
                "sparse_categorical_crossentropy")
    if case == "average-global":       # mean pooling ("same": padded cells not counted), a global mean
        return ((10, 10, 2), [Conv2D(3, 3, padding="same", activation="relu"),
                              AveragePooling2D(3, strides=2, padding="same"), Conv2D(4, 3, activation="tanh"),
                              GlobalAveragePooling2D(), Dense(3, activation="softmax")],
                "sparse_categorical_crossentropy")
    if case == "global-max":
        return ((9, 9, 1), [Conv2D(5, 3, activation="relu"), GlobalMaxPooling2D(keepdims=True), Flatten(),
                            Dense(1, activation="sigmoid")], "binary_crossentropy")
    if case == "from-logits":           # a linear last layer and the loss given logits (TensorFlow's tutorials)
        return ((9, 9, 1), [Conv2D(4, 3, activation="relu"), MaxPooling2D(2), Flatten(), Dense(5)],
                SparseCategoricalCrossentropy(from_logits=True))
    return ((7, 7, 2), [Conv2D(3, 2, strides=(1, 2)), Flatten(), Dense(2)], "mse")   # linear, regression


def _targets(loss, n, k, rng):
    if not isinstance(loss, str) or loss.startswith("sparse"):
        return rng.integers(0, k, n)
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, n).astype(np.float32)
    if loss == "categorical_crossentropy":
        return np.eye(k, dtype=np.float32)[rng.integers(0, k, n)]
    return rng.standard_normal((n, k)).astype(np.float32)


def _pair(case, reg=None):
    shape, _, loss = _stack(case)
    models = []
    for _ in range(2):
        _, layers, _ = _stack(case, reg)
        m = Sequential([Input(shape), *layers], seed=4)
        m.compile(optimizer=SGD(0.05), loss=loss)
        models.append(m)
    return models, shape, loss


def _close(a, b, tol=2e-4):
    scale = max(float(np.abs(b).max()), 1e-3)
    assert float(np.abs(np.asarray(a, np.float64) - b).max()) <= tol * scale


@pytest.mark.parametrize("case", ["plane-rows-sparse", "strided-same-binary", "onehot", "dropout", "average-global",
                                  "global-max", "from-logits", "linear-mse"])
@pytest.mark.parametrize("batch, micro, ranges", [(13, 4, 2), (1, None, None), (20, 32, 1), (9, 1, 3)])
def test_chain_step_matches_layer_by_layer(case, batch, micro, ranges):
    (fast, slow), shape, loss = _pair(case)
    assert isinstance(fast._fast, ConvChainStep)
    fast._fast.micro_batch, fast._fast.n_chunks = micro, ranges
    slow._fast = None                    # the per-layer path
    rng = np.random.default_rng(batch)
    k = fast.output_shape[-1]
    xs, ys = fast.check_data(rng.standard_normal((batch, *shape)).astype(np.float32), _targets(loss, batch, k, rng))
    for _ in range(3):
        lf, of = fast.train_step(xs, ys)
        ls, os_ = slow.train_step(xs, ys)
        assert lf == pytest.approx(ls, rel=2e-5, abs=1e-6)
        _close(of, os_)
        _close(fast.G, slow.G)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        _close(a, b)
    # inference (predict, evaluate) runs the same kernel forward only
    _close(fast.predict(xs, batch_size=5), slow.forward(xs, False))


def test_threaded_and_serial_ranges_give_the_same_bits():
    (a, b), shape, loss = _pair("plane-rows-sparse")
    rng = np.random.default_rng(0)
    xs, ys = a.check_data(rng.standard_normal((24, *shape)).astype(np.float32), _targets(loss, 24, 4, rng))
    for model, threads in ((a, True), (b, False)):
        model._fast.n_chunks, model._fast.micro_batch, model._fast.pacer.force = 2, 5, threads
        for _ in range(3):
            model.train_step(xs, ys)
    assert np.array_equal(a.G, b.G) and np.array_equal(a.P, b.P)


def test_chain_step_with_a_weight_regularizer_matches_layer_by_layer():
    (fast, slow), shape, loss = _pair("plane-rows-sparse", reg=L2(0.05))
    assert isinstance(fast._fast, ConvChainStep)
    slow._fast = None
    rng = np.random.default_rng(1)
    xs, ys = fast.check_data(rng.standard_normal((16, *shape)).astype(np.float32), _targets(loss, 16, 4, rng))
    for _ in range(3):
        lf, _ = fast.train_step(xs, ys)
        ls, _ = slow.train_step(xs, ys)
        assert lf == pytest.approx(ls, rel=2e-5)
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        _close(a, b)


def _plan(layers, loss="sparse_categorical_crossentropy", shape=(10, 10, 1)):
    m = Sequential([Input(shape), *layers], seed=0)
    m.compile(optimizer="sgd", loss=loss)
    return m._fast


def test_what_takes_the_chain_step_and_what_stays_per_layer():
    head = [Flatten(), Dense(3, activation="softmax")]
    assert isinstance(_plan([Conv2D(2, 3, activation="relu"), MaxPooling2D(2), *head]), ConvChainStep)
    assert isinstance(_plan([Conv2D(2, 3), Dropout(0.5), *head]), ConvChainStep)  # its masks drawn outside
    assert _plan([Conv2D(2, 3), BatchNormalization(), *head]) is None             # statistics of the batch
    assert _plan([Conv2D(2, 3, activity_regularizer=L2(0.1)), *head]) is None     # a penalty on activations
    assert _plan([Conv2D(2, 3), Reshape((64, 2)), Conv1D(2, 3), *head]) is None   # not in the chain's set
    assert _plan([Conv2D(2, 3, activation="sigmoid")], loss="mse") is None        # no Dense at the end
    assert _plan([Conv2D(2, 3), *head], loss="mae") is None                       # a loss the step lacks
    m = Sequential([Input((10, 10, 1)), Conv2D(2, 3), *head], seed=0)
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    m.layers[0].trainable = False                                                  # frozen: the layers' path
    m._replan()
    assert m._fast is None


def test_micro_batches_fit_the_cache_budget_and_ranges_follow_the_work():
    step = _plan([Conv2D(16, 3, activation="relu"), MaxPooling2D(2), Conv2D(32, 3, activation="relu"),
                  MaxPooling2D(2), Flatten(), Dense(10, activation="softmax")], shape=(28, 28, 1))
    m, _ = step._sizes(64)
    assert 4 <= m <= 8                        # ~370 KB a sample: a few samples per micro-batch
    tiny = _plan([Conv2D(2, 3), Flatten(), Dense(3, activation="softmax")], shape=(6, 6, 1))
    m, n = tiny._sizes(32)
    assert m == 32 and n == 1                 # small enough to run whole, on one thread
