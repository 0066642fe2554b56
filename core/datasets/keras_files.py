"""Keras' own dataset files, read from where Keras keeps them: ``keras.datasets.*.load_data`` without downloads.

nnplay never downloads and never unpickles. A file Keras has already fetched (``$KERAS_HOME/datasets/`` or
``~/.keras/datasets/``) is read with Keras 3.15's exact semantics — shapes, dtypes, shuffling, label
layout — and the pickled parts (CIFAR batches, IMDB's ragged sequences) through ``pickle_data``, which
executes nothing. A missing file raises one NnplayError with its path, Keras' download address and a
built-in nnplay dataset of a similar shape.

    (x_train, y_train), (x_test, y_test) = mnist_load_data()
"""
from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
import zlib

import numpy as np

from ..errors import NnplayError
from .pickle_data import MAX_FILE_BYTES, check_regular_file, load_npz_safely, read_file_bytes, read_pickle

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
CIFAR10_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR100_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")

_LOAD = "nnplay.core.datasets.load"
#: The built-in set of a similar shape, offered when a Keras file is missing.
ALTERNATIVES = {
    "mnist": f'{_LOAD}("font-digits", size=28) (28x28 images of the digits 0-9 drawn from a font, '
             "x float32 (n, 28, 28, 1) in [0, 1], y int64 (n,))",
    "fashion_mnist": f'{_LOAD}("font-digits", size=28) (10 classes of 28x28 grayscale images, '
                     "x float32 (n, 28, 28, 1) in [0, 1], y int64 (n,))",
    "cifar10": f'{_LOAD}("shapes", size=28) (outlines of 6 shapes, grayscale: 1 channel, 8 to 28 pixels a side, '
               "x float32 (n, 28, 28, 1) in [0, 1], y int64 (n,))",
    "cifar100": f'{_LOAD}("shapes", size=28) (outlines of 6 shapes, grayscale: 1 channel, 8 to 28 pixels a side, '
                "x float32 (n, 28, 28, 1) in [0, 1], y int64 (n,))",
    "imdb": f'{_LOAD}("grammar") (sentences as int32 index sequences (n, 40) for an Embedding layer; '
            f'{_LOAD}("your.txt") reads your own text)',
    "boston_housing": f'{_LOAD}("reg-plane") or {_LOAD}("reg-gauss") (regression, y float32 (n, 1)), '
                      f'or your own table: {_LOAD}("houses.csv", target="price")',
}


