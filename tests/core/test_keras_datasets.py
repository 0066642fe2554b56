"""Keras' dataset files, read like Keras 3.15's ``load_data`` — never downloaded, never unpickled.

Every test writes small files in Keras' exact formats into a temporary KERAS_HOME: ``.npz`` archives (IMDB's
with object arrays, as ``np.savez`` pickles them), gzipped IDX files, and CIFAR batches as Python 2 pickles
(written opcode by opcode below, as the real files are). The shuffling is compared with Keras' algorithm
written out here; a throwaway script compared the loaders with real Keras 3.15 on the same files.
"""
import gzip
import importlib.util
import io
import os
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from nnplay.core.datasets import keras_files as kf
from nnplay.core.datasets.pickle_data import load_npz_safely, read_pickle
from nnplay.core.errors import NnplayError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    d = tmp_path / "kh" / "datasets"
    d.mkdir(parents=True)
    return d


# --------------------------------------------------------------------------------------------------
# Writers of Keras' formats (writing may use pickle; the library never reads with it)
# --------------------------------------------------------------------------------------------------
def py2_pickle(obj) -> bytes:
    """A protocol-2 pickle as Python 2's cPickle wrote the CIFAR batches: str as (SHORT_)BINSTRING, numpy
    arrays through numpy.core.multiarray._reconstruct, memo puts after containers and globals."""
    out, memo = [b"\x80\x02"], [0]

    def put():
        memo[0] += 1
        out.append(b"q" + bytes([memo[0] % 256]))

    def w(o):
        if isinstance(o, dict):
            out.append(b"}")
            put()
            out.append(b"(")
            for k, v in o.items():
                w(k)
                w(v)
            out.append(b"u")
        elif isinstance(o, list):
            out.append(b"]")
            put()
            out.append(b"(")
            for v in o:
                w(v)
            out.append(b"e")
        elif isinstance(o, bytes):
            out.append(b"U" + bytes([len(o)]) + o if len(o) < 256 else b"T" + struct.pack("<i", len(o)) + o)
        elif isinstance(o, int):
            out.append(b"K" + bytes([o]) if 0 <= o < 256 else b"J" + struct.pack("<i", o))
        elif isinstance(o, np.ndarray):
            out.append(b"cnumpy.core.multiarray\n_reconstruct\n")
            put()
            out.append(b"cnumpy\nndarray\n")
            put()
            out.append(b"K\x00\x85U\x01b\x87R(K\x01(")
            for d in o.shape:
                w(d)
            out.append(b"tcnumpy\ndtype\n")
            put()
            w(o.dtype.str[1:].encode())
            out.append(b"K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89")
            w(o.tobytes())
            out.append(b"tb")
        else:
            raise TypeError(o)

    w(obj)
    return b"".join(out) + b"."


def write_cifar(folder: Path, names, n, label_keys, seed=0):
    folder.mkdir(parents=True)
    rng, made = np.random.default_rng(seed), {}
    for name in names:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        d = {b"batch_label": b"training batch", b"data": data, b"filenames": [b"img_%d.png" % i for i in range(n)]}
        for key, k in label_keys.items():
            d[key.encode()] = rng.integers(0, k, n).tolist()
        (folder / name).write_bytes(py2_pickle(d))
        made[name] = d
    return made


def idx_gz(path: Path, magic: int, a: np.ndarray):
    head = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in a.shape)
    path.write_bytes(gzip.compress(head + a.astype(np.uint8).tobytes()))


def ragged(rng, n, vocab=40, longest=12):
    x = np.empty(n, dtype=object)
    for i in range(n):
        x[i] = [int(v) for v in rng.integers(1, vocab, int(rng.integers(1, longest)))]
    return x


