"""One place turns a preset into an experiment of any kind: data loaded, layers built with the preset's
regularization, shapes and memory checked, the model compiled, the stop rules made. Nothing trains here."""
from __future__ import annotations

import copy
import math
import os

import numpy as np

from .. import datasets, optimizers
from ..errors import NnplayError
from ..layers.augment import Augmenter
from ..layers.base import LAYER_TYPES, layer_from_config
from ..models import Sequential
from ..presets import Preset, TrainingConfig
from ..presets.fields import relocate, schedule_config
from ..presets.validate import FILE_SUFFIXES
from ..training import callbacks as callbacks_mod
from ..training.data import validation_count
from .autoencoder import AutoencoderExperiment, autoencoder_dataset
from .base import Experiment
from .gan import gan_experiment
from .memory import MemoryEstimate, check, estimate, human_bytes, memory_limit
from .transfer import FineTune, base_layers, copy_weights, load_base

#: ``[data]`` keys that hold file paths (relative to the preset file).
PATH_PARAMS = ("path", "images", "labels", "images_test", "labels_test")


def _resolve_file(value, base_dir):
    """Relative data paths in a preset file are relative to that file (when the file is there)."""
    if not isinstance(value, str) or not base_dir or os.path.isabs(value):
        return value
    candidate = os.path.join(base_dir, value)
    return candidate if os.path.exists(candidate) else value


def load_data(p: Preset, limit: int | None = None):
    """The preset's dataset (seeded by the preset unless ``[data]`` says otherwise), with located errors;
    a file bigger than a quarter of ``limit`` bytes is refused before it is read."""
    ctx = p.context
    name, params = p.data.name, dict(p.data.params)
    is_file = os.path.splitext(name.strip())[1].lower() in FILE_SUFFIXES
    if is_file:
        name = _resolve_file(name, ctx.base_dir)
    for key in PATH_PARAMS:
        if key in params:
            params[key] = _resolve_file(params[key], ctx.base_dir)
    for key, value in [("name", name)] + [(k, params.get(k)) for k in PATH_PARAMS]:
        if isinstance(value, str) and os.path.isfile(value) and limit is not None and os.path.getsize(value) * 4 > limit:
            raise ctx.error(("data", key), f"{value!r} is {human_bytes(os.path.getsize(value))}, "
                                           f"too big to load in {human_bytes(limit)}; use a smaller file")
    if not is_file and "seed" not in params:
        try:
            if any(par.name == "seed" for par in datasets.find(name).params):
                params["seed"] = p.seed      # one seed makes the whole run reproducible
        except NnplayError:
            pass
    try:
        return datasets.load(name, **params)
    except NnplayError as exc:
        raise relocate(ctx, exc, ("data",), {"name": p.data.name, **p.data.params}) from None
    except MemoryError:
        raise ctx.error(("data",), "the dataset does not fit in memory; use fewer samples") from None


def layer_configs(layers: list[dict], regularization: dict | None) -> list[dict]:
    """Copies of a preset's layer tables, each kernel regularized as ``[training.regularization]`` says
    unless the layer names its own (the one place a preset's regularization reaches the layers)."""
    reg = regularization
    out = []
    for cfg in layers:
        cfg = copy.deepcopy(cfg)
        cls = LAYER_TYPES.get(str(cfg["type"]))
        if reg and cls is not None and "kernel_regularizer" in getattr(cls, "config_keys", ()) \
                and not cfg.get("kernel_regularizer"):
            cfg["kernel_regularizer"] = dict(reg)
        out.append(cfg)
    return out


