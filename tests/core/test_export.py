"""``nnplay export`` without Keras or PyTorch installed: the files every family of preset writes, scripts that
compile, plain arrays that match nnplay's own weights and predictions, refusals that write nothing, the
output folder rules, run folders (trained weights) and the in-memory API. The scripts themselves run against
the real frameworks in tests/parity/test_export_parity.py."""
import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from nnplay.core.cli import main
from nnplay.core.errors import NnplayError
from nnplay.core.experiments import build_experiment
from nnplay.core.export import ExportError, arrays, export_model, export_source, write_data
from nnplay.core.layers import Add, Concatenate, Dense, Input, Layer
from nnplay.core.models import Model, Sequential, load_model
from nnplay.core.presets import apply_overrides, load_preset, parse_preset, shipped_preset_names

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from shared_presets import BIDIRECTIONAL  # noqa: E402

FRAMEWORKS = ("keras", "pytorch")
SCRIPT = {"keras": "model_keras.py", "pytorch": "model_pytorch.py"}
#: One preset of every family: MLP, CNN, SimpleRNN, LSTM, GRU, Embedding, autoencoders, VAE, GAN.
FAMILIES = ("spiral", "cnn-font-digits", "rnn-sine", "lstm-sine", "gru-parity", "char-lstm", "conv-autoencoder",
            "sparse-autoencoder", "denoising-autoencoder", "vae", "gan-digits")


