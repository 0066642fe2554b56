"""Export a nnplay model as a standalone Keras or PyTorch script, with its weights, a check and the data.

``nnplay export SOURCE --to keras|pytorch [--out DIR]`` and the playground both come here::

    from nnplay.core.export import export_model, export_source
    result = export_source("cnn-font-digits", to="pytorch")                  # a preset, fresh and seeded
    result = export_source("runs/spiral", to="keras", out_dir="spiral-keras")  # a run folder: trained weights
    result = export_model(preset, model, to="keras", out_dir="out")          # any model in memory

An export folder holds ``model_keras.py`` or ``model_pytorch.py`` (a readable script: the layers one per
line, nnplay's weights loaded, the preset's training; ``--check`` compares its outputs with nnplay's),
``weights.npz`` (Keras layout, keyed ``layer/weight``), ``check.npz`` (inputs and nnplay's outputs),
``data.npz`` (the preset's split, when at most 50 MB) and ``preset.toml``. Everything is prepared in memory
first: a model or setting the framework cannot express raises :class:`ExportError` (one line) and nothing
is written.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import NnplayError
from ..experiments import build_experiment
from ..fileio import atomic_write_bytes
from ..presets import Preset
from . import arrays
from .arrays import check_arrays, data_arrays, data_size, npz_bytes, weight_arrays
from .common import SCRIPT_NAMES, ScriptInfo
from .graph import ExportError, model_graph
from .keras_script import keras_script
from .plan import training_plan
from .pytorch_script import pytorch_script
from .source import resolve_source
from .writing import check_folder, write_files

FRAMEWORKS = ("keras", "pytorch")

__all__ = [
    "FRAMEWORKS",
    "ExportError",
    "ExportResult",
    "default_out_dir",
    "export_model",
    "export_source",
    "write_data",
]


@dataclass
class ExportResult:
    """What an export wrote."""

    out_dir: Path
    framework: str                      #: "keras" or "pytorch"
    script: Path                        #: model_keras.py or model_pytorch.py
    files: list[Path]                   #: every file written
    check_inputs: np.ndarray            #: the inputs in check.npz (test samples, or a GAN's latent vectors)
    check_outputs: np.ndarray           #: nnplay's outputs for them
    data_written: bool                  #: False when the data was too big for data.npz


def default_out_dir(preset: Preset) -> Path:
    """``./export-NAME`` for a preset named NAME."""
    name = re.sub(r"[^\w.-]+", "-", preset.name).strip("-.") or "model"
    return Path(f"export-{name}")


def export_source(source, to: str, out_dir=None) -> ExportResult:
    """Export what ``source`` names: a preset (name, ``.toml`` file or share string) with its fresh, seeded
    model, or a folder written by ``nnplay run --out`` with its trained model."""
    _check_framework(to)
    src = resolve_source(source)
    exp = src.experiment
    disc = exp.gan.discriminator if exp.kind == "gan" else None
    return export_model(src.preset, exp.model, to, out_dir, dataset=exp.dataset, discriminator=disc,
                        origin=src.origin, notes=src.notes)


def export_model(preset: Preset, model, to: str, out_dir=None, dataset=None, *, discriminator=None,
                 origin: str | None = None, notes: list[str] | None = None) -> ExportResult:
    """Export ``model`` (as it is now: fresh or trained) with ``preset``'s data and training.

    Args:
        preset: the scenario: its data, training settings and name.
        model: a built Sequential or functional model (a GAN preset's: the generator).
        to: "keras" or "pytorch".
        out_dir: the folder to write (default ``./export-NAME``); it must be missing, empty, or an earlier
            export for the same framework.
        dataset: the data as the model sees it (an experiment's ``dataset``); built from the preset when None.
        discriminator: a GAN's discriminator (built fresh from the preset when None).
        origin: where the weights come from, for the script's header.
        notes: extra sentences for the script's header.

    Raises:
        ExportError: something in the model or the preset has no counterpart in the framework (nothing is
            written); NnplayError for a bad folder or preset.
    """
    _check_framework(to)
    out = Path(out_dir) if out_dir is not None else default_out_dir(preset)
    check_folder(out, to)
    gan = preset.gan is not None
    if dataset is None or (gan and discriminator is None):
        exp = build_experiment(preset, check_memory=False)
        dataset = dataset if dataset is not None else exp.dataset
        if gan and discriminator is None:
            discriminator = exp.gan.discriminator
    plan = training_plan(preset, dataset)
    roles = {"generator": model, "discriminator": discriminator} if gan else {"model": model}
    graphs = {role: model_graph(m, to) for role, m in roles.items()}
    info = ScriptInfo(to=to, preset_name=preset.name, description=preset.description,
                      origin=origin or "as they were in the model when it was exported.", plan=plan,
                      notes=list(notes or []))
    data = data_arrays(dataset, plan.kind)
    size = data_size(data)
    data_written = size <= arrays.DATA_LIMIT
    if not data_written:
        info.data_note = f"(The data is {size / 2**20:.0f} MB, more than nnplay export writes.)"
    script = keras_script(info, graphs) if to == "keras" else pytorch_script(info, graphs)   # may refuse
    weights: dict[str, np.ndarray] = {}
    for role, graph in graphs.items():
        weights.update(weight_arrays(graph, "" if role == "model" else f"{role}/"))
    check = check_arrays(model, dataset, plan.gan["latent_dim"] if gan else None, preset.seed)
    files = {SCRIPT_NAMES[to]: script.encode("utf-8"), "weights.npz": npz_bytes(weights),
             "check.npz": npz_bytes(check), "preset.toml": preset.to_toml().encode("utf-8")}
    if data_written:
        files["data.npz"] = npz_bytes(data)
    written = write_files(out, files)
    return ExportResult(out, to, out / SCRIPT_NAMES[to], written, check["inputs"], check["outputs"], data_written)


def write_data(source, path="data.npz") -> Path:
    """Write the data.npz an export's script trains on, for data too big to export (a preset name or file,
    or a run folder)."""
    src = resolve_source(source)
    kind = "gan" if src.preset.gan is not None else "autoencoder" if src.preset.data.target == "input" else "plain"
    return atomic_write_bytes(Path(path), npz_bytes(data_arrays(src.experiment.dataset, kind)))


def _check_framework(to: str) -> None:
    if to not in FRAMEWORKS:
        raise NnplayError(f"unknown framework {to!r}; export --to keras or --to pytorch")

