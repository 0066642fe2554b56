"""User files: CSV tables, NPZ archives and plain text (IDX files are in ``idx.py``).

Nothing here unpickles: NPZ files are read with ``allow_pickle=False``.
"""
from __future__ import annotations

import csv
import io
import os

import numpy as np

from ..errors import NnplayError, did_you_mean
from ..safety import NpzReader, open_regular, read_file
from ._base import Dataset, Param, as_f32, as_i64, jsonable, p_ratio, p_seed, register, split_indices
from .text import char_windows, text_params

MAX_CLASSES = 1000
AUTO_CLASS_LIMIT = 20  # an integer-valued target with at most this many values is treated as class labels
TASK_CHOICES = ("auto", "classification", "binary", "multiclass", "regression", "generative")


def p_path(name: str = "path", required: bool = True, help: str = "file to read") -> Param:
    return Param(name, None, "path", allow_none=True, help=help + ("" if required else " (optional)"))


def _p_task() -> Param:
    return Param("task", "auto", "choice", choices=TASK_CHOICES,
                 help="auto infers it: a few integer values -> classification, anything else -> regression")


def read_bytes(path, dataset: str, field: str = "path", limit: int | None = None) -> bytes:
    """Read a regular file, turning OS problems into one-line NnplayErrors: the first ``limit`` bytes, or
    the whole file when it fits in the memory available (a pipe or a device such as /dev/zero is refused)."""
    if path is None:
        raise NnplayError(f"{dataset}: {field} is required; pass {field}='your-file'")
    path = os.fspath(path)
    what = f"{dataset}: {field}={path!r}"
    if limit is None:
        return read_file(path, what)
    try:
        with open_regular(path, what) as f:
            return f.read(limit)
    except OSError as exc:
        raise NnplayError(f"{dataset}: cannot read {field}={path!r} ({exc.strerror or exc}); check its permissions") \
            from None


def _label_text(v) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def make_targets(y, task: str, where: str):
    """Decide the task for target values ``y`` and encode them Keras-style.

    Returns (y, task, n_classes, class_names): class indices int64 (n,) for classification, float32 (n, k)
    for regression. ``y`` may be numeric or strings (strings always mean classification).
    """
    y = np.asarray(y)
    n = len(y)
    if y.dtype.kind == "c":
        raise NnplayError(f"{where}: the targets are complex numbers; give real numbers or class labels")
    if y.ndim == 2 and y.shape[1] > 1 and y.dtype.kind in "biuf" and task != "regression":
        if np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():  # one-hot rows -> indices
            k = y.shape[1]
            return as_i64(y.argmax(axis=1)), "binary" if k == 2 else "multiclass", k, [str(i) for i in range(k)]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    numeric = y.dtype.kind in "biuf"
    if task == "generative":
        raise NnplayError(f"{where}: task='generative' applies to inputs without targets (npz or idx files); "
                          "use task='auto', 'classification' or 'regression'")
    if task == "regression":
        if not numeric:
            raise NnplayError(f"{where}: task='regression' needs numeric targets, but they are {y.dtype} text; "
                              "use task='classification'")
        return as_f32(y.reshape(n, -1)), "regression", None, None
    if task == "auto":
        if not numeric:
            pass
        elif y.ndim == 1 and np.all(np.isfinite(y)) and np.all(y == np.round(y)) \
                and len(np.unique(y)) <= AUTO_CLASS_LIMIT:
            task = "classification"
        else:
            return as_f32(y.reshape(n, -1)), "regression", None, None
    if y.ndim != 1:
        raise NnplayError(f"{where}: task={task!r} needs one label per sample, but the targets have shape "
                          f"{y.shape}; use task='regression' or give labels of shape (n,)")
    values, idx = np.unique(y, return_inverse=True)
    k = len(values)
    if task == "binary" and k != 2:
        raise NnplayError(f"{where}: task='binary' needs exactly 2 label values, found {k}; use task='multiclass'")
    if k > MAX_CLASSES:
        raise NnplayError(f"{where}: the target has {k} distinct values, more than {MAX_CLASSES} classes; "
                          "use task='regression'")
    if k < 2:
        raise NnplayError(f"{where}: every target is {_label_text(values[0])!r}, so there is nothing to classify; "
                          "check the target column")
    if numeric and np.array_equal(values, np.arange(k)):
        idx = y.astype(np.int64)
    names = [_label_text(v) for v in values]
    return as_i64(idx), "binary" if k == 2 and task != "multiclass" else "multiclass", k, names


