"""nnplay's own model file: one ``.npz`` holding the config (JSON in ``__meta__``), the weights in Keras
order (``w0000``, ``w0001``, ...) and the optimizer's state (``opt/...``). Written atomically; read without
pickle, nothing in a file is ever unpickled or run.

Reading is bounded: only a regular file is opened, the config is read first (at most ``META_LIMIT`` bytes),
the model it describes is built (its weights checked against the memory available), and each weight array
is inflated only after its ``.npy`` header showed the shape that model needs.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ..errors import NnplayError
from ..fileio import atomic_write_bytes
from ..safety import NpzReader

FORMAT_VERSION = 1    #: of the ``.npz`` a model saves to
META_LIMIT = 16 << 20  #: bytes of config JSON a model file may hold
_FIX = "it may be truncated or from another program: save the model again"


def write_model_npz(model, path) -> Path:
    """Write ``model`` (built) to ``path`` (``.npz`` appended when missing); returns the path written."""
    path = Path(path)
    if path.is_dir():
        raise NnplayError(f"{str(path)!r} is a folder; give a file name such as {str(path / 'model.npz')!r}")
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    return atomic_write_bytes(path, model_npz_bytes(model))


def model_npz_bytes(model) -> bytes:
    """The bytes of ``model``'s ``.npz`` file (what :func:`write_model_npz` writes)."""
    meta = {"format": "nnplay-model", "version": FORMAT_VERSION, "config": model.get_config(), "compile": None}
    arrays = {f"w{i:04d}": w for i, w in enumerate(model.get_weights())}
    if model.compiled and model._ready:
        meta["compile"] = compile_info(model)
        for k, v in model.optimizer.get_state().items():
            arrays[f"opt/{k}"] = np.asarray(v)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def compile_info(model) -> dict:
    """What ``compile`` was given, as plain data: optimizer and loss configs, metric names, loss weights."""
    _, metrics, weights = model._compile_args
    heads = model.heads
    return {"optimizer": model.optimizer.get_config(),
            "loss": [l.get_config() for l in heads.losses] if not heads.single else model.loss.get_config(),
            "metrics": plain_metrics(metrics), "loss_weights": weights}


class ModelFile:
    """An open nnplay ``.npz`` model file: its checked ``meta``, then :meth:`weights` and
    :meth:`optimizer_state` read against the model built from it. One clear error for anything else."""

    def __init__(self, path):
        self.where = repr(str(path))
        self._z = NpzReader(path, self.where, kind="nnplay model", fix=_FIX)
        try:
            self.meta = self._read_meta()
        except BaseException:
            self._z.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._z.close()
        return False

    def _read_meta(self) -> dict:
        try:
            raw = self._z.read("__meta__", kinds="u", max_bytes=META_LIMIT)
            meta = json.loads(raw.tobytes().decode("utf-8"))
        except (NnplayError, ValueError, RecursionError) as exc:
            reason = "no readable config" if isinstance(exc, NnplayError) else "its config is not JSON"
            raise NnplayError(f"{self.where} is not a readable nnplay model ({reason}); {_FIX}") from None
        if not isinstance(meta, dict) or meta.get("format") != "nnplay-model":
            raise NnplayError(f"{self.where} is not a readable nnplay model (not nnplay's format); {_FIX}")
        version = meta.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise NnplayError(f"{self.where} is not a readable nnplay model (format version {version!r}); {_FIX}")
        if version > FORMAT_VERSION:
            raise NnplayError(f"{self.where} was saved by a newer nnplay (format {version}); upgrade nnplay")
        if not isinstance(meta.get("config"), dict):
            raise NnplayError(f"{self.where} is not a readable nnplay model (it has no model config); {_FIX}")
        if meta.get("compile") is not None and not isinstance(meta["compile"], dict):
            raise NnplayError(f"{self.where} is not a readable nnplay model (its compile settings are not a "
                              f"table); {_FIX}")
        return meta

    def weights(self, shapes: list[tuple]) -> list[np.ndarray]:
        """The weight arrays, in order, each checked against the shape the model needs before it is read."""
        names = sorted(k for k in self._z.names if k.startswith("w"))
        if len(names) != len(shapes):
            raise NnplayError(f"{self.where} holds {len(names)} weight arrays, but the model in its config has "
                              f"{len(shapes)}; {_FIX}")
        return [self._z.read(name, expect_shape=shape) for name, shape in zip(names, shapes)]

    def optimizer_state(self, n_values: int) -> dict[str, np.ndarray]:
        """The optimizer's arrays: none can hold more than one value per weight of the model."""
        names = [k for k in self._z.names if k.startswith("opt/")]
        if len(names) > 64:
            raise NnplayError(f"{self.where} holds {len(names)} optimizer arrays, far more than any optimizer "
                              f"keeps; {_FIX}")
        limit = 8 * max(int(n_values), 1) + 4096
        return {k[4:]: self._z.read(k, max_bytes=limit) for k in names}


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