# --------------------------------------------------------------------------------------------------
# Where Keras keeps its files
# --------------------------------------------------------------------------------------------------
def keras_home() -> str:
    """Keras' folder: ``$KERAS_HOME`` when set, else ``~/.keras`` (``/tmp/.keras`` when home is read-only)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def datasets_dir() -> str:
    """The folder Keras' ``get_file`` reads and writes datasets in: ``<keras_home>/datasets``.

    Like Keras, a Keras folder that exists but is read-only is swapped for ``/tmp/.keras``.
    """
    base = os.path.expanduser(keras_home())
    if os.path.isdir(base) and not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return os.path.join(base, "datasets")


def missing_error(dataset: str, path: str, fetch: str) -> NnplayError:
    """The one-line error for a file that is not there: its path, how to fetch it, the built-in alternative."""
    return NnplayError(f"{dataset}: {path} is missing, and nnplay never downloads; {fetch}, "
                       f"or use the built-in {ALTERNATIVES[dataset]}")


def _cached_file(fname, dataset: str, default: str) -> str:
    """The path of ``fname`` inside the datasets folder (Keras' ``get_file(fname)``), which must exist."""
    if not isinstance(fname, (str, os.PathLike, type(None))):
        raise NnplayError(f"{dataset}: path must be a file name, got path={fname!r}")
    fname = os.fspath(fname) if fname else default
    if not isinstance(fname, str):
        raise NnplayError(f"{dataset}: path must be a file name, got path={fname!r}")
    if os.sep in fname or (os.altsep and os.altsep in fname):
        raise NnplayError(f"{dataset}: path={fname!r} is a path, but Keras 3 takes only a file name inside "
                          f"{datasets_dir()}; put the file there and pass its name")
    path = os.path.join(datasets_dir(), fname)
    if not check_regular_file(path, dataset):
        raise missing_error(dataset, path, f"download {KERAS_ORIGIN}{default} to that path yourself")
    return path


# --------------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST
# --------------------------------------------------------------------------------------------------
def mnist_load_data(path="mnist.npz"):
    """``keras.datasets.mnist.load_data``: uint8 images (60000, 28, 28) and labels (60000,), test 10000.

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` as stored in ``mnist.npz``.
    """
    f = _cached_file(path, "mnist", "mnist.npz")
    a = load_npz_safely(f, "mnist", keys=("x_train", "y_train", "x_test", "y_test"), allow_objects=False)
    return (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"])


def _gunzip(path: str, dataset: str) -> bytes:
    data = read_file_bytes(path, dataset)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
            out = g.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise NnplayError(f"{dataset}: {path!r} is not a readable gzip file ({exc}); download it again") from None
    if len(out) > MAX_FILE_BYTES:
        raise NnplayError(f"{dataset}: {path!r} unpacks to more than {MAX_FILE_BYTES // 2**30} GiB; "
                          "it is not the Keras file")
    return out


def _idx_values(path: str, magic: int, head: int, dataset: str) -> np.ndarray:
    raw = _gunzip(path, dataset)
    if len(raw) < head or int.from_bytes(raw[:4], "big") != magic:
        kind = "labels" if magic == 0x801 else "images"
        raise NnplayError(f"{dataset}: {path!r} is not an IDX {kind} file (it should start with 0x{magic:08X}); "
                          "download it again")
    return np.frombuffer(raw, np.uint8, offset=head)  # read-only, as in Keras


def fashion_mnist_load_data():
    """``keras.datasets.fashion_mnist.load_data``: like MNIST, from the four IDX files in ``fashion-mnist/``."""
    folder = os.path.join(datasets_dir(), "fashion-mnist")
    paths = []
    for name in FASHION_FILES:
        p = os.path.join(folder, name)
        if not check_regular_file(p, "fashion_mnist"):
            raise missing_error("fashion_mnist", p, f"download {KERAS_ORIGIN}{name} to that path yourself "
                                                    f"(the folder needs all of {', '.join(FASHION_FILES)})")
        paths.append(p)
    out = []
    for labels_path, images_path in (paths[:2], paths[2:]):
        y = _idx_values(labels_path, 0x801, 8, "fashion_mnist")
        x = _idx_values(images_path, 0x803, 16, "fashion_mnist")
        if x.size != len(y) * 28 * 28:
            raise NnplayError(f"fashion_mnist: {images_path!r} holds {x.size} pixels, but {len(y)} labels need "
                              f"{len(y)} images of 28x28 = {len(y) * 784}; download both files again")
        out.append((x.reshape(len(y), 28, 28), y))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# CIFAR-10 and CIFAR-100: Python 2 pickles of dicts, read without unpickling
# --------------------------------------------------------------------------------------------------
def _cifar_folder(dataset: str, target: str, inner: str) -> str:
    """Keras 3 extracts into ``<target>/<inner>/``; older Keras into ``<inner>/``. Take whichever exists."""
    root = datasets_dir()
    new, old = os.path.join(root, target, inner), os.path.join(root, inner)
    return old if not os.path.isdir(new) and os.path.isdir(old) else new


def _cifar_file(folder: str, name: str, dataset: str, origin: str) -> str:
    path = os.path.join(folder, name)
    if check_regular_file(path, dataset):
        return path
    target = os.path.dirname(folder)
    archive = f"{target}_archive"
    if os.path.isfile(archive):
        how = f"extract the archive Keras downloaded, {archive}, into {target}{os.sep}"
    else:
        how = f"download {origin} and extract it into {target}{os.sep} (it unpacks {os.path.basename(folder)}{os.sep})"
    raise missing_error(dataset, path, how)


def load_batch(path: str, label_key: str, dataset: str) -> tuple[np.ndarray, object]:
    """One CIFAR batch: ``(data (n, 3, 32, 32), labels)`` like Keras' ``cifar.load_batch``."""
    d = read_pickle(path, dataset, encoding="bytes")
    where = f"{dataset}: {path!r}"
    if not isinstance(d, dict):
        raise NnplayError(f"{where} holds a {type(d).__name__}, not the dict of a CIFAR batch; download it again")
    try:
        d = {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in d.items()}
    except UnicodeDecodeError:
        raise NnplayError(f"{where} has keys that are not text; it is not a CIFAR batch") from None
    for key in ("data", label_key):
        if key not in d:
            raise NnplayError(f"{where} has no {key!r} entry (it has: {', '.join(map(str, d))}); "
                              "download it again")
    data, labels = d["data"], d[label_key]
    if not isinstance(data, np.ndarray) or data.ndim < 1 or data.size != data.shape[0] * 3 * 32 * 32:
        raise NnplayError(f"{where}: 'data' is not an array of 3x32x32 images; download it again")
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) != data.shape[0] or (len(y) and y.dtype.kind not in "iu"):
        raise NnplayError(f"{where}: {label_key!r} is not one integer label per image; download it again")
    return data.reshape(data.shape[0], 3, 32, 32), labels


def cifar10_load_data():
    """``keras.datasets.cifar10.load_data``: uint8 (50000, 32, 32, 3) channels-last, labels uint8 (50000, 1).

    Keras requires batches of exactly 10000 images; nnplay joins batches of any size.
    """
    folder = _cifar_folder("cifar10", "cifar-10-batches-py-target", "cifar-10-batches-py")
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    paths = [_cifar_file(folder, n, "cifar10", CIFAR10_ORIGIN) for n in names]
    batches = [load_batch(p, "labels", "cifar10") for p in paths[:5]]
    x_train = np.concatenate([b[0] for b in batches]).astype("uint8", copy=False)
    y_train = np.concatenate([np.asarray(b[1]) for b in batches])
    if len(y_train) and (y_train.min() < 0 or y_train.max() > 255):
        raise NnplayError(f"cifar10: the labels in {folder} are not 0-255; download the data again")
    y_train = y_train.astype("uint8")
    x_test, y_test = load_batch(paths[5], "labels", "cifar10")
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    x_train = x_train.transpose(0, 2, 3, 1)  # channels_last, nnplay's only image layout
    x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test.astype(x_train.dtype), y_test.astype(y_train.dtype))


