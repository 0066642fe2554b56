"""Broken and hostile ``.keras`` files: each fails with one NnplayError line that names the file, before
anything big is read and without running code (round trips: tests/core/test_keras_files.py)."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="the keras-files extra: pip install -e \".[keras-files]\"")

from nnplay.core import Sequential, load_model  # noqa: E402
from nnplay.core.errors import NnplayError  # noqa: E402
from nnplay.core.layers import LSTM, Dense, Input  # noqa: E402


def good_file(tmp_path) -> tuple[dict, bytes]:
    """(config.json, model.weights.h5) of a small valid file."""
    model = Sequential([Input(shape=(3,)), Dense(2, name="d")])
    zf = zipfile.ZipFile(model.save(tmp_path / "good.keras"))
    return json.loads(zf.read("config.json")), zf.read("model.weights.h5")


def make_zip(path, members: dict, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data if isinstance(data, bytes) else json.dumps(data))
    return path


def refused(path, match):
    with pytest.raises(NnplayError) as err:
        load_model(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message
    assert __import__("re").search(match, message), message
    return message


def test_not_a_zip_truncated_and_missing_members(tmp_path):
    config, h5 = good_file(tmp_path)
    (tmp_path / "text.keras").write_text("hello")
    refused(tmp_path / "text.keras", "not a readable .keras file")
    whole = (tmp_path / "good.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(whole[:len(whole) // 2])
    refused(tmp_path / "cut.keras", "not a readable .keras file")
    refused(make_zip(tmp_path / "noconf.keras", {"model.weights.h5": h5}), "no config.json")
    refused(make_zip(tmp_path / "noh5.keras", {"config.json": config}), "no model.weights.h5")
    damaged = bytearray(whole)
    start = whole.index(b"\x89HDF")                           # flip bytes inside the stored h5: bad CRC
    damaged[start + 100:start + 140] = b"\x00" * 40
    (tmp_path / "crc.keras").write_bytes(bytes(damaged))
    refused(tmp_path / "crc.keras", "Bad CRC")


def test_config_that_is_not_json_or_has_garbage(tmp_path):
    config, h5 = good_file(tmp_path)
    refused(make_zip(tmp_path / "j.keras", {"config.json": b"{not json", "model.weights.h5": h5}), "not valid JSON")
    refused(make_zip(tmp_path / "l.keras", {"config.json": [1, 2], "model.weights.h5": h5}), "must be a Keras object")
    deep = b"[" * 100000 + b"]" * 100000
    refused(make_zip(tmp_path / "deep.keras", {"config.json": deep, "model.weights.h5": h5}), "not valid JSON")
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][1]["config"]["units"] = "many"
    refused(make_zip(tmp_path / "u.keras", {"config.json": bad, "model.weights.h5": h5}), "units")
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][0]["config"]["batch_shape"] = [None, -3]
    refused(make_zip(tmp_path / "s.keras", {"config.json": bad, "model.weights.h5": h5}), "positive sizes")
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][0]["config"]["batch_shape"] = [None, 10 ** 9, 10 ** 9]
    refused(make_zip(tmp_path / "big.keras", {"config.json": bad, "model.weights.h5": h5}), "shape|weights")


def test_values_nnplay_would_only_trip_over_later_are_refused_while_reading(tmp_path):
    model = Sequential([Input(shape=(3, 2)), LSTM(2, seed=1), Dense(1)])
    model.compile("adam", "mse")
    zf = zipfile.ZipFile(model.save(tmp_path / "ok.keras"))
    config, h5 = json.loads(zf.read("config.json")), zf.read("model.weights.h5")
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][1]["config"]["seed"] = {"x": 1}
    refused(make_zip(tmp_path / "seed.keras", {"config.json": bad, "model.weights.h5": h5}), r"seed is \{'x': 1\}")
    bad = json.loads(json.dumps(config))
    bad["compile_config"]["loss_weights"] = ["heavy"]
    refused(make_zip(tmp_path / "lw.keras", {"config.json": bad, "model.weights.h5": h5}),
            r"loss_weights are \['heavy'\], expected numbers.*compile=False")
    bad = json.loads(json.dumps(config))
    bad["compile_config"]["metrics"] = [{"module": "keras.metrics", "class_name": "AUC", "config": {"curve": "PR"}}]
    path = make_zip(tmp_path / "auc.keras", {"config.json": bad, "model.weights.h5": h5})
    refused(path, r"AUC uses .*compile=False")
    assert not load_model(path, compile=False).compiled            # the suggested way out works
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][1]["config"]["stateful"] = True
    refused(make_zip(tmp_path / "st.keras", {"config.json": bad, "model.weights.h5": h5}),
            r"layer 'lstm' \(LSTM\) uses stateful=True, which nnplay does not support")


def test_the_keras_namespace_reads_and_writes_keras_files(tmp_path):
    from nnplay import keras as nk

    model = nk.Sequential([nk.Input(shape=(3,)), nk.layers.Dense(2)])
    path = tmp_path / "k.keras"
    nk.saving.save_model(model, path)
    for load in (nk.models.load_model, nk.saving.load_model):
        np.testing.assert_array_equal(load(path).get_weights()[0], model.get_weights()[0])


def test_huge_members_and_a_zip_bomb_are_refused_before_reading(tmp_path):
    config, h5 = good_file(tmp_path)
    huge = b" " * (17 << 20)
    refused(make_zip(tmp_path / "hc.keras", {"config.json": huge, "model.weights.h5": h5}), "config.json is .* bytes")
    bomb = h5 + b"\x00" * (200 << 20)                         # 200 MB of zeros deflate to ~200 kB
    path = make_zip(tmp_path / "bomb.keras", {"config.json": config, "model.weights.h5": bomb}, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1 << 20
    refused(path, "model.weights.h5 is .* bytes, more than")
    # a member whose header understates its size is cut at the limit (or fails its CRC), never read whole
    with zipfile.ZipFile(tmp_path / "lie.keras", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.weights.h5", h5)
        info = zipfile.ZipInfo("config.json")
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, json.dumps(config).encode() + b" " * (40 << 20))
    raw = bytearray((tmp_path / "lie.keras").read_bytes())
    size = len(json.dumps(config).encode()) + (40 << 20)
    raw = raw.replace(size.to_bytes(4, "little"), (100).to_bytes(4, "little"))
    (tmp_path / "lie.keras").write_bytes(bytes(raw))
    refused(tmp_path / "lie.keras", "not a readable .keras file|not valid JSON")


def test_unknown_classes_lambda_and_custom_objects(tmp_path):
    config, h5 = good_file(tmp_path)

    def with_layer(**changes):
        bad = json.loads(json.dumps(config))
        bad["config"]["layers"][1].update(changes)
        return make_zip(tmp_path / "x.keras", {"config.json": bad, "model.weights.h5": h5})

    message = refused(with_layer(class_name="Desne"), r"Keras Desne layer, which nnplay does not have")
    assert "did you mean 'Dense'" in message
    refused(with_layer(class_name="MultiHeadAttention"), r"nnplay has .*Conv2D")
    refused(with_layer(class_name="Lambda", config={"function": {"class_name": "__lambda__", "config": {}}}),
            "Lambda layer.*never runs code")
    refused(with_layer(module="os", class_name="Dense"), "not one of Keras' own classes")
    refused(with_layer(registered_name="my_pkg>Dense"), "custom object")
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][1]["config"]["activation"] = {"class_name": "__lambda__", "config": {"code": "AAAA"}}
    refused(make_zip(tmp_path / "act.keras", {"config.json": bad, "model.weights.h5": h5}), "never runs code")
    bad = json.loads(json.dumps(config))
    bad["config"]["layers"][1]["config"]["kernel_constraint"] = {"module": "keras.constraints",
                                                               "class_name": "MaxNorm", "config": {}}
    refused(make_zip(tmp_path / "con.keras", {"config.json": bad, "model.weights.h5": h5}),
            r"uses kernel_constraint=.*does not support")
    bad = json.loads(json.dumps(config))
    bad["class_name"] = "MyModel"
    bad["registered_name"] = "Custom>MyModel"
    refused(make_zip(tmp_path / "sub.keras", {"config.json": bad, "model.weights.h5": h5}), "custom object")


def h5_bytes(build) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        build(f)
    return buf.getvalue()


def test_weights_of_the_wrong_shape_dtype_or_storage(tmp_path):
    config, _ = good_file(tmp_path)

    def with_weights(kernel, bias=None, **kw):
        def build(f):
            g = f.create_group("layers/dense/vars")
            g.create_dataset("0", data=kernel, **kw)
            g.create_dataset("1", data=np.zeros(2, np.float32) if bias is None else bias)
        return make_zip(tmp_path / "w.keras", {"config.json": config, "model.weights.h5": h5_bytes(build)})

    refused(with_weights(np.zeros((2, 3), np.float32)), r"shape \(2, 3\).*config makes it \(3, 2\)")
    refused(with_weights(np.zeros((3, 2), np.int32)), "dtype int32, expected a float")
    refused(with_weights(np.array([["a", "b"]] * 3, dtype=h5py.string_dtype())), "dtype")
    refused(with_weights(np.zeros((3, 2), np.float32), compression="gzip"), "declares .* but stores")

    def extra(f):
        g = f.create_group("layers/dense/vars")
        for i in range(3):
            g.create_dataset(str(i), data=np.zeros((3, 2) if i == 0 else (2,), np.float32))
    refused(make_zip(tmp_path / "e.keras", {"config.json": config, "model.weights.h5": h5_bytes(extra)}),
            "3 arrays in layers/dense, the config needs 2")
    refused(make_zip(tmp_path / "n.keras", {"config.json": config, "model.weights.h5": b"\x89HDF not really"}),
            "not a readable HDF5")
    missing = h5_bytes(lambda f: f.create_group("layers/other/vars"))
    refused(make_zip(tmp_path / "m.keras", {"config.json": config, "model.weights.h5": missing}), "no layers/dense")


def test_links_to_other_files_are_refused(tmp_path):
    config, _ = good_file(tmp_path)
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as f:
        f["k"] = np.ones((3, 2), np.float32)

    def external(f):
        g = f.create_group("layers/dense/vars")
        g["0"] = h5py.ExternalLink(str(secret), "k")
        g["1"] = np.zeros(2, np.float32)

    def soft(f):
        f["stash"] = np.ones((3, 2), np.float32)
        g = f.create_group("layers/dense/vars")
        g["0"] = h5py.SoftLink("/stash")
        g["1"] = np.zeros(2, np.float32)

    for build, kind in ((external, "ExternalLink"), (soft, "SoftLink")):
        path = make_zip(tmp_path / f"{kind}.keras", {"config.json": config, "model.weights.h5": h5_bytes(build)})
        refused(path, f"{kind}.*plain stored arrays")


def test_pipes_folders_and_missing_files(tmp_path):
    fifo = tmp_path / "pipe.keras"
    os.mkfifo(fifo)
    refused(fifo, "not a regular file")                       # and no hang waiting for a writer
    (tmp_path / "dir.keras").mkdir()
    refused(tmp_path / "dir.keras", "not a regular file")
    with pytest.raises(NnplayError, match="does not exist"):
        load_model(tmp_path / "nothing.keras")