def finish_split(name, x, y, p, desc, task, n_classes, names, meta, x_test=None, y_test=None) -> Dataset:
    """Split (x, y) with the params' train_ratio unless a test set was given."""
    if x_test is None:
        rng = np.random.default_rng(p["seed"])
        tr, te = split_indices(rng, len(x), p["train_ratio"], name)
        x, x_test, y, y_test = x[tr], x[te], y[tr], y[te]
    desc = desc + f" {len(x)} train / {len(x_test)} test."
    return Dataset(name, task, x, y, x_test, y_test, desc, n_classes=n_classes, class_names=names, meta=meta,
                   params=jsonable(p))


# --------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------
def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _header_param(value, dataset):
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    v = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(str(value).strip().lower())
    if isinstance(value, bool) or v is not None:
        return bool(value) if isinstance(value, bool) else v
    raise NnplayError(f"{dataset}: header={value!r} must be 'auto', true or false")


@register("csv", "your CSV table: numeric features, label = last column or target=", "file",
          [p_path(), Param("target", None, "custom", convert=lambda v, d: v,
                            help="label column: name or index (default: the last column)"),
           _p_task(), Param("header", "auto", "custom", convert=_header_param,
                            help="first row holds column names: auto, true or false"),
           Param("delimiter", None, "str", allow_none=True, help="cell separator (default: guessed from , ; tab)"),
           p_ratio(0.8), p_seed()])