AUGMENT = """
name = "augment"
[data]
name = "font-digits"
n_samples = 200
size = 16
[[model.layers]]
type = "random_flip"
[[model.layers]]
type = "random_rotation"
factor = 0.1
fill_mode = "wrap"
[[model.layers]]
type = "random_zoom"
height_factor = 0.1
[[model.layers]]
type = "random_contrast"
factor = [0.2, 0.3]
value_range = [0, 1]
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


def _fresh(source):
    return build_experiment(load_preset(source))


def _load_npz(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _compiles(path: Path) -> ast.Module:
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text, str(path))
    compile(text, str(path), "exec")
    return tree


def _ruff():
    try:
        import ruff  # noqa: F401
    except ImportError:
        return shutil.which("ruff")
    return sys.executable


# ------------------------------------------------------------------------------------------ every family
@pytest.mark.parametrize("to", FRAMEWORKS)
@pytest.mark.parametrize("name", FAMILIES)
def test_each_family_writes_a_script_weights_check_and_data(name, to, tmp_path):
    out = tmp_path / "out"
    result = export_source(name, to, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(["check.npz", "data.npz", "preset.toml", "weights.npz",
                                                            SCRIPT[to]])
    assert result.script == out / SCRIPT[to] and result.framework == to and result.data_written
    tree = _compiles(result.script)
    text = result.script.read_text()
    assert f"Made by `nnplay export --to {to}`" in ast.get_docstring(tree)
    assert "--check" in text and "--epochs" in text
    exp = _fresh(name)
    gan = exp.kind == "gan"
    # weights.npz: plain arrays named layer/weight, equal to nnplay's in Keras order
    weights = _load_npz(out / "weights.npz")
    models = {"generator/": exp.gan.generator, "discriminator/": exp.gan.discriminator} if gan else {"": exp.model}
    expected = []
    for prefix, model in models.items():
        expected += [(prefix, w) for w in model.get_weights()]
        for layer in model.layers:
            for owner, wname in layer.all_weights():
                assert any(k.startswith(f"{prefix}{layer.name}/") and k.endswith(f"/{wname}") for k in weights)
    assert len(weights) == len(expected)
    for (key, value), (prefix, want) in zip(weights.items(), expected):
        assert key.startswith(prefix) and value.dtype == want.dtype
        np.testing.assert_array_equal(value, want)
    # check.npz: nnplay's own predictions for its inputs, in inference mode
    check = _load_npz(out / "check.npz")
    assert set(check) == {"inputs", "outputs"} and len(check["inputs"]) == arrays.CHECK_SAMPLES
    np.testing.assert_array_equal(check["outputs"], exp.model.predict(check["inputs"]))
    if gan:
        assert check["inputs"].shape == (16, exp.preset.gan["latent_dim"])
    else:
        np.testing.assert_array_equal(check["inputs"], exp.dataset.x_test[:16])
    # data.npz: the preset's exact split
    data = _load_npz(out / "data.npz")
    np.testing.assert_array_equal(data["x_train"], exp.dataset.x_train)
    if exp.kind == "plain":
        for key in ("y_train", "x_test", "y_test"):
            np.testing.assert_array_equal(data[key], getattr(exp.dataset, key))
    assert load_preset(out / "preset.toml") == exp.preset


@pytest.mark.parametrize("name", shipped_preset_names())
def test_every_shipped_preset_exports_to_both_frameworks(name, tmp_path):
    for to in FRAMEWORKS:
        result = export_source(name, to, tmp_path / to)
        _compiles(result.script)
        for key in ("weights.npz", "check.npz"):
            with zipfile.ZipFile(tmp_path / to / key) as z:             # plain .npy members, no pickles
                assert all(n.endswith(".npy") for n in z.namelist())
            _load_npz(tmp_path / to / key)


def test_generated_scripts_pass_pyflakes_rules(tmp_path):
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed")
    paths = []
    for name, text in (("bi", BIDIRECTIONAL), ("aug", AUGMENT.replace('"wrap"', '"reflect"'))):
        preset = parse_preset(text, source=f"{name}.toml")
        exp = build_experiment(preset)
        for to in FRAMEWORKS:
            paths.append(export_model(preset, exp.model, to, tmp_path / f"{name}-{to}", dataset=exp.dataset).script)
    for to in FRAMEWORKS:
        for name in ("reg-gauss", "l1-sparsity", "vae", "gan-digits", "gru-parity", "conv-autoencoder",
                     "moons-dropout"):
            paths.append(export_source(name, to, tmp_path / f"{name}-{to}").script)
    cmd = [ruff, "-m", "ruff"] if ruff == sys.executable else [ruff]
    proc = subprocess.run([*cmd, "check", "--no-cache", "--select", "F", *map(str, paths)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bidirectional_weights_are_named_per_direction(tmp_path):
    preset = parse_preset(BIDIRECTIONAL, source="bidirectional.toml")
    exp = build_experiment(preset)
    export_model(preset, exp.model, "pytorch", tmp_path, dataset=exp.dataset)
    keys = list(_load_npz(tmp_path / "weights.npz"))
    assert keys[:6] == [f"bidirectional/{d}/{w}" for d in ("forward", "backward")
                        for w in ("kernel", "recurrent_kernel", "bias")]
    text = (tmp_path / "model_pytorch.py").read_text()
    assert "bidirectional=True" in text and "gru_gates(" in text and "weight_ih_l0_reverse" in text




def test_augmentation_layers_export(tmp_path):
    preset = parse_preset(AUGMENT, source="augment.toml")
    exp = build_experiment(preset)
    text = export_model(preset, exp.model, "keras", tmp_path / "k", dataset=exp.dataset).script.read_text()
    assert 'layers.RandomFlip("horizontal_and_vertical"),' in text
    assert 'layers.RandomRotation(0.1, fill_mode="wrap"),' in text and "layers.RandomZoom(0.1)," in text
    assert "layers.RandomContrast((0.2, 0.3), value_range=(0, 1))," in text
    check = _load_npz(tmp_path / "k" / "check.npz")                 # the identity at inference, as in Keras
    np.testing.assert_array_equal(check["outputs"], exp.model.predict(check["inputs"]))
    with pytest.raises(ExportError, match="fill_mode='wrap' has no counterpart in PyTorch's grid_sample"):
        export_model(preset, exp.model, "pytorch", tmp_path / "p", dataset=exp.dataset)
    preset = parse_preset(AUGMENT.replace('fill_mode = "wrap"', 'fill_mode = "reflect"'), source="augment.toml")
    exp = build_experiment(preset)
    result = export_model(preset, exp.model, "pytorch", tmp_path / "p", dataset=exp.dataset)
    text = result.script.read_text()
    _compiles(result.script)
    assert "def keras_affine(" in text and "x = torch.where(flip, x.flip(1, 2), x)" in text
    assert '"bilinear", "reflection")' in text and ".uniform_(0.8, 1.3)" in text


# ------------------------------------------------------------------------------------------ what the scripts say
def test_pytorch_script_converts_layouts_in_readable_code(tmp_path):
    text = export_source("cnn-font-digits", "pytorch", tmp_path / "cnn").script.read_text()
    assert "x = x.permute(0, 3, 1, 2)  # NHWC -> NCHW" in text
    assert "x = x.permute(0, 2, 3, 1)  # NCHW -> NHWC: Flatten keeps Keras' (height, width, channels) order" in text
    assert 'w["conv2d/kernel"].transpose(3, 2, 0, 1)' in text and 'w["dense/kernel"].T' in text
    assert "eps=1e-07" in text and "PyTorch adds eps after the bias correction" in text
    gru = export_source("gru-parity", "pytorch", tmp_path / "gru").script.read_text()
    assert "return np.concatenate([r, z, h], axis=-1)" in gru and "nn.GRU(1, 32, batch_first=True)" in gru
    lstm = export_source("lstm-sine", "pytorch", tmp_path / "lstm").script.read_text()
    assert "bias_hh_l0.requires_grad_(False)" in lstm and "x = x[:, -1]" in lstm
    conv_ae = export_source("conv-autoencoder", "pytorch", tmp_path / "cae").script.read_text()
    assert 'padding="same"' in conv_ae and 'nn.Upsample(scale_factor=2, mode="nearest")' in conv_ae
    reg = export_source("l1-sparsity", "pytorch", tmp_path / "l1").script.read_text()
    assert "def penalty(self):" in reg and "0.003 * self.dense.weight.abs().sum()" in reg
    assert "loss_fn(out, y) + model.penalty()" in reg
    sched = export_source("reg-gauss", "pytorch", tmp_path / "sched").script.read_text()
    assert "def learning_rate(step):" in sched and "math.cos" in sched and 'group["lr"] = learning_rate(step)' in sched


def test_keras_script_writes_keras_arguments_only_when_not_default(tmp_path):
    text = export_source("cnn-font-digits", "keras", tmp_path / "cnn").script.read_text()
    assert "layers.Conv2D(8, 3, activation=\"relu\")," in text and "layers.MaxPooling2D(2)," in text
    assert "keras.Input(shape=(16, 16, 1))" in text
    assert "keras.optimizers.Adam(learning_rate=0.005)" in text and "model.fit(" in text
    vae = export_source("vae", "keras", tmp_path / "vae").script.read_text()
    assert "class Sampling(layers.Layer):" in vae and 'Sampling(beta=0.004, name="bottleneck")' in vae
    assert "self.add_loss(" in vae and "model.fit(x_train, x_train" in vae
    sched = export_source("reg-gauss", "keras", tmp_path / "sched").script.read_text()
    assert "keras.optimizers.schedules.CosineDecay(initial_learning_rate=0.01, decay_steps=12000, alpha=0.05)" in sched
    gan = export_source("gan-digits", "keras", tmp_path / "gan").script.read_text()
    assert "def build_generator():" in gan and "def build_discriminator():" in gan
    assert "discriminator.trainable = False" in gan and "gan.train_on_batch(" in gan
    lstm = export_source("char-lstm", "keras", tmp_path / "text").script.read_text()
    assert 'keras.Input(shape=(20,), dtype="int32")' in lstm and "layers.LSTM(64)," in lstm


def test_functional_model_from_memory(tmp_path):
    preset = load_preset("spiral")
    exp = build_experiment(preset)
    inp = Input(shape=(7,))
    shared = Dense(4, activation="tanh", name="shared")
    a = shared(inp)
    b = Dense(4, activation="relu")(inp)
    c = shared(Dense(7)(b))
    out = Dense(1, activation="sigmoid")(Concatenate()([Add()([a, b]), c]))
    model = Model(inp, out, name="graph")
    for to in FRAMEWORKS:
        result = export_model(preset, model, to, tmp_path / to, dataset=exp.dataset)
        text = result.script.read_text()
        _compiles(result.script)
        np.testing.assert_array_equal(result.check_outputs, model.predict(result.check_inputs))
        assert "shared_call1" in text
    assert 'model.get_layer("shared").set_weights' in (tmp_path / "keras" / "model_keras.py").read_text()


# ------------------------------------------------------------------------------------------ refusals
class Mystery(Layer):
    """A layer type the exporters have never heard of."""

    def forward(self, x, training=False):
        return x

    def backward(self, grad_out, need_grad_x=True):
        return grad_out


@pytest.mark.parametrize("to", FRAMEWORKS)
def test_unknown_layer_type_is_refused_and_nothing_written(to, tmp_path):
    preset = load_preset("spiral")
    exp = build_experiment(preset)
    model = Sequential([Dense(4, input_shape=(7,)), Mystery(), Dense(1, activation="sigmoid")], name="odd")
    model.build()
    out = tmp_path / "out"
    with pytest.raises(ExportError) as info:
        export_model(preset, model, to, out, dataset=exp.dataset)
    message = str(info.value)
    assert "\n" not in message and "layer 'mystery' (Mystery) cannot be exported" in message
    assert not out.exists()


REFUSED = {
    "pytorch": ("lstm-relu", """
