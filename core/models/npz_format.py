"""nnplay's own model file: one ``.npz`` holding the config (JSON in ``__meta__``), the weights in Keras
order (``w0000``, ``w0001``, ...) and the optimizer's state (``opt/...``). Written atomically, read with
``allow_pickle=False``: nothing in a file is ever unpickled or run."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import NnplayError
from ..fileio import atomic_save_npz

FORMAT_VERSION = 1    #: of the ``.npz`` a model saves to


def write_model_npz(model, path) -> Path:
    """Write ``model`` (built) to ``path`` (``.npz`` appended when missing); returns the path written."""
    path = Path(path)
    if path.is_dir():
        raise NnplayError(f"{str(path)!r} is a folder; give a file name such as {str(path / 'model.npz')!r}")
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    meta = {"format": "nnplay-model", "version": FORMAT_VERSION, "config": model.get_config(), "compile": None}
    arrays = {f"w{i:04d}": w for i, w in enumerate(model.get_weights())}
    if model.compiled and model._ready:
        meta["compile"] = compile_info(model)
        for k, v in model.optimizer.get_state().items():
            arrays[f"opt/{k}"] = np.asarray(v)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    return atomic_save_npz(path, arrays)


def compile_info(model) -> dict:
    """What ``compile`` was given, as plain data: optimizer and loss configs, metric names, loss weights."""
    _, metrics, weights = model._compile_args
    heads = model.heads
    return {"optimizer": model.optimizer.get_config(),
            "loss": [l.get_config() for l in heads.losses] if not heads.single else model.loss.get_config(),
            "metrics": plain_metrics(metrics), "loss_weights": weights}


def read_model_npz(path: Path) -> tuple[dict, list[np.ndarray], dict[str, np.ndarray]]:
    """``(meta, weights, optimizer state)`` of a file :func:`write_model_npz` wrote; one clear error for
    anything else."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
        if meta.get("format") != "nnplay-model":
            raise KeyError("format")
    except Exception as exc:  # any corruption: one clear message, no traceback
        raise NnplayError(f"{str(path)!r} is not a readable nnplay model ({type(exc).__name__}); "
                          f"it may be truncated or from another program: save the model again") from None
    if meta.get("version", 0) > FORMAT_VERSION:
        raise NnplayError(f"{str(path)!r} was saved by a newer nnplay (format {meta['version']}); upgrade nnplay")
    weights = [arrays[k] for k in sorted(k for k in arrays if k.startswith("w"))]
    state = {k[4:]: v for k, v in arrays.items() if k.startswith("opt/")}
    return meta, weights, state


def plain_metrics(metrics):
    """Metric specs as names (what a saved model's config can hold)."""
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        return {k: plain_metrics(v) for k, v in metrics.items()}
    if isinstance(metrics, (list, tuple)):
        return [plain_metrics(m) if isinstance(m, (list, tuple, dict)) else
                (m if isinstance(m, str) else getattr(m, "name", str(m))) for m in metrics]
    return metrics if isinstance(metrics, str) else getattr(metrics, "name", str(metrics))