def write_imdb(folder: Path, seed=0):
    rng = np.random.default_rng(seed)
    x_train, x_test = ragged(rng, 30), ragged(rng, 20)
    y_train, y_test = rng.integers(0, 2, 30), rng.integers(0, 2, 20)
    np.savez(folder / "imdb.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return x_train, y_train, x_test, y_test


def keras_imdb(x_train, y_train, x_test, y_test, num_words=None, skip_top=0, maxlen=None, seed=113,
               start_char=1, oov_char=2, index_from=3):
    """Keras 3.15's imdb.load_data after the file is read, written out as a reference."""
    rng = np.random.RandomState(seed)
    i = np.arange(len(x_train))
    rng.shuffle(i)
    x_train, y_train = x_train[i], y_train[i]
    i = np.arange(len(x_test))
    rng.shuffle(i)
    x_test, y_test = x_test[i], y_test[i]
    head = [] if start_char is None else [start_char]
    x_train = [head + [w + index_from for w in x] for x in x_train]
    x_test = [head + [w + index_from for w in x] for x in x_test]
    if maxlen:
        keep = [len(x) < maxlen for x in x_train]
        x_train, y_train = [x for x, k in zip(x_train, keep) if k], list(y_train[np.array(keep)])
        keep = [len(x) < maxlen for x in x_test]
        x_test, y_test = [x for x, k in zip(x_test, keep) if k], list(y_test[np.array(keep)])
    xs = x_train + x_test
    num_words = num_words or max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    labels = np.concatenate([y_train, y_test])
    return xs, labels


# --------------------------------------------------------------------------------------------------
# The loaders
# --------------------------------------------------------------------------------------------------
def test_mnist_reads_the_npz_as_it_is(home):
    rng = np.random.default_rng(1)
    a = {"x_train": rng.integers(0, 256, (12, 28, 28), dtype=np.uint8), "y_train": rng.integers(0, 10, 12).astype(np.uint8),
         "x_test": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), "y_test": rng.integers(0, 10, 5).astype(np.uint8)}
    np.savez(home / "mnist.npz", **a)
    (x_train, y_train), (x_test, y_test) = kf.mnist_load_data()
    for got, key in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")):
        assert got.dtype == np.uint8 and np.array_equal(got, a[key])
    with pytest.raises(NnplayError, match="only a file name"):
        kf.mnist_load_data(path=str(home / "mnist.npz"))


def test_fashion_mnist_reads_the_four_gzipped_idx_files(home):
    folder = home / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(2)
    xs, ys = rng.integers(0, 256, (2, 9, 28, 28)), rng.integers(0, 10, (2, 9))
    for (labels, images), x, y in zip((kf.FASHION_FILES[:2], kf.FASHION_FILES[2:]), xs, ys):
        idx_gz(folder / labels, 0x801, y)
        idx_gz(folder / images, 0x803, x)
    (x_train, y_train), (x_test, y_test) = kf.fashion_mnist_load_data()
    assert x_train.shape == (9, 28, 28) and x_train.dtype == np.uint8 and y_train.shape == (9,)
    assert np.array_equal(x_train, xs[0]) and np.array_equal(y_test, ys[1]) and np.array_equal(x_test, xs[1])
    (folder / kf.FASHION_FILES[3]).write_bytes(b"not gzip")
    with pytest.raises(NnplayError, match="not a readable gzip file"):
        kf.fashion_mnist_load_data()