name = "lstm-relu"
[data]
name = "sine-next"
n_samples = 200
[[model.layers]]
type = "lstm"
units = 4
activation = "relu"
[[model.layers]]
type = "dense"
units = 1
[training]
loss = "mse"
epochs = 1
""", "layer 'lstm' (LSTM) cannot be exported to PyTorch: activation='relu'"),
    "keras": ("paper-adam", """
name = "paper-adam"
[data]
name = "xor"
[[model.layers]]
type = "dense"
units = 1
activation = "sigmoid"
[training]
loss = "binary_crossentropy"
epochs = 1
optimizer = { name = "adam", learning_rate = 0.01, epsilon_mode = "paper" }
""", "optimizer 'adam' with epsilon_mode='paper' cannot be exported to Keras"),
}


@pytest.mark.parametrize("to", FRAMEWORKS)
def test_cli_refusal_is_one_line_exit_2_and_writes_nothing(to, tmp_path, capsys):
    name, text, expected = REFUSED[to]
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    out = tmp_path / "out"
    code = main(["export", str(path), "--to", to, "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 2 and stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnplay: error: ") and expected in lines[0], stderr
    assert not out.exists()
    other = "keras" if to == "pytorch" else "pytorch"                 # the other framework takes it
    assert main(["export", str(path), "--to", other, "--out", str(out)]) == 0


def test_keras_refuses_nnplay_only_adam_epsilon_mode(tmp_path):
    preset = apply_overrides(load_preset("spiral"), {"training.optimizer.epsilon_mode": "paper"})
    with pytest.raises(ExportError, match="epsilon_mode='paper'"):
        export_model(preset, build_experiment(preset).model, "keras", tmp_path / "k")
    assert not (tmp_path / "k").exists()
    text = export_model(preset, build_experiment(preset).model, "pytorch", tmp_path / "p").script.read_text()
    assert "PyTorch adds eps after" not in text                    # torch's placement is the paper's: exact


def test_model_inside_a_model_is_refused(tmp_path):
    preset = load_preset("spiral")
    inner = Sequential([Dense(4, input_shape=(7,))], name="inner")
    outer = Sequential([inner, Dense(1, activation="sigmoid")], name="outer")
    outer.build((7,))
    with pytest.raises(ExportError, match="a model used as a layer"):
        export_model(preset, outer, "keras", tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------ folders
def test_default_folder_is_export_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "xor", "--to", "pytorch"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "export-xor" / "model_pytorch.py").is_file()
    assert "export-xor" in out and "--check" in out


def test_existing_folder_rules(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["export", "xor", "--to", "keras", "--out", str(out)]) == 2
    assert "is not empty and is not an earlier `nnplay export --to keras`" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    fresh = tmp_path / "fresh"
    assert main(["export", "xor", "--to", "keras", "--out", str(fresh)]) == 0
    assert main(["export", "circle", "--to", "keras", "--out", str(fresh)]) == 0      # an earlier keras export
    assert "circle" in (fresh / "model_keras.py").read_text()
    assert main(["export", "xor", "--to", "pytorch", "--out", str(fresh)]) == 2       # not a pytorch export
    assert not (fresh / "model_pytorch.py").exists()
    file = tmp_path / "file"
    file.write_text("x")
    assert main(["export", "xor", "--to", "keras", "--out", str(file)]) == 2
    capsys.readouterr()


def test_big_data_is_not_written_and_the_script_says_how(tmp_path, monkeypatch):
    out = tmp_path / "out"
    export_source("xor", "pytorch", out)
    assert (out / "data.npz").is_file()
    monkeypatch.setattr(arrays, "DATA_LIMIT", 100)
    result = export_source("xor", "pytorch", out)
    assert not result.data_written and not (out / "data.npz").exists()     # the old one would not match
    text = result.script.read_text()
    assert "more than nnplay export writes" in text and "write_data('preset.toml', 'data.npz')" in text
    made = write_data(out / "preset.toml", out / "data.npz")
    data, exp = _load_npz(made), _fresh("xor")
    np.testing.assert_array_equal(data["x_train"], exp.dataset.x_train)
    np.testing.assert_array_equal(data["y_test"], exp.dataset.y_test)


# ------------------------------------------------------------------------------------------ run folders
def test_run_folder_exports_the_trained_weights(tmp_path, capsys):
    run = tmp_path / "run"
    main(["run", "spiral", "--epochs", "3", "--out", str(run), "--quiet"])
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["export", str(run), "--to", "pytorch", "--out", str(out)]) == 0
    trained = load_model(run / "model.npz")
    weights = list(_load_npz(out / "weights.npz").values())
    for got, want in zip(weights, trained.get_weights()):
        np.testing.assert_array_equal(got, want)
    fresh = _fresh("spiral").model.get_weights()
    assert any(not np.array_equal(got, want) for got, want in zip(weights, fresh))
    check = _load_npz(out / "check.npz")
    np.testing.assert_array_equal(check["outputs"], trained.predict(check["inputs"]))
    text = (out / "model_pytorch.py").read_text()
    assert "trained by `nnplay run`" in text and "EPOCHS = 3" in text


def test_run_folder_of_variants_and_non_run_folders(tmp_path, capsys):
    run = tmp_path / "run"
    main(["run", "optimizers", "--epochs", "1", "--out", str(run), "--quiet"])
    capsys.readouterr()
    assert main(["export", str(run), "--to", "keras", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "holds one run per variant (adam, momentum, sgd)" in err and len(err.splitlines()) == 1
    assert main(["export", str(run / "momentum"), "--to", "keras", "--out", str(tmp_path / "x")]) == 0
    assert "momentum=0.9" in (tmp_path / "x" / "model_keras.py").read_text()
    with pytest.raises(NnplayError, match="has no model.npz .* export the preset .*preset.toml instead"):
        export_source(tmp_path / "x", "keras", tmp_path / "y")              # an export folder is no run folder
    (tmp_path / "empty").mkdir()
    with pytest.raises(NnplayError, match="not a run folder .no preset.toml."):
        export_source(tmp_path / "empty", "keras", tmp_path / "y")


def test_gan_run_folder_exports_the_trained_generator(tmp_path, capsys):
    run = tmp_path / "gan"
    main(["run", "gan-ring", "--epochs", "1", "--out", str(run), "--quiet"])
    capsys.readouterr()
    result = export_source(run, "keras", tmp_path / "out")
    weights = _load_npz(tmp_path / "out" / "weights.npz")
    trained = load_model(run / "model.npz").get_weights()
    gen = [v for k, v in weights.items() if k.startswith("generator/")]
    for got, want in zip(gen, trained):
        np.testing.assert_array_equal(got, want)
    assert "saves the generator only" in result.script.read_text()


def test_unknown_framework_is_one_clear_error(tmp_path):
    with pytest.raises(NnplayError, match="export --to keras or --to pytorch"):
        export_source("xor", "jax", tmp_path)
