"""The engine learns what the tutorials say it learns (small, seeded, seconds each)."""
import numpy as np

from nnplay.core import Sequential
from nnplay.core.datasets import load
from nnplay.core.layers import Dense
from nnplay.core.optimizers import Adam
from nnplay.core.optimizers.schedules import CosineDecay


def test_two_hidden_layer_tanh_net_learns_spiral():
    x, y, xt, yt, _ = load("spiral", n_samples=1000, noise=0.0, seed=0)
    model = Sequential([Dense(8, activation="tanh", input_shape=(2,)), Dense(8, activation="tanh"),
                        Dense(1, activation="sigmoid")], seed=3)
    epochs, batch = 1000, 32
    steps = epochs * int(np.ceil(len(x) / batch))
    model.compile(optimizer=Adam(CosineDecay(0.01, steps, alpha=0.02)), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=batch, verbose=0)
    assert model.evaluate(xt, yt)[1] >= 0.95


def test_perceptron_cannot_learn_xor_but_one_hidden_layer_can():
    x, y, xt, yt, _ = load("xor", seed=0)
    perceptron = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))], seed=0)
    perceptron.compile(optimizer=Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    perceptron.fit(x, y, epochs=100, batch_size=10, verbose=0)
    assert perceptron.evaluate(xt, yt)[1] < 0.75

    net = Sequential([Dense(4, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0)
    net.compile(optimizer=Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    net.fit(x, y, epochs=100, batch_size=10, verbose=0)
    assert net.evaluate(xt, yt)[1] >= 0.9