def load_csv(p) -> Dataset:
    path = p["path"]
    raw = read_bytes(path, "csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NnplayError(f"csv: {path!r} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                          "save it as UTF-8") from None
    first = next((ln for ln in text.splitlines() if ln.strip()), None)
    if first is None:
        raise NnplayError(f"csv: {path!r} is empty; it needs a header (optional) and data rows")
    if p["delimiter"] in ("tab", "\\t"):
        p = dict(p, delimiter="\t")
    if p["delimiter"] is not None and len(p["delimiter"]) != 1:
        raise NnplayError(f"csv: delimiter={p['delimiter']!r} must be a single character such as ',' or ';'")
    delim = p["delimiter"] or max([",", ";", "\t"], key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows, lines = [], []
    try:
        for cells in reader:
            if not cells or all(not c.strip() for c in cells):
                continue
            rows.append([c.strip() for c in cells])
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise NnplayError(f"csv: {path!r} line {reader.line_num} cannot be parsed ({exc}); "
                          "check quotes and stray characters there") from None
    width = len(rows[0])
    for cells, ln in zip(rows, lines):
        if len(cells) != width:
            raise NnplayError(f"csv: {path!r} line {ln} has {len(cells)} fields but line {lines[0]} has {width}; "
                              "every row needs the same number of columns")
    header = p["header"]
    if header == "auto":
        bad0 = {j for j, c in enumerate(rows[0]) if not _is_number(c)}
        bad1 = {j for j, c in enumerate(rows[1]) if not _is_number(c)} if len(rows) > 1 else set()
        header = bool(bad0) and (len(rows) == 1 or not bad0 <= bad1 or len(bad0) == width)
    names = rows[0] if header else [f"c{j}" for j in range(width)]
    data, dlines = (rows[1:], lines[1:]) if header else (rows, lines)
    if not data:
        raise NnplayError(f"csv: {path!r} has a header but no data rows; add rows below line {lines[0]}")
    if width < 2:
        raise NnplayError(f"csv: {path!r} has a single column; it needs feature columns and a label column")
    t = _target_index(p["target"], names, header, width, path)
    feat_cols = [j for j in range(width) if j != t]
    cells = np.array(data, dtype=object)
    try:
        x = cells[:, feat_cols].astype(np.float64)
    except ValueError:
        for cells_row, ln in zip(data, dlines):
            for j in feat_cols:
                if not _is_number(cells_row[j]):
                    what = "is empty" if not cells_row[j] else f"{cells_row[j]!r} is not a number"
                    raise NnplayError(f"csv: {path!r} line {ln}, column {j + 1} ({names[j]}): {what}; "
                                      "feature cells must be numbers") from None
        raise  # pragma: no cover
    _check_finite(x, path, names, feat_cols, data, dlines)
    col = cells[:, t]
    try:
        yv = col.astype(np.float64)
    except ValueError:
        ln, cell = next((ln, r[t]) for r, ln in zip(data, dlines) if not _is_number(r[t]))
        if p["task"] == "regression" and cell:
            raise NnplayError(f"csv: {path!r} line {ln}, column {t + 1} ({names[t]}): {cell!r} is not a number, "
                              "but task='regression'; fix the cell or use task='classification'") from None
        if all(_is_number(c) or not c for c in col):     # numbers with a gap: not a class named ''
            raise NnplayError(f"csv: {path!r} line {ln}, column {t + 1} ({names[t]}): the target is empty; fill "
                              "it in or drop that row") from None
        yv = col.astype(str)
    if yv.dtype.kind == "f":
        _check_finite(yv[:, None], path, names, [t], data, dlines, "the target ")
    y, task, k, class_names = make_targets(yv, p["task"], f"csv: {path!r}")
    what = f"{k} classes" if k else "regression target"
    desc = (f"csv: {os.path.basename(path)}: {len(x)} rows, {x.shape[1]} features, target {names[t]!r} "
            f"({task}, {what});")
    return finish_split("csv", as_f32(x), y, p, desc, task, k, class_names,
                        {"feature_names": [names[j] for j in feat_cols], "target_name": names[t], "path": path})


def _check_finite(values, path, names, cols, data, dlines, what: str = "") -> None:
    """Every value finite and within float32 (what training computes in), or one line naming the cell."""
    big = float(np.finfo(np.float32).max)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (np.abs(values) > big)
    if not bad.any():
        return
    i, jj = np.argwhere(bad)[0]
    j = cols[jj]
    where = f"csv: {path!r} line {dlines[i]}, column {j + 1} ({names[j]}): {what}{data[i][j]!r}"
    if not np.isfinite(values[i, jj]):
        raise NnplayError(f"{where} is not a finite number; fill in or drop that row")
    raise NnplayError(f"{where} is beyond float32's range (±{big:.3g}), what training computes in; rescale "
                      "that column")


def _target_index(target, names, header, width, path) -> int:
    if target is None:
        return width - 1
    if isinstance(target, str) and not target.strip().lstrip("-").isdigit():
        if not header:
            raise NnplayError(f"csv: target={target!r} names a column, but {path!r} has no header row; "
                              f"use a column index 0..{width - 1}")
        if target in names:
            return names.index(target)
        low = [n.lower() for n in names]
        if target.strip().lower() in low:
            return low.index(target.strip().lower())
        raise NnplayError(f"csv: target={target!r} is not a column of {path!r}" + did_you_mean(target, names))
    try:
        j = int(target)
    except (TypeError, ValueError):
        raise NnplayError(f"csv: target={target!r} must be a column name or index") from None
    if not -width <= j < width:
        raise NnplayError(f"csv: target={target!r} is out of range; {path!r} has columns 0..{width - 1}")
    return j % width


# --------------------------------------------------------------------------------------------------
# NPZ
# --------------------------------------------------------------------------------------------------
_X_KEYS = ("x", "X", "x_train", "X_train")
_Y_KEYS = ("y", "Y", "y_train", "Y_train")
_XT_KEYS = ("x_test", "X_test")
_YT_KEYS = ("y_test", "Y_test")


def _prep_x(a: np.ndarray, where: str, name: str = "x") -> tuple[np.ndarray, bool]:
    """float32 inputs; uint8 arrays are images scaled to [0, 1] with a channel axis added to (n, H, W)."""
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / 255.0
        return (a[..., None] if a.ndim == 3 else a), a.ndim >= 3
    if a.dtype.kind not in "biuf":
        raise NnplayError(f"{where}: inputs have dtype {a.dtype}; save numeric arrays")
    _check_float32(a, where, name)
    return as_f32(a[:, None] if a.ndim == 1 else a), False


def _check_float32(a: np.ndarray, where: str, name: str) -> None:
    """Every value finite and within float32 (what training computes in), or one line naming the first."""
    if a.dtype.kind != "f" or not a.size:
        return
    big = float(np.finfo(np.float32).max)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(a) | (np.abs(a) > big)
    if bad.any():
        at = np.unravel_index(int(np.flatnonzero(bad)[0]), a.shape)
        v = a[at]
        why = "is not a finite number; clean or drop that sample" if not np.isfinite(v) else \
            f"is beyond float32's range (±{big:.3g}), what training computes in; rescale the data"
        raise NnplayError(f"{where}: {name}[{', '.join(map(str, at))}] = {float(v)!r} {why}")


@register("npz", "your NumPy .npz archive with arrays x, y (and optional x_test, y_test)", "file",
          [p_path(), _p_task(), p_ratio(0.8), p_seed()])
def load_npz(p) -> Dataset:
    path = p["path"]
    head = read_bytes(path, "npz", limit=8)
    where = f"npz: {path!r}"
    if not head:
        raise NnplayError(f"{where} is empty; save arrays into it with numpy.savez(path, x=..., y=...)")
    if head.startswith(b"\x93NUMPY"):
        raise NnplayError(f"{where} holds a single .npy array, not an archive; "
                          "save it with numpy.savez(path, x=..., y=...)")
    if not head.startswith(b"PK"):
        raise NnplayError(f"{where} is not an .npz archive (those are zip files); "
                          "save it with numpy.savez(path, x=..., y=...)")
    # each array's header is checked before it is inflated: a small file cannot unpack to gigabytes
    with NpzReader(path, where) as z:
        keys = z.names

        def get(options, kinds, required=False):
            key = next((k for k in options if k in keys), None)
            if key is None:
                if required:
                    raise NnplayError(f"{where} has no input array; name it 'x' (found: {', '.join(keys) or 'none'})")
                return None
            return z.read(key, kinds=kinds)

        x, y = get(_X_KEYS, "biufc", True), get(_Y_KEYS, "biufcUS")
        xt, yt = get(_XT_KEYS, "biufc"), get(_YT_KEYS, "biufcUS")
    if len(x) == 0:
        raise NnplayError(f"{where}: array x is empty; it needs at least 2 samples")
    if p["task"] == "generative":
        y = yt = None
    if y is None and (yt is not None or p["task"] != "auto" and p["task"] != "generative"):
        raise NnplayError(f"{where} has no target array; name it 'y' (found: {', '.join(keys)})")
    if xt is None and yt is not None:
        raise NnplayError(f"{where} has y_test but no x_test; add x_test or remove y_test")
    if xt is not None and y is not None and yt is None:
        raise NnplayError(f"{where} has x_test but no y_test; add y_test or remove x_test")
    for a, b, an, bn in ((x, y, "x", "y"), (xt, yt, "x_test", "y_test")):
        if a is not None and b is not None and len(a) != len(b):
            raise NnplayError(f"{where}: {an} has {len(a)} samples but {bn} has {len(b)} labels; they must match")
    if xt is not None and xt.shape[1:] != x.shape[1:]:
        raise NnplayError(f"{where}: x_test samples have shape {xt.shape[1:]} but x samples {x.shape[1:]}; "
                          "they must match")
    x, image = _prep_x(x, where)
    if xt is not None:
        xt, _ = _prep_x(xt, where, "x_test")
    for a, name in ((y, "y"), (yt, "y_test")):
        if a is not None:
            _check_float32(a, where, name)
    if y is None:
        task, k, names = "generative", None, None
        y = np.zeros(len(x), dtype=np.int64)
        yt = None if xt is None else np.zeros(len(xt), dtype=np.int64)
    else:
        both = y if yt is None else np.concatenate([y, yt])
        yy, task, k, names = make_targets(both, p["task"], where)
        y, yt = (yy, None) if yt is None else (yy[:len(y)], yy[len(y):])
    desc = f"npz: {os.path.basename(path)}: inputs {tuple(x.shape[1:])}, {task}" + (f" with {k} classes;" if k else ";")
    return finish_split("npz", x, y, p, desc, task, k, names, {"path": path, "image": image, "keys": keys},
                   x_test=xt, y_test=yt)


# --------------------------------------------------------------------------------------------------
# Plain text
# --------------------------------------------------------------------------------------------------
@register("text", "your UTF-8 text file, for a char-level model", "file",
          [p_path(), Param("max_bytes", 5_000_000, "int", lo=1000, hi=50_000_000,
                            help="read at most this many bytes of the file"),
           *text_params(40, 3), p_ratio(0.8), p_seed()])
def load_text(p) -> Dataset:
    path, cap = p["path"], p["max_bytes"]
    raw = read_bytes(path, "text", limit=cap + 1)
    truncated = len(raw) > cap
    raw = raw[:cap]
    if not raw.strip():
        raise NnplayError(f"text: {path!r} is empty; give a file with some text in it")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(raw) - 3 and exc.end == len(raw):
            text = raw[:exc.start].decode("utf-8-sig")  # the cap cut a multi-byte character in half
        else:
            raise NnplayError(f"text: {path!r} is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                              "save it as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    note = f" (first {cap:_} bytes only)" if truncated else ""
    return char_windows("text", text, p, f"text: {os.path.basename(path)}{note}",
                        meta={"path": path, "truncated": truncated})