@pytest.mark.parametrize("layout", ["keras3", "older"])
def test_cifar10_is_channels_last_with_n_by_1_uint8_labels(home, layout):
    folder = home / ("cifar-10-batches-py-target/cifar-10-batches-py" if layout == "keras3" else "cifar-10-batches-py")
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    made = write_cifar(folder, names, 4, {"labels": 10})
    (x_train, y_train), (x_test, y_test) = kf.cifar10_load_data()
    assert x_train.shape == (20, 32, 32, 3) and x_test.shape == (4, 32, 32, 3)
    assert y_train.shape == (20, 1) and y_test.shape == (4, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    data = made["data_batch_2"][b"data"]  # pixel (row r, column c) of channel ch sits at ch*1024 + r*32 + c
    assert x_train[4 + 1, 3, 7, 2] == data[1, 2 * 1024 + 3 * 32 + 7]
    assert np.array_equal(x_train[4:8], data.reshape(4, 3, 32, 32).transpose(0, 2, 3, 1))
    assert y_train[:, 0].tolist() == [label for n in names[:5] for label in made[n][b"labels"]]
    assert y_test[:, 0].tolist() == made["test_batch"][b"labels"]


def test_cifar100_fine_and_coarse_labels(home):
    made = write_cifar(home / "cifar-100-python-target/cifar-100-python", ["train", "test"], 6,
                       {"fine_labels": 100, "coarse_labels": 20})
    (x_train, y_fine), (x_test, _) = kf.cifar100_load_data()
    (_, y_coarse), (_, y_coarse_test) = kf.cifar100_load_data(label_mode="coarse")
    assert x_train.shape == (6, 32, 32, 3) and x_train.dtype == np.uint8 and x_test.shape == (6, 32, 32, 3)
    assert y_fine.shape == (6, 1) and y_fine.dtype == np.int64  # Keras reshapes the label list: int64
    assert y_fine[:, 0].tolist() == made["train"][b"fine_labels"]
    assert y_coarse[:, 0].tolist() == made["train"][b"coarse_labels"]
    assert y_coarse_test[:, 0].tolist() == made["test"][b"coarse_labels"]
    with pytest.raises(NnplayError, match="label_mode"):
        kf.cifar100_load_data(label_mode="medium")


@pytest.mark.parametrize("options", [
    {}, {"seed": 7}, {"num_words": 20}, {"skip_top": 6}, {"num_words": 25, "skip_top": 5, "oov_char": None},
    {"maxlen": 8}, {"start_char": None}, {"start_char": None, "index_from": 0}, {"oov_char": 9, "index_from": 5},
    {"maxlen": 10, "num_words": 30, "start_char": 4, "oov_char": 0, "index_from": 1}])
def test_imdb_matches_keras_for_every_option(home, options):
    stored = write_imdb(home)
    (x_train, y_train), (x_test, y_test) = kf.imdb_load_data(**options)
    xs, labels = keras_imdb(*stored, **options)
    assert x_train.dtype == object and x_test.dtype == object
    assert [list(x) for x in x_train] + [list(x) for x in x_test] == xs
    assert np.array_equal(np.concatenate([y_train, y_test]), labels)


def test_imdb_details_keras_users_rely_on(home):
    write_imdb(home)
    (x_train, _), _ = kf.imdb_load_data(maxlen=6, num_words=15, skip_top=4)
    # remove_long_seq keeps len < maxlen; skip_top=4 turns even start_char=1 into oov_char=2, as in Keras
    assert all(x[0] == 2 and len(x) < 6 for x in x_train)
    assert all(w == 2 or 4 <= w < 15 for x in x_train for w in x[1:])
    stored = np.load(home / "imdb.npz", allow_pickle=True)  # the test may unpickle its own file
    top = max(max(x) for x in list(stored["x_train"]) + list(stored["x_test"])) + 10
    (x_train, _), (x_test, _) = kf.imdb_load_data(index_from=10)
    # words start at index_from + 1; without num_words the largest index itself becomes oov_char, as in Keras
    assert all(x[0] == 1 and all(11 <= w < top or w == 2 for w in x[1:]) for x in list(x_train) + list(x_test))
    assert any(2 in x for x in list(x_train) + list(x_test))
    with pytest.raises(NnplayError, match="no sequence was kept"):
        kf.imdb_load_data(maxlen=1)
    with pytest.raises(NnplayError, match="num_words must be >= 0"):
        kf.imdb_load_data(num_words=-3)
    (home / "imdb_word_index.json").write_text('{"the": 1, "and": 2}')
    assert kf.imdb_get_word_index() == {"the": 1, "and": 2}


def test_boston_housing_split_and_shuffle(home):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(50, 13)), rng.normal(size=50)
    np.savez(home / "boston_housing.npz", x=x, y=y)
    (x_train, y_train), (x_test, y_test) = kf.boston_housing_load_data(test_split=0.3, seed=5)
    order = np.arange(50)
    np.random.RandomState(5).shuffle(order)
    assert len(x_train) == int(50 * 0.7) == 35 and len(x_test) == 15
    assert np.array_equal(x_train, x[order[:35]]) and np.array_equal(y_train, y[order[:35]])
    assert np.array_equal(x_test, x[order[35:]]) and np.array_equal(y_test, y[order[35:]])
    (x_train, _), (x_test, _) = kf.boston_housing_load_data(test_split=0)
    assert len(x_train) == 50 and len(x_test) == 0
    for bad in (1, 1.5, -0.1, "0.2", True):
        with pytest.raises(NnplayError, match=r"test_split must be in \[0, 1\)"):
            kf.boston_housing_load_data(test_split=bad)