def cifar100_load_data(label_mode="fine"):
    """``keras.datasets.cifar100.load_data``: uint8 (50000, 32, 32, 3), labels int64 (50000, 1).

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).
    """
    if label_mode not in ("fine", "coarse"):
        raise NnplayError(f'cifar100: label_mode must be "fine" or "coarse", got label_mode={label_mode!r}')
    folder = _cifar_folder("cifar100", "cifar-100-python-target", "cifar-100-python")
    train, test = (_cifar_file(folder, n, "cifar100", CIFAR100_ORIGIN) for n in ("train", "test"))
    x_train, y_train = load_batch(train, f"{label_mode}_labels", "cifar100")
    x_test, y_test = load_batch(test, f"{label_mode}_labels", "cifar100")
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (x_train.transpose(0, 2, 3, 1), y_train), (x_test.transpose(0, 2, 3, 1), y_test)


# --------------------------------------------------------------------------------------------------
# IMDB and Boston housing
# --------------------------------------------------------------------------------------------------
def _int_arg(dataset: str, name: str, value, lo: int | None = 0, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        none = " or None" if allow_none else ""
        raise NnplayError(f"{dataset}: {name} must be an integer{none}, got {name}={value!r}")
    if lo is not None and value < lo:
        raise NnplayError(f"{dataset}: {name} must be >= {lo}, got {name}={value!r}")
    return int(value)


def _seed_arg(dataset: str, seed):
    """A seed np.random.RandomState takes: None or an integer in [0, 2**32)."""
    seed = _int_arg(dataset, "seed", seed, allow_none=True)
    if seed is not None and seed >= 2**32:
        raise NnplayError(f"{dataset}: seed must be below 2**32 (numpy's RandomState), got seed={seed}")
    return seed


def remove_long_seq(maxlen: int, seq, label):
    """Keep the sequences shorter than ``maxlen`` (strictly), with their labels (Keras' python_utils)."""
    new_seq, new_label = [], []
    for x, y in zip(seq, label):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def imdb_load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
                   index_from=3, **kwargs):
    """``keras.datasets.imdb.load_data``: reviews as object arrays of word-index lists, labels 0/1.

    Args:
        num_words: keep the ``num_words`` most frequent words; the rest become ``oov_char`` (None: all).
        skip_top: the most frequent words to turn into ``oov_char``.
        maxlen: drop reviews of ``maxlen`` words or more (None: keep all).
        seed: shuffles train and test with ``np.random.RandomState(seed)``, as Keras does.
        start_char, oov_char, index_from: start marker, out-of-vocabulary marker, offset of real words.
        **kwargs: ignored, as in Keras 3.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``; x are object arrays of lists of ints.
    """
    ds = "imdb"
    num_words = _int_arg(ds, "num_words", num_words, allow_none=True)
    skip_top = _int_arg(ds, "skip_top", skip_top)
    maxlen = _int_arg(ds, "maxlen", maxlen, allow_none=True)
    seed = _seed_arg(ds, seed)
    start_char = _int_arg(ds, "start_char", start_char, allow_none=True)
    oov_char = _int_arg(ds, "oov_char", oov_char, allow_none=True)
    index_from = _int_arg(ds, "index_from", index_from)
    f = _cached_file(path, ds, "imdb.npz")
    a = load_npz_safely(f, ds, keys=("x_train", "y_train", "x_test", "y_test"))
    x_train, labels_train, x_test, labels_test = a["x_train"], a["y_train"], a["x_test"], a["y_test"]
    for x, y, part in ((x_train, labels_train, "train"), (x_test, labels_test, "test")):
        if x.ndim < 1 or y.ndim != 1 or len(x) != len(y):
            raise NnplayError(f"{ds}: {f!r} holds {len(x) if x.ndim else 0} {part} reviews but "
                              f"{len(y) if y.ndim else 0} labels; download it again")
    try:
        return _imdb_encode(x_train, labels_train, x_test, labels_test, num_words, skip_top, maxlen, seed,
                            start_char, oov_char, index_from)
    except TypeError:
        raise NnplayError(f"{ds}: {f!r} holds reviews that are not lists of word indices; download it again") \
            from None


