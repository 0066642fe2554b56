"""What the TUI needs to know about datasets: which to offer, their editable parameters, and how a model
is adapted (output layer, loss, a starter stack) when the learner switches to another kind of data."""
from __future__ import annotations

from nnplay.core.errors import NnplayError

from .state import FieldSpec

DATA_KINDS = ("2d", "image", "sequence", "text")
_SKIP_DATASETS = {"ring8", "swissroll2d", "curve1d", "copy", "arith", "pydoc"}


def dataset_choices() -> tuple[str, ...]:
    from nnplay.core.datasets import list_datasets
    return tuple(n for n, _, kind in list_datasets() if kind in DATA_KINDS and n not in _SKIP_DATASETS)


def data_fields(name: str) -> tuple[FieldSpec, ...]:
    """Editor rows for a dataset: its name, then its own parameters (from the dataset registry)."""
    from nnplay.core.datasets import FEATURES
    from nnplay.core.datasets._base import find
    rows = [FieldSpec("data.name", "dataset", "choice", dataset_choices(), help="press ← → to pick")]
    for p in find(name).params:
        key = f"data.{p.name}"
        if p.name == "features":
            rows.append(FieldSpec(key, "features", "choice", FEATURE_SETS, help=", ".join(FEATURES)))
        elif p.kind == "int":
            step = max(1, int(p.default or 1) // 5) if p.name == "n_samples" else 1
            rows.append(FieldSpec(key, p.name.replace("_", " "), "int", lo=p.lo, hi=p.hi, step=step,
                                  default=p.default, help=p.help))
        elif p.kind == "float":
            rows.append(FieldSpec(key, p.name.replace("_", " "), "float", lo=p.lo, hi=p.hi, step=0.05,
                                  default=p.default, help=p.help))
        elif p.kind == "choice":
            rows.append(FieldSpec(key, p.name.replace("_", " "), "choice", tuple(p.choices), default=p.default,
                                  help=p.help))
        elif p.kind == "bool":
            rows.append(FieldSpec(key, p.name.replace("_", " "), "bool", default=p.default, help=p.help))
    if _kind_of(name) == "image":
        rows.append(FieldSpec("data.augment", "augment", "bool", default=False,
                              help="random rotations, zooms and shifts of each training batch ([data.augment]); "
                                   "the Output view shows what the network sees"))
    return tuple(rows)


def _kind_of(name: str) -> str | None:
    from nnplay.core.datasets import list_datasets
    return next((kind for n, _, kind in list_datasets() if n == name), None)


#: Feature sets offered with ← → (TensorFlow Playground's input column); any list can be typed.
FEATURE_SETS = ("x1,x2", "x1,x2,x1^2,x2^2", "x1,x2,x1*x2", "x1,x2,sin(x1),sin(x2)",
                "x1,x2,x1^2,x2^2,sin(x1),sin(x2)", "x1,x2,x1^2,x2^2,x1*x2,sin(x1),sin(x2)")


def features_text(value) -> str:
    return ",".join(value) if isinstance(value, (list, tuple)) else str(value or "x1,x2")


def load_dataset(setup: dict):
    from nnplay.core.datasets import load
    params = dict(setup.get("data") or {})
    name = params.pop("name", None)
    if not name:
        raise NnplayError("[data] needs a name, e.g. name = \"spiral\"")
    return load(name, **params)


def adapt_to_dataset(setup: dict, ds, previous_kind: str | None = None, check=None) -> list[str]:
    """Make the output layer, loss and metrics fit the dataset's task. On a new kind of data the learner's
    network stays when it still fits (``check(layers)`` gives the shape error or None; a Flatten is put in
    front of Dense layers for images and sequences); otherwise a starter network replaces it.

    Returns short notes about what changed and why, for the learner.
    """
    from nnplay.core.layers import LAYER_TYPES
    notes = []
    layers = setup.setdefault("model", {}).setdefault("layers", [])
    kind = dataset_kind(ds)
    if previous_kind is not None and kind != previous_kind or not layers:
        kept, why = _still_fits(layers, kind, ds, check)
        if kept is not None:
            layers[:] = kept
            notes.append(f"kept your network for {kind} data" + (f" ({why})" if why else ""))
        else:
            layers[:] = starter_layers(kind, set(LAYER_TYPES))
            if kind == "text":
                layers[0]["input_dim"] = len(ds.meta["vocab"])
            notes.append(f"a starter network for {kind} data" + (f": {why}" if why else ""))
    out_units = ds.output_dim
    task = ds.task
    act = {"binary": "sigmoid", "multiclass": "softmax"}.get(task, "linear")
    loss = {"binary": "binary_crossentropy", "multiclass": "sparse_categorical_crossentropy"}.get(task, "mse")
    last = layers[-1] if layers else None
    if last is None or last.get("type") != "dense":
        layers.append({"type": "dense", "units": out_units, "activation": act})
    elif last.get("units") != out_units or last.get("activation") != act:
        last.update(units=out_units, activation=act)
        notes.append(f"output layer: {out_units} {act}")
    training = setup.setdefault("training", {})
    if task in ("binary", "multiclass", "regression") and _loss_task(training.get("loss")) != task:
        training["loss"] = loss
        training["metrics"] = ["accuracy"] if task != "regression" else ["mae"]
        notes.append(f"loss: {loss}")
        notes.extend(_drop_stale_goals(setup, training))
    return notes


def _drop_stale_goals(setup: dict, training: dict) -> list[str]:
    """A new task logs other metrics: a target or early stop that watches one it no longer logs goes."""
    logged = {"loss", *(m for m in training.get("metrics", ()) if isinstance(m, str))}

    def stale(metric) -> bool:
        return isinstance(metric, str) and metric.split("_", 1)[-1] not in logged

    notes = []
    target = setup.get("target")
    if isinstance(target, dict) and stale(target.get("metric")):
        setup.pop("target")
        notes.append(f"the target ({target['metric']}) no longer applies and was dropped")
    stop = training.get("stop")
    if isinstance(stop, dict) and stale(stop.get("monitor")):
        training.pop("stop")
        notes.append(f"early stopping on {stop['monitor']} no longer applies and was dropped")
    return notes


def _still_fits(layers: list[dict], kind: str, ds, check) -> tuple[list[dict] | None, str]:
    """(the learner's layers made to fit the new data, what was changed) or (None, why they cannot)."""
    if not layers or check is None:
        return None, ""
    if kind == "text" and layers[0].get("type") != "embedding":
        return None, "text arrives as token ids, so its network starts with an Embedding"
    kept, why = [dict(c) for c in layers], ""
    if len(ds.input_shape) > 1 and kept[0].get("type") == "dense" and kind != "text":
        kept.insert(0, {"type": "flatten"})
        why = f"with a flatten in front for inputs of shape {tuple(ds.input_shape)}"
    error = check(kept)
    if error:
        return None, f"your network does not fit inputs of shape {tuple(ds.input_shape)} ({error.rstrip('.')})"
    return kept, why


def _loss_task(loss) -> str | None:
    if loss in ("binary_crossentropy", "hinge"):
        return "binary"
    if loss in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        return "multiclass"
    if loss in ("mse", "mae", "huber", "log_cosh", "mean_squared_error", "mean_absolute_error"):
        return "regression"
    return None


def dataset_kind(ds) -> str:
    if ds.meta.get("vocab"):
        return "text"
    if "points_train" in ds.meta:
        return "2d"
    if len(ds.input_shape) == 3:
        return "image"
    return "sequence"


def starter_layers(kind: str, registered: set[str]) -> list[dict]:
    if kind == "image":
        if "conv2d" in registered and "max_pooling2d" in registered:
            return [{"type": "conv2d", "filters": 8, "kernel_size": 3, "activation": "relu"},
                    {"type": "max_pooling2d", "pool_size": 2}, {"type": "flatten"},
                    {"type": "dense", "units": 32, "activation": "relu"}]
        return [{"type": "flatten"}, {"type": "dense", "units": 64, "activation": "relu"}]
    if kind == "text":
        return [{"type": "embedding", "input_dim": 64, "output_dim": 16}, {"type": "lstm", "units": 64}]
    if kind == "sequence":
        if "lstm" in registered:
            return [{"type": "lstm", "units": 16}]
        return [{"type": "flatten"}, {"type": "dense", "units": 32, "activation": "tanh"}]
    return [{"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dense", "units": 8, "activation": "tanh"}]
