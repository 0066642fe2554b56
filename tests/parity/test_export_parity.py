"""``nnplay export`` against the real frameworks: every family's exported script, run in its own process with
nnplay (and, for PyTorch, Keras) out of reach, loads the weights and reproduces nnplay's outputs to 1e-4
(``--check``); a short training run lowers the loss; a trained run folder exports and checks too. Each
framework's tests skip themselves where it is not installed (``pip install -e ".[parity]"``)."""
import importlib.util
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nnplay.core.cli import main
from nnplay.core.experiments import build_experiment
from nnplay.core.export import export_model, export_source
from nnplay.core.presets import parse_preset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from shared_presets import BIDIRECTIONAL  # noqa: E402

os.environ.setdefault("KERAS_BACKEND", "torch")
# one test process runs this module: its `checks` fixture exports and runs every family (~90 s), which each
# process of `pytest -n 2` would otherwise do again (the suite runs with --dist=loadgroup, see pyproject.toml)
pytestmark = pytest.mark.xdist_group("export-parity")

HAVE = {"keras": importlib.util.find_spec("keras") is not None and importlib.util.find_spec("torch") is not None,
        "pytorch": importlib.util.find_spec("torch") is not None}
FRAMEWORKS = [pytest.param(to, marks=pytest.mark.skipif(not HAVE[to], reason=f"needs {to}: pip install -e "
                                                                             f"\".[parity]\"")) for to in HAVE]
SCRIPT = {"keras": "model_keras.py", "pytorch": "model_pytorch.py"}
#: What a standalone script must not need: nnplay itself, and Keras for the PyTorch one.
BLOCKED = {"keras": "nnplay", "pytorch": "nnplay,keras"}
#: One preset of every family, and the layers they bring: MLP, CNN, SimpleRNN, LSTM, GRU, Embedding + LSTM,
#: Bidirectional (GRU and LSTM), conv autoencoder (same padding, UpSampling), VAE (Sampling), GAN generator.
FAMILIES = ["spiral", "cnn-font-digits", "rnn-sine", "lstm-sine", "gru-parity", "char-lstm", "bidirectional",
            "conv-autoencoder", "vae", "gan-digits", "augment", "transpose-valid"]
#: Keras' augmentation layers before a small CNN (the identity at inference; random transforms in training).
AUGMENT = """
name = "augment"
[data]
name = "font-digits"
n_samples = 300
size = 16
[[model.layers]]
type = "random_flip"
mode = "horizontal"
[[model.layers]]
type = "random_rotation"
factor = 0.05
[[model.layers]]
type = "random_translation"
height_factor = 0.1
width_factor = [-0.1, 0.2]
fill_mode = "constant"
fill_value = 0.5
[[model.layers]]
type = "random_zoom"
height_factor = 0.1
fill_mode = "nearest"
[[model.layers]]
type = "random_contrast"
factor = 0.2
value_range = [0, 1]
[[model.layers]]
type = "conv2d"
filters = 4
kernel_size = 3
activation = "relu"
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = 10
activation = "softmax"
[training]
loss = "sparse_categorical_crossentropy"
metrics = ["accuracy"]
epochs = 2
"""
#: Conv2DTranspose 'valid' with a kernel smaller than the stride (Keras' output length: the last cells of each
#: stride hold only the bias)
TRANSPOSE_VALID = """
name = "transpose-valid"
[data]
name = "font-digits"
n_samples = 200
size = 12
[[model.layers]]
type = "conv2d_transpose"
filters = 2
kernel_size = [2, 1]
strides = 3
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dense"
units = 10
activation = "softmax"
[training]
loss = "sparse_categorical_crossentropy"
epochs = 1
"""
TOML = {"bidirectional": BIDIRECTIONAL, "augment": AUGMENT, "transpose-valid": TRANSPOSE_VALID}
RUNNER = ("import runpy, sys; [sys.modules.__setitem__(m, None) for m in sys.argv[1].split(',')]; "
          "sys.argv = sys.argv[2:]; runpy.run_path(sys.argv[0], run_name='__main__')")
DIFF = re.compile(r"largest absolute difference from nnplay's outputs: (\S+)")