def build_experiment(p: Preset, *, check_memory: bool = True, model=None, base_progress=None,
                     train_base: bool = True, depth: int = 0) -> Experiment:
    """Load the data, build and compile the model (seeded), make the callbacks; nothing trains yet.

    ``model``: a model to train instead of the preset's ``[model]`` (``nnplay run --model FILE``: a saved
    ``.npz`` or ``.keras`` model, weights and all), compiled here with the preset's training settings.

    A ``[model.base]`` preset is trained here the first time (``base_progress(event)`` sees its training
    events; see :mod:`.transfer`), then loaded from the cache folder; with ``train_base=False`` a base that
    is not trained yet is only built (to show the model or check shapes, not to train).

    Every problem found here (a missing file, an impossible layer stack, a model too big for memory)
    raises a one-line :class:`PresetError` naming the place in the preset.
    """
    ctx, tr = p.context, p.training
    limit = memory_limit() if check_memory else None
    ds = load_data(p, limit)
    cls = Experiment
    if p.data.augment is not None and (p.gan is not None or p.data.target == "input"):
        raise ctx.error(("data", "augment"), "augments the training images of a classifier or regressor; an "
                                            "autoencoder or GAN learns the images themselves: remove it")
    if p.gan is not None:
        if p.model.base is not None:
            raise ctx.error(("model", "base"), "a GAN preset builds its generator and discriminator itself; "
                                               "remove [model.base]")
        if model is not None:
            raise ctx.error(("gan",), "a GAN preset trains two models (generator and discriminator), so a saved "
                                      "model cannot replace them; give --model with a preset that trains one")
        return gan_experiment(p, ds, check_memory=check_memory)
    if p.data.target == "input":
        ds, cls = autoencoder_dataset(ds, p.anomaly), AutoencoderExperiment
    if tr.validation == "test" and len(ds.x_test) == 0:
        raise ctx.error(("training", "validation"), "the dataset has no test split to validate on; "
                                                    "use validation = \"split\" or \"none\"")
    input_shape = tuple(p.model.input_shape) if p.model.input_shape else ds.input_shape
    if p.model.input_shape and tuple(p.model.input_shape) != ds.input_shape:
        raise ctx.error(("model", "input_shape"), f"{list(p.model.input_shape)} does not match the data, whose "
                                                  f"samples have shape {list(ds.input_shape)}; remove input_shape")
    if model is not None:
        input_shape = ds.input_shape
    layers = []
    for i, cfg in enumerate(layer_configs(p.model.layers, tr.regularization) if model is None else ()):
        try:
            layers.append(layer_from_config(cfg))
        except NnplayError as exc:
            raise relocate(ctx, exc, ("model", "layers", i), cfg) from None
    split = tr.validation_split if tr.validation_split is not None else 0.2
    n_train = ds.n_train - (validation_count(ds.n_train, split) if tr.validation == "split" else 0)
    batch = min(tr.batch_size, max(n_train, 1))
    steps = math.ceil(n_train / batch) if n_train else 0
    opt_cfg = dict(tr.optimizer)
    probe = optimizers.get(dict(opt_cfg))
    if tr.schedule is not None:
        try:
            opt_cfg["learning_rate"] = schedule_config(tr.schedule, steps, probe.current_learning_rate())
        except NnplayError as exc:
            raise relocate(ctx, exc, ("training", "schedule"), tr.schedule) from None

    base, n_base, fine_tune = None, 0, []
    if p.model.base is not None and model is None:
        base = load_base(p, build_experiment, base_progress, depth, train=train_base)
        copies, trained = base_layers(p, base, input_shape)
        layers, n_base = copies + layers, len(copies)
        ft = tr.fine_tune
        if ft is not None:
            top = copies[-min(ft.get("unfreeze", n_base), n_base):]
            fine_tune = [FineTune(top, ft["after"], ft.get("learning_rate"), frozen=not top[0].trainable)]

    def shape_error(i, exc):
        if i < n_base:
            return ctx.error(("model", "base"), str(exc))
        return relocate(ctx, exc, ("model", "layers", i - n_base), p.model.layers[i - n_base], by_value=False)

    data_bytes = sum(int(a.nbytes) for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    n_slots = len(probe._slot_names())
    if model is None:
        est = estimate(layers, input_shape, batch, n_slots, 4, data_bytes, shape_error)
        if check_memory:
            check(est, ctx.error)
        model = Sequential(layers, name=p.name.replace("/", "-") or "sequential", seed=_model_seed(p, base))
        try:
            model.build(input_shape)
        except NnplayError as exc:
            bad = next((i for i, l in enumerate(model.layers) if not l.built), len(model.layers) - 1)
            raise shape_error(bad, exc) from None
        except MemoryError:
            raise ctx.error(("model",), "the model's weights do not fit in memory; use fewer or smaller "
                                        "layers") from None
        if base is not None and p.model.base.get("pretrained", True):
            copy_weights(copies, trained)
    else:
        est = _loaded_model_estimate(model, ds.input_shape, n_slots, data_bytes, ctx)
        if check_memory:
            check(est, ctx.error)
    try:
        model.compile(optimizer=opt_cfg, loss=tr.loss, metrics=list(tr.metrics))
    except NnplayError as exc:
        raise ctx.error(("training",), str(exc)) from None
    try:
        model.check_data(ds.x_train[:8], ds.y_train[:8])
    except NnplayError as exc:
        raise ctx.error(("training", "loss") if "loss" in str(exc) else ("model",), str(exc)) from None
    est.params = model.count_params()
    fit = {"x": ds.x_train, "y": ds.y_train, "epochs": tr.epochs, "batch_size": tr.batch_size,
           "shuffle": tr.shuffle}
    if tr.validation == "test":
        fit["validation_data"] = (ds.x_test, ds.y_test)
    elif tr.validation == "split":
        fit["validation_split"] = split
    augment = None
    if p.data.augment is not None:
        try:
            augment = Augmenter(p.data.augment, ds.input_shape, seed=p.seed)
        except NnplayError as exc:
            raise ctx.error(("data", "augment"), str(exc).removeprefix("augment: ")) from None
    return cls(preset=p, dataset=ds, model=model, callbacks=stop_callbacks(tr) + fine_tune, fit_kwargs=fit,
               target=p.target, steps_per_epoch=steps, memory=est, augment=augment, base=base,
               n_base_layers=n_base)


def _model_seed(p: Preset, base) -> int | None:
    """The preset's seed, or on a base one derived from it: with the base preset's own seed the new layers
    would start with exactly the weights the base's discarded top layers started with (the same draws in
    the same order), and the base's features were trained to fit those, so a "new" head would score well
    before any training."""
    if base is None or p.seed is None:
        return p.seed
    return int(np.random.SeedSequence([int(p.seed), 0x6E6E]).generate_state(1)[0])


def _loaded_model_estimate(model, input_shape: tuple, n_slots: int, data_bytes: int, ctx):
    """Check that a saved model takes the preset's data, and what its weights and optimizer will need."""
    if len(model.input_shapes) != 1 or tuple(model.input_shapes[0]) != tuple(input_shape):
        want = ", ".join(str(list(s)) for s in model.input_shapes) or "no fixed shape"
        raise ctx.error(("data",), f"the saved model takes inputs of shape {want}, but this data's samples have "
                                   f"shape {list(input_shape)}; pick a preset with matching data")
    params = model.count_params()
    itemsize = model.model_dtype.itemsize
    return MemoryEstimate(weights=2 * params * itemsize, optimizer=n_slots * params * itemsize, data=int(data_bytes),
                          params=params, complete=False)


def stop_callbacks(tr: TrainingConfig) -> list:
    s = tr.stop
    if s is None:
        return []
    val = tr.validation != "none"
    out = []
    if s.patience is not None:
        out.append(callbacks_mod.EarlyStopping(monitor=s.monitor or ("val_loss" if val else "loss"),
                                               patience=s.patience, min_delta=s.min_delta or 0.0,
                                               restore_best_weights=bool(s.restore_best_weights)))
    if s.target_loss is not None:
        out.append(callbacks_mod.StopAtTarget("loss", s.target_loss, mode="min"))
    if s.target_accuracy is not None:
        out.append(callbacks_mod.StopAtTarget("val_accuracy" if val else "accuracy", s.target_accuracy, mode="max"))
    return out


