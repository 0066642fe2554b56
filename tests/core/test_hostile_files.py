"""Hostile files and API misuse: one NnplayError line, never a traceback, a hang or an unbounded read.

Files that could make a reader hang (named pipes) or read without end (/dev/zero, decompression bombs) are
read in a child process under an address-space cap and an alarm, so a regression fails the test instead of
the machine.
"""
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from nnplay.core import Sequential, load_model
from nnplay.core.datasets import load
from nnplay.core.errors import NnplayError
from nnplay.core.keras.utils import to_categorical
from nnplay.core.layers import Dense
from nnplay.core.presets import load_preset
from nnplay.core.safety import NpzReader, sanitize
from nnplay.core.training import Diverged, Trainer

XOR = (os.path.dirname(__file__) + "/../../presets/xor.toml")


def small_model():
    m = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(1)], seed=0)
    m.compile(optimizer="adam", loss="mse")
    return m


def npy_header(shape, dtype="<f8") -> bytes:
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def with_member(src, dst, name, header, payload=b"", compress=True):
    """A copy of the .npz ``src`` with member ``name`` replaced by ``header`` + ``payload``."""
    kind = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", kind) as b:
        for info in a.infolist():
            data = header + payload if info.filename == name + ".npy" else a.read(info)
            b.writestr(info.filename, data)
    return dst