def test_the_thin_keras_modules_expose_the_loaders():
    folder = ROOT / "core/keras/datasets"
    spec = importlib.util.spec_from_file_location("_nnplay_keras_datasets_test", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    try:
        spec.loader.exec_module(package)
    finally:
        del sys.modules[spec.name]
    assert package.mnist.load_data is kf.mnist_load_data and package.cifar100.load_data is kf.cifar100_load_data
    assert package.imdb.get_word_index is kf.imdb_get_word_index
    assert package.boston_housing.load_data is kf.boston_housing_load_data
    assert package.fashion_mnist.load_data is kf.fashion_mnist_load_data and package.cifar10.load_data


# --------------------------------------------------------------------------------------------------
# Missing files, odd files, and pickles that try to run code
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("load, where, origin, instead", [
    (kf.mnist_load_data, "mnist.npz", "tf-keras-datasets/mnist.npz", 'load("font-digits", size=28)'),
    (kf.fashion_mnist_load_data, "fashion-mnist/train-labels-idx1-ubyte.gz",
     "tf-keras-datasets/train-labels-idx1-ubyte.gz", 'load("font-digits", size=28)'),
    (kf.cifar10_load_data, "cifar-10-batches-py-target/cifar-10-batches-py/data_batch_1",
     "cs.toronto.edu/~kriz/cifar-10-python.tar.gz", 'load("shapes", size=28)'),
    (kf.cifar100_load_data, "cifar-100-python-target/cifar-100-python/train", "cifar-100-python.tar.gz",
     'load("shapes", size=28)'),
    (kf.imdb_load_data, "imdb.npz", "tf-keras-datasets/imdb.npz", 'load("grammar")'),
    (kf.imdb_get_word_index, "imdb_word_index.json", "imdb_word_index.json", 'load("grammar")'),
    (kf.boston_housing_load_data, "boston_housing.npz", "boston_housing.npz", 'load("reg-plane")'),
])
def test_a_missing_file_says_where_to_put_it_and_what_to_use_instead(home, load, where, origin, instead):
    with pytest.raises(NnplayError) as e:
        load()
    msg = str(e.value)
    assert "\n" not in msg and str(home / where) in msg and "never downloads" in msg
    assert origin in msg and "nnplay.core.datasets." + instead.split("(")[0] in msg and instead in msg


def test_keras_home_defaults_to_dot_keras(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert kf.datasets_dir() == str(tmp_path / ".keras" / "datasets")


def test_folders_and_fifos_are_refused_without_blocking(home):
    (home / "mnist.npz").mkdir()
    with pytest.raises(NnplayError, match="is a folder"):
        kf.mnist_load_data()
    if hasattr(os, "mkfifo"):
        os.mkfifo(home / "imdb.npz")
        with pytest.raises(NnplayError, match="not a regular file"):
            kf.imdb_load_data()


class _Opens:
    """Unpickling this creates ``path`` (through GLOBAL builtins.open + REDUCE)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


class _Shell:
    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def test_a_malicious_pickle_is_refused_without_running_it(home, tmp_path):
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(_Opens(proof), protocol=2)).close()
    assert proof.exists()  # the payload is live: real unpickling runs it
    marker = tmp_path / "marker"
    folder = home / "cifar-10-batches-py-target/cifar-10-batches-py"
    write_cifar(folder, [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], 2, {"labels": 10})
    for payload in (_Opens(marker), _Shell(marker)):
        for protocol in (0, 2, 4):
            (folder / "data_batch_3").write_bytes(pickle.dumps({"data": payload}, protocol=protocol))
            with pytest.raises(NnplayError, match="data_batch_3.* is not a plain data pickle; nnplay reads only"):
                kf.cifar10_load_data()
    x = np.empty(2, dtype=object)
    x[:] = [[1, 2], _Opens(marker)]
    np.savez(home / "imdb.npz", x_train=x, y_train=np.zeros(2), x_test=x, y_test=np.zeros(2))
    with pytest.raises(NnplayError, match=r"member x_train.npy\) is not a plain data pickle"):
        kf.imdb_load_data()
    assert not marker.exists()


@pytest.mark.parametrize("stream, why", [
    (b"(S'touch x'\nios\nsystem\n.", "INST"),                              # protocol 0 instance creation
    (b"\x80\x02cnumpy\nndarray\n)\x81.", "NEWOBJ"),                         # allowed class, forbidden opcode
    (b"\x80\x02\x82\x01.", "EXT1"),                                         # the extension registry
    (b"P0\n.", "PERSID"),
    (b"\x80\x02cnumpy\ndtype\n)R.", "numpy.dtype()"),                       # allowed global, wrong arguments
    (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\ndtype\nK\x00\x85U\x01b\x87R.", "other than numpy.ndarray"),
    (b"\x80\x02" + b"](" * 150 + b"e" * 150 + b".", "nested more than"),    # depth bomb
    (b"\x80\x02]q\x00h\x00a.", "holds itself"),                             # a list inside itself
])
def test_the_reader_refuses_everything_but_plain_data(stream, why):
    with pytest.raises(NnplayError, match="not a plain data pickle") as e:
        read_pickle(stream, "test")
    assert why in str(e.value)


def test_the_reader_reads_what_numpy_and_python_2_write():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert np.array_equal(read_pickle(pickle.dumps(a, protocol=4), "t"), a)
    f = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    got = read_pickle(pickle.dumps(f, protocol=3), "t")
    assert got.flags.f_contiguous and np.array_equal(got, f) and got.flags.writeable
    d = read_pickle(py2_pickle({b"k": [1, 300, 70000], b"a": np.arange(3, dtype=np.uint8)}), "t", encoding="bytes")
    assert d[b"k"] == [1, 300, 70000] and np.array_equal(d[b"a"], [0, 1, 2])
    assert read_pickle(b"\x80\x02X\x01\x00\x00\x00sU\x01bq\x00h\x00\x87.", "t") == ("s", "b", "b")  # ASCII decoding
    with pytest.raises(NnplayError, match="damaged"):
        read_pickle(py2_pickle([1, 2])[:-3], "t")


def test_the_loaders_never_call_pickle(home, monkeypatch):
    write_imdb(home)
    write_cifar(home / "cifar-100-python-target/cifar-100-python", ["train", "test"], 3,
                {"fine_labels": 100, "coarse_labels": 20})

    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    for name in ("load", "loads", "Unpickler", "_load", "_loads", "_Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    kf.imdb_load_data()
    kf.cifar100_load_data()
    for module in ("pickle_data", "pickle_vm", "keras_files"):
        source = (ROOT / f"core/datasets/{module}.py").read_text()
        assert "import pickle\n" not in source and "allow_pickle=True" not in source and "Unpickler" not in source


def test_npz_members_are_read_with_or_without_objects(home):
    x = np.empty(2, dtype=object)
    x[:] = [[1], [2, 3]]
    buf = io.BytesIO()
    np.savez(buf, x=x, n=np.arange(3))
    (home / "a.npz").write_bytes(buf.getvalue())
    got = load_npz_safely(home / "a.npz", "t")
    assert got["x"].tolist() == [[1], [2, 3]] and got["n"].tolist() == [0, 1, 2]
    with pytest.raises(NnplayError, match="object array"):
        load_npz_safely(home / "a.npz", "t", allow_objects=False)
    with pytest.raises(NnplayError, match="has no array 'y'"):
        load_npz_safely(home / "a.npz", "t", keys=("x", "y"))