def run_script(script, to, *args, timeout=600, backend="torch"):
    """The exported script in a fresh process where nnplay (and Keras, for PyTorch) cannot be imported;
    ``backend=None`` leaves Keras' backend to the script."""
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if backend:
        env["KERAS_BACKEND"] = backend
    return subprocess.run([sys.executable, "-c", RUNNER, BLOCKED[to], str(script), *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=script.parent)


def export(name, to, out):
    if name in TOML:
        preset = parse_preset(TOML[name], source=f"{name}.toml")
        exp = build_experiment(preset)
        return export_model(preset, exp.model, to, out, dataset=exp.dataset).script
    return export_source(name, to, out).script


@pytest.fixture(scope="module")
def checks(tmp_path_factory):
    """Every family exported for every installed framework, and its ``--check`` run (two at a time)."""
    root = tmp_path_factory.mktemp("export-parity")
    jobs = [(name, to, export(name, to, root / f"{name}-{to}")) for to in HAVE if HAVE[to] for name in FAMILIES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(lambda job: run_script(job[2], job[1], "--check"), jobs))
    results = {(name, to): proc for (name, to, _), proc in zip(jobs, procs)}
    yield results
    lines = [f"{name:16s} {to:8s} {m.group(1) if (m := DIFF.search(p.stdout)) else 'failed'}"
             for (name, to), p in sorted(results.items())]
    print("\nlargest differences from nnplay's outputs:\n" + "\n".join(lines))


@pytest.mark.parametrize("to", FRAMEWORKS)
@pytest.mark.parametrize("name", FAMILIES)
def test_exported_script_reproduces_nnplay(checks, name, to):
    proc = checks[(name, to)]
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    diff = float(DIFF.search(proc.stdout).group(1))
    assert diff < 1e-4


def _epoch_losses(text):
    """The training loss of each epoch, from Keras' verbose=2 lines or the PyTorch loop's."""
    lines = [line for line in text.splitlines() if "val_loss" in line]
    return [float(re.search(r"(?<![\w'])loss: ([0-9.]+)", line).group(1)) for line in lines]


@pytest.mark.parametrize("to", FRAMEWORKS)
def test_exported_script_trains_and_the_loss_falls(to, tmp_path):
    script = export_source("spiral", to, tmp_path / "spiral").script
    proc = run_script(script, to, "--epochs", "2", backend=None)     # the script picks an installed backend
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    losses = _epoch_losses(proc.stdout)
    assert len(losses) == 2 and losses[1] < losses[0], proc.stdout
    assert "test:" in proc.stdout


@pytest.mark.parametrize("to", FRAMEWORKS)
def test_gan_script_trains_both_players(to, tmp_path):
    script = export_source("gan-ring", to, tmp_path / "gan").script
    proc = run_script(script, to, "--epochs", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert re.search(r"epoch 1/1 - d_loss: [0-9.]+ - g_loss: [0-9.]+ - d_real: [0-9.]+ - d_fake: [0-9.]+",
                     proc.stdout), proc.stdout


@pytest.mark.skipif(not HAVE["pytorch"], reason="needs torch: pip install -e \".[parity]\"")
def test_trained_run_folder_exports_to_pytorch_and_checks(tmp_path, capsys):
    run = tmp_path / "run"
    main(["run", "spiral", "--epochs", "30", "--out", str(run), "--quiet"])
    capsys.readouterr()
    out = tmp_path / "export"
    assert main(["export", str(run), "--to", "pytorch", "--out", str(out)]) == 0
    proc = run_script(out / "model_pytorch.py", "pytorch", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert float(DIFF.search(proc.stdout).group(1)) < 1e-4


@pytest.mark.skipif(not HAVE["pytorch"], reason="needs torch: pip install -e \".[parity]\"")
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_pytorch_augmentation_resamples_as_nnplay(interpolation, tmp_path):
    """The exported ``keras_affine`` (grid_sample) against nnplay's own affine transform, every fill mode."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from nnplay.core.layers.preprocessing import (affine_transform, rotation_matrices, translation_matrices,
                                                  zoom_matrices)

    preset = parse_preset(AUGMENT, source="augment.toml")
    exp = build_experiment(preset)
    text = export_model(preset, exp.model, "pytorch", tmp_path, dataset=exp.dataset).script.read_text()
    start = text.index("def keras_affine")
    scope = {"torch": torch, "F": F}
    exec(text[start:text.index("\n\n\n", start)], scope)
    rng = np.random.default_rng(0)
    x = rng.random((6, 12, 16, 3)).astype(np.float32)
    mats = np.concatenate([rotation_matrices(rng.uniform(-30, 30, 2), 12, 16),
                           zoom_matrices(rng.uniform(0.8, 1.2, 2), rng.uniform(0.8, 1.2, 2), 12, 16),
                           translation_matrices(rng.uniform(-3, 3, 2), rng.uniform(-3, 3, 2))])
    for fill_mode, padding, fill_value in (("constant", "zeros", 0.0), ("constant", "zeros", 0.5),
                                           ("nearest", "border", 0.0), ("reflect", "reflection", 0.0)):
        want = affine_transform(x, mats, interpolation, fill_mode, fill_value)
        got = scope["keras_affine"](torch.from_numpy(x), torch.from_numpy(mats).float(), interpolation, padding,
                                    fill_value).numpy()
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=fill_mode)
