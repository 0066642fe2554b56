"""Optional real data read from an installed scikit-learn's data files (``pip install "nnplay[datasets]"``).

scikit-learn is never imported (that would pull in scipy and take about a second): its folder is found
with ``importlib.util.find_spec`` and the CSV files are parsed here. The UCI data sets are CC BY 4.0.
"""
from __future__ import annotations

import gzip
import importlib.util
import os

import numpy as np

from ..errors import NnplayError
from ._base import Param, as_f32, as_i64, build_split, p_ratio, p_seed, register

INSTALL_HINT = 'pip install "nnplay[datasets]"'

IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
WINE_FEATURES = ["alcohol", "malic acid", "ash", "alcalinity of ash", "magnesium", "total phenols", "flavanoids",
                 "nonflavanoid phenols", "proanthocyanins", "color intensity", "hue",
                 "OD280/OD315 of diluted wines", "proline"]


def sklearn_data_dir(dataset: str) -> str:
    """The ``sklearn/datasets/data`` folder of the installed scikit-learn, without importing it."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise NnplayError(f"dataset {dataset!r} reads scikit-learn's bundled data, which is not installed; "
                          f"run: {INSTALL_HINT}")
    return os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data")


def _data_file(dataset: str, filename: str) -> str:
    path = os.path.join(sklearn_data_dir(dataset), filename)
    if not os.path.isfile(path):
        raise NnplayError(f"dataset {dataset!r}: the installed scikit-learn has no {filename}; "
                          f"reinstall it with: {INSTALL_HINT}")
    return path


def _load_text(dataset: str, path: str, skip_header: bool) -> tuple[np.ndarray, list[str]]:
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt") as f:
            head = f.readline() if skip_header else ""
            a = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError, EOFError) as exc:
        raise NnplayError(f"dataset {dataset!r}: cannot parse {path!r} ({exc}); reinstall with: {INSTALL_HINT}") \
            from None
    names = [c.strip() for c in head.strip().split(",")[2:] if c.strip()] if skip_header else []
    return a, names


def _standardize(x_train: np.ndarray, x_test: np.ndarray):
    mu, sd = x_train.mean(axis=0), x_train.std(axis=0)
    sd[sd == 0] = 1.0
    return (x_train - mu) / sd, (x_test - mu) / sd


@register("digits", "UCI 8x8 handwritten digits, 1797 images (needs scikit-learn installed)", "extra",
          [p_ratio(0.8), p_seed()])
def _digits(p):
    a, _ = _load_text("digits", _data_file("digits", "digits.csv.gz"), skip_header=False)
    if a.shape[1] != 65:
        raise NnplayError(f"dataset 'digits': expected 65 columns in digits.csv.gz, found {a.shape[1]}; "
                          f"reinstall with: {INSTALL_HINT}")
    x = as_f32(a[:, :64].reshape(-1, 8, 8, 1) / 16.0)
    y = as_i64(a[:, 64])
    desc = ("digits: UCI optical handwritten digits (Alpaydin & Kaynak, CC BY 4.0), 8x8 images in [0, 1] from "
            "scikit-learn's data files; {n_train} train / {n_test} test.")
    return build_split("digits", "multiclass", x, y, np.random.default_rng(p["seed"]), p, desc, n_classes=10,
                       class_names=[str(d) for d in range(10)], meta={"image": True})


def _table(name: str, filename: str, features: list[str], title: str, p):
    a, class_names = _load_text(name, _data_file(name, filename), skip_header=True)
    k = len(features)
    if a.shape[1] != k + 1:
        raise NnplayError(f"dataset {name!r}: expected {k + 1} columns in {filename}, found {a.shape[1]}; "
                          f"reinstall with: {INSTALL_HINT}")
    x, y = a[:, :k], as_i64(a[:, k])
    n_classes = int(y.max()) + 1
    if len(class_names) != n_classes:
        class_names = [str(i) for i in range(n_classes)]
    ds = build_split(name, "binary" if n_classes == 2 else "multiclass", as_f32(x), y,
                     np.random.default_rng(p["seed"]), p,
                     f"{name}: {title} ({len(x)} samples, {k} features, {n_classes} classes) from scikit-learn's "
                     "data files" + ("; features standardised with train statistics" if p["standardize"] else "")
                     + "; {n_train} train / {n_test} test.",
                     n_classes=n_classes, class_names=class_names, meta={"feature_names": list(features)})
    if p["standardize"]:
        ds.x_train, ds.x_test = (as_f32(v) for v in _standardize(ds.x_train, ds.x_test))
    return ds


_STD = Param("standardize", True, "bool", help="scale each feature to mean 0, std 1 (train statistics)")


@register("iris", "Fisher's iris flowers: 4 measurements, 3 species (needs scikit-learn installed)", "extra",
          [_STD, p_ratio(0.8), p_seed()])
def _iris(p):
    return _table("iris", "iris.csv", IRIS_FEATURES, "Fisher's iris (UCI, CC BY 4.0)", p)


@register("wine", "UCI wine: 13 chemical measurements, 3 cultivars (needs scikit-learn installed)", "extra",
          [_STD, p_ratio(0.8), p_seed()])
def _wine(p):
    return _table("wine", "wine_data.csv", WINE_FEATURES, "UCI wine recognition (CC BY 4.0)", p)


@register("breast-cancer", "UCI breast cancer Wisconsin: 30 features, binary (needs scikit-learn installed)",
          "extra", [_STD, p_ratio(0.8), p_seed()])
def _breast_cancer(p):
    names = [f"feature {i}" for i in range(30)]
    return _table("breast-cancer", "breast_cancer.csv", names, "breast cancer Wisconsin diagnostic (UCI, CC BY 4.0)",
                  p)