# ------------------------------------------------------------------------------------------ capped child
CHILD = textwrap.dedent('''
    import json, os, resource, signal, sys
    import numpy as np
    from nnplay.core import load_model
    from nnplay.core.datasets import load
    from nnplay.core.presets import load_preset
    from nnplay.core.errors import NnplayError
    from nnplay.core.training.callbacks import CSVLogger
    from nnplay.core.datasets.pickle_data import read_pickle
    signal.alarm(60)                     # a hang (a pipe opened for reading) kills the child: the test fails
    with open("/proc/self/statm") as f:  # what the imports use, plus 400 MB: far less than any bomb inflates to
        used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (used + (400 << 20), resource.RLIM_INFINITY))
    out = {}
    for case, call in json.loads(sys.argv[1]).items():
        kind, arg = call
        try:
            {"model": lambda a: load_model(a), "preset": lambda a: load_preset(a),
             "data": lambda a: load(**a), "csvlog": lambda a: CSVLogger(a, append=True).on_train_begin(),
             "keras-data": lambda a: read_pickle(a, "cifar10")}[kind](arg)
            out[case] = ["ok", ""]
        except NnplayError as exc:
            out[case] = ["NnplayError", str(exc)]
        except BaseException as exc:
            out[case] = [type(exc).__name__, str(exc)[:300]]
    print(json.dumps(out))
''')


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Every hostile file read once in a capped child: ``{case: [exception type, message]}``."""
    d = tmp_path_factory.mktemp("hostile")
    good = small_model().save(d / "good.npz")
    os.mkfifo(d / "pipe.npz")
    os.mkfifo(d / "pipe.csv")
    os.mkfifo(d / "pipe.toml")
    os.symlink("/dev/zero", d / "zero.csv")
    os.symlink("/dev/zero", d / "zero.npz")
    # a weight claiming 320 MB of float64 where the model needs 3x4 (np.load would inflate it all first)
    bomb_w = with_member(good, d / "bomb-weight.npz", "w0000", npy_header((3, 40_000_000)), b"\0" * (1 << 20))
    # a dataset array whose header claims 2.4 GB
    np.savez(d / "data.npz", x=np.zeros((20, 2)), y=np.arange(20) % 2)
    bomb_x = with_member(d / "data.npz", d / "bomb-x.npz", "x", npy_header((300_000_000,)), b"\0" * (1 << 20))
    # an IDX whose header claims 2.2 GB (a 1 KB .gz), and one whose .gz inflates far past what its header says
    import gzip
    huge_idx = d / "huge-idx3-ubyte.gz"
    huge_idx.write_bytes(gzip.compress(b"\0\0\x08\x03" + (2_800_000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2))
    long_idx = d / "long-idx3-ubyte.gz"
    long_idx.write_bytes(gzip.compress(b"\0\0\x08\x03" + (10).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
                                       + b"\0" * (64 << 20)))
    cases = {
        "model-pipe": ["model", str(d / "pipe.npz")], "model-dev-zero": ["model", "/dev/zero"],
        "model-zero-link": ["model", str(d / "zero.npz")], "model-bomb": ["model", str(bomb_w)],
        "preset-pipe": ["preset", str(d / "pipe.toml")], "preset-dev-zero": ["preset", "/dev/zero"],
        "csv-pipe": ["data", {"name": str(d / "pipe.csv")}], "csv-zero-link": ["data", {"name": str(d / "zero.csv")}],
        "idx-dev-zero": ["data", {"name": "idx", "images": "/dev/zero"}],
        "idx-huge-claim": ["data", {"name": "idx", "images": str(huge_idx)}],
        "idx-inflates-past-header": ["data", {"name": "idx", "images": str(long_idx)}],
        "npz-bomb": ["data", {"name": str(bomb_x)}],
        "csvlogger-pipe": ["csvlog", str(d / "pipe.csv")], "keras-pickle-pipe": ["keras-data", str(d / "pipe.csv")],
    }
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cases)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize("case, words", [
    ("model-pipe", "is a named pipe, not a regular file"), ("model-dev-zero", "is a device or socket"),
    ("model-zero-link", "is a device or socket"), ("model-bomb", "has shape (3, 40000000), but the model needs (3, 4)"),
    ("preset-pipe", "is a named pipe"), ("preset-dev-zero", "is a device or socket"),
    ("csv-pipe", "is a named pipe"), ("csv-zero-link", "is a device or socket"),
    ("idx-dev-zero", "is a device or socket"), ("idx-huge-claim", "claims 2,195,200,000 values"),
    ("idx-inflates-past-header", "its header (10, 28, 28) needs 7840"), ("npz-bomb", "(array 'x') claims 2.2 GB"),
    ("csvlogger-pipe", "is a named pipe"), ("keras-pickle-pipe", "not a regular file"),
])
def test_pipes_devices_and_bombs_are_refused_without_reading_them(hostile, case, words):
    kind, message = hostile[case]
    assert kind == "NnplayError", (case, kind, message)
    assert words in message and "\n" not in message, (case, message)


# ------------------------------------------------------------------------------------------ model files
def _rewrite_meta(src, dst, change):
    with np.load(src) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    meta = change(meta)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(dst, **arrays)
    return dst


@pytest.mark.parametrize("change, words", [
    (lambda m: {**m, "config": "garbage"}, "it has no model config"),
    (lambda m: {k: v for k, v in m.items() if k != "config"}, "it has no model config"),
    (lambda m: {**m, "version": "1"}, "format version '1'"),
    (lambda m: {**m, "compile": {"optimizer": 5}}, "cannot be rebuilt from its config"),
    (lambda m: {**m, "compile": [1]}, "compile settings are not a table"),
    (lambda m: {**m, "config": {**m["config"], "layers": [{"type": "dense", "units": "x"}]}}, "units"),
    (lambda m: {**m, "config": {**m["config"], "input_shape": [10 ** 12]}}, "of memory is available"),
    (lambda m: {**m, "config": {**m["config"], "layers": [{"type": "dense", "units": 1, "name": "\x1b]0;x\x07"}]}},
     "name must be text without control characters"),
])
def test_model_files_with_broken_configs_are_one_line(tmp_path, change, words):
    path = _rewrite_meta(small_model().save(tmp_path / "good.npz"), tmp_path / "bad.npz", change)
    with pytest.raises(NnplayError, match=None) as info:
        load_model(path)
    assert words in str(info.value) and "bad.npz" in str(info.value)


def test_model_file_weights_are_checked_before_they_are_read(tmp_path):
    good = small_model().save(tmp_path / "good.npz")
    strings = with_member(good, tmp_path / "s.npz", "w0000", npy_header((3, 4), "<U1"), b"\0" * 48)
    with pytest.raises(NnplayError, match=r"\(array 'w0000'\) holds <U1 values"):
        load_model(strings)
    short = with_member(good, tmp_path / "t.npz", "w0000", npy_header((3, 4), "<f4"), b"\0" * 20)
    with pytest.raises(NnplayError, match="holds 20 bytes of values, but its header needs 48"):
        load_model(short)
    with NpzReader(good, "good") as z:       # the reader itself: shapes and dtypes from the header alone
        assert z.header("w0000") == ((3, 4), np.dtype("float32"), False)
        assert z.read("w0000", expect_shape=(3, 4)).dtype == np.float32
    assert np.allclose(load_model(good).get_weights()[0], small_model().get_weights()[0])


# ------------------------------------------------------------------------------------------ data files
def test_csv_values_are_checked_where_they_are_read(tmp_path):
    rows = "".join(f"{i % 5},{i % 2}\n" for i in range(20))
    (tmp_path / "nan.csv").write_text("a,y\n" + rows + "3,nan\n")
    (tmp_path / "big.csv").write_text("a,y\n" + rows + "1e300,1\n")
    (tmp_path / "gap.csv").write_text("a,y\n" + rows + "3,\n")
    with pytest.raises(NnplayError, match=r"line 22, column 2 \(y\): the target 'nan' is not a finite number"):
        load(str(tmp_path / "nan.csv"))
    with pytest.raises(NnplayError, match=r"line 22, column 1 \(a\): '1e300' is beyond float32's range"):
        load(str(tmp_path / "big.csv"))
    with pytest.raises(NnplayError, match=r"line 22, column 2 \(y\): the target is empty"):
        load(str(tmp_path / "gap.csv"))
    np.savez(tmp_path / "inf.npz", x=np.array([[1.0], [np.inf], [2.0], [3.0]]), y=np.array([0, 1, 0, 1]))
    with pytest.raises(NnplayError, match=r"x\[1, 0\] = inf is not a finite number"):
        load(str(tmp_path / "inf.npz"))
    np.savez(tmp_path / "cy.npz", x=np.zeros((10, 2)), y=np.arange(10) % 2 + 1j)
    with pytest.raises(NnplayError, match="targets are complex numbers"):
        load(str(tmp_path / "cy.npz"))


def test_a_preset_picks_the_csv_label_column_and_may_start_with_a_bom(tmp_path):
    (tmp_path / "t.csv").write_text("y,a,b\n" + "".join(f"{i % 2},{i % 7},{i % 3}\n" for i in range(40)))
    text = re.sub(r"\[data\].*?\n\n", '[data]\nname = "t.csv"\ntarget = "y"\n\n', open(XOR).read(), flags=re.S)
    (tmp_path / "p.toml").write_text(text, encoding="utf-8-sig")          # as Windows Notepad saves it
    preset = load_preset(tmp_path / "p.toml")
    assert preset.data.params["target"] == "y" and preset.data.target is None
    assert 'target = "y"' in preset.to_toml()
    from nnplay.core.experiments import build_experiment
    assert build_experiment(preset).dataset.meta["target_name"] == "y"
    (tmp_path / "q.toml").write_text(text.replace('target = "y"', 'target = "zz"'))
    with pytest.raises(NnplayError, match=r"q.toml:\d+: data.target: csv: target='zz' is not a column"):
        build_experiment(load_preset(tmp_path / "q.toml"))


# ------------------------------------------------------------------------------------------ the Python API
@pytest.mark.parametrize("call, words", [
    (lambda m, x, y: m.predict(x, batch_size=0), "predict: batch_size must be a whole number >= 1"),
    (lambda m, x, y: m.predict(x, batch_size=-3), "got batch_size=-3"),
    (lambda m, x, y: m.predict(x, batch_size=2.5), "got batch_size=2.5"),
    (lambda m, x, y: m.evaluate(x, y, batch_size=0), "evaluate: batch_size must be a whole number >= 1"),
    (lambda m, x, y: m.evaluate(x[:0], y[:0]), "evaluate got no samples"),
    (lambda m, x, y: m.fit(x, y, validation_data=(x[:0], y[:0]), verbose=0), "validation_data is empty"),
    (lambda m, x, y: m.set_weights(5), "set_weights takes a list of 4 arrays"),
    (lambda m, x, y: m.train_on_batch(x[:0], y[:0]), "train_on_batch got an empty batch"),
    (lambda m, x, y: m.set_weights([[1, [2]]] * 4), "must be an array of numbers"),
    (lambda m, x, y: m.layers[0](x + 1j), "the input holds complex numbers"),
    (lambda m, x, y: m.fit(x + 1j, y, verbose=0), "complex numbers"),
    (lambda m, x, y: m.compile(optimizer=None, loss="mse"), "compile needs an optimizer"),
    (lambda m, x, y: m.save(os.getcwd()), "is a folder"),
    (lambda m, x, y: Sequential([Dense(10 ** 6, input_shape=(200_000,))]).build(),     # 745 GiB in float32
     "layer 'dense': its kernel of shape (200000, 1000000) (with its gradient) needs"),
    (lambda m, x, y: to_categorical(np.array([1 + 1j, 0])), "labels are complex"),
])
def test_api_misuse_is_one_nnplay_error(call, words):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    with pytest.raises(NnplayError) as info:
        call(small_model(), x, y)
    assert words in str(info.value)


def test_batch_size_none_still_means_32():
    x = np.zeros((40, 3))
    assert small_model().predict(x, batch_size=None).shape == (40, 1)


def test_divergence_names_the_layer_also_when_the_loss_is_computed_from_logits():
    from nnplay.core.optimizers import SGD
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = Sequential([Dense(8, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=SGD(learning_rate=1e38), loss="binary_crossentropy")
    events = [e for e in Trainer(model, x, y, epochs=20, batch_size=10).run() if isinstance(e, Diverged)]
    assert events and events[0].layer is not None
    assert f"the loss became nan in layer {events[0].layer!r}" in events[0].message


def test_sanitize_strips_what_a_terminal_would_obey():
    hostile = "x\x1b]0;pwned\x07y\x1b[2J\x9b31m\u202eevil\r\nnext\tcol"
    assert sanitize(hostile) == "x]0;pwnedy[2J31mevil\nnext\tcol"
    assert sanitize(hostile, one_line=True) == "x]0;pwnedy[2J31mevil  next col"
    with pytest.raises(NnplayError, match="name must be text without control characters"):
        Dense(1, name="a\x1b[2Jb")


def test_saving_onto_a_full_disk_is_one_line_and_leaves_no_temp_file(tmp_path, monkeypatch):
    import errno

    from nnplay.core import fileio

    def full(fd, data):
        os.close(fd)
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(fileio, "_write_fd", full)
    with pytest.raises(NnplayError, match="No space left on device; free some space on that disk"):
        small_model().save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_every_single_byte_flip_of_a_model_file_is_caught_or_harmless(tmp_path):
    model = small_model()
    model.fit(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0)            # with optimizer state
    good = model.save(tmp_path / "good.npz").read_bytes()
    want = model.get_weights()
    for i in range(len(good)):
        flipped = bytearray(good)
        flipped[i] ^= 0xFF
        (tmp_path / "flip.npz").write_bytes(bytes(flipped))
        try:
            loaded = load_model(tmp_path / "flip.npz")
        except NnplayError:
            continue
        # a byte zip readers ignore (a timestamp, a comment field): the model must be the same
        assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), want)), i
