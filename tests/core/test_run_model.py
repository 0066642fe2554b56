"""``nnplay run PRESET --model FILE``: a saved model (nnplay's .npz or a .keras file) trains on a preset's
data and settings in place of its [model]."""
from __future__ import annotations

import json

import pytest

from nnplay.core.cli.main import main
from nnplay.core.datasets import load
from nnplay.core.keras import Input, Sequential, layers

FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]   # the spiral preset's inputs


def _trained_spiral(path):
    from nnplay.core.keras.utils import set_random_seed
    set_random_seed(0)                                   # the same start every run: it trains to the same place
    x, y, *_ = load("spiral", n_samples=500, seed=0, features=FEATURES, train_ratio=0.5)
    model = Sequential([Input((7,)), layers.Dense(8, activation="tanh"), layers.Dense(8, activation="tanh"),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=300, batch_size=10, verbose=0)
    model.save(path)
    return path


@pytest.mark.parametrize("suffix", [".keras", ".npz"])
def test_a_trained_model_file_starts_where_it_left_off(tmp_path, capsys, suffix):
    path = _trained_spiral(str(tmp_path / f"spiral{suffix}"))
    assert main(["run", "spiral", "--model", path, "--epochs", "1", "--json"]) == 0      # target met at once
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["metrics"]["test_accuracy"] >= 0.9
    assert main(["run", "spiral", "--epochs", "1", "--json"]) == 1                       # a fresh model is not
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["metrics"]["test_accuracy"] < 0.9


def test_the_command_line_says_which_model_trained(tmp_path, capsys):
    path = _trained_spiral(str(tmp_path / "spiral.keras"))
    main(["run", "spiral", "--model", path, "--epochs", "1"])
    assert f"the model from {path} instead of [model]" in capsys.readouterr().out


def test_a_model_that_does_not_take_the_data_or_a_gan_preset_gets_one_line(tmp_path, capsys):
    small = Sequential([Input((2,)), layers.Dense(1)])
    path = str(tmp_path / "small.keras")
    small.save(path)
    assert main(["run", "spiral", "--model", path]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "takes inputs of shape [2]" in err and "shape [7]" in err
    assert main(["run", "gan-ring", "--model", path]) == 2
    assert "GAN preset trains two models" in capsys.readouterr().err
    assert main(["run", "spiral", "--model", str(tmp_path / "missing.keras")]) == 2
    assert "does not exist" in capsys.readouterr().err