def _imdb_encode(x_train, labels_train, x_test, labels_test, num_words, skip_top, maxlen, seed, start_char,
                 oov_char, index_from):
    """Keras 3.15's ``imdb.load_data`` after the file is read, step for step."""
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train = x_train[indices]
    labels_train = labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test = x_test[indices]
    labels_test = labels_test[indices]
    if start_char is not None:
        x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
        x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    elif index_from:
        x_train = [[w + index_from for w in x] for x in x_train]
        x_test = [[w + index_from for w in x] for x in x_test]
    else:
        x_train = [[w for w in x] for x in x_train]
        x_test = [[w for w in x] for x in x_test]
    if maxlen:
        x_train, labels_train = remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise NnplayError(f"imdb: after filtering for sequences shorter than maxlen={maxlen}, no sequence "
                              "was kept. Increase maxlen.")
    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        try:
            num_words = max(max(x) for x in xs)
        except ValueError:
            raise NnplayError("imdb: a review is empty, so the largest word index is undefined; "
                              "pass num_words or keep start_char") from None
    if oov_char is not None:
        xs = [[w if (skip_top <= w < num_words) else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = len(x_train)
    x_train, y_train = np.array(xs[:idx], dtype="object"), labels[:idx]
    x_test, y_test = np.array(xs[idx:], dtype="object"), labels[idx:]
    return (x_train, y_train), (x_test, y_test)


def imdb_get_word_index(path="imdb_word_index.json") -> dict:
    """``keras.datasets.imdb.get_word_index``: word -> index (1 = most frequent) from the JSON file."""
    f = _cached_file(path, "imdb", "imdb_word_index.json")
    try:
        index = json.loads(read_file_bytes(f, "imdb").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NnplayError(f"imdb: {f!r} is not a JSON word index ({exc}); download it again") from None
    if not isinstance(index, dict):
        raise NnplayError(f"imdb: {f!r} holds a {type(index).__name__}, not the word -> index object; "
                          "download it again")
    return index


def boston_housing_load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``keras.datasets.boston_housing.load_data``: 13 features per house, target = median value (k$).

    Args:
        test_split: fraction of the shuffled houses kept for testing, in [0, 1).
        seed: shuffles with ``np.random.RandomState(seed)`` before the split, as Keras does.
    """
    ds = "boston_housing"
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float, np.integer, np.floating)) \
            or not 0 <= test_split < 1:
        raise NnplayError(f"{ds}: test_split must be in [0, 1) (0 keeps every house for training), "
                          f"got test_split={test_split!r}")
    seed = _seed_arg(ds, seed)
    f = _cached_file(path, ds, "boston_housing.npz")
    a = load_npz_safely(f, ds, keys=("x", "y"), allow_objects=False)
    x, y = a["x"], a["y"]
    if x.ndim < 1 or y.ndim < 1 or len(x) != len(y):
        raise NnplayError(f"{ds}: {f!r} holds x and y of different lengths; download it again")
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x = x[indices]
    y = y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
