"""What ``nnplay export SOURCE`` exports: a preset (shipped name, ``.toml`` file or share string; its model
freshly built and seeded, as ``nnplay run`` starts) or a folder ``nnplay run --out`` wrote (its preset and its
trained ``model.npz``)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import NnplayError
from ..experiments import Experiment, build_experiment
from ..models import load_model
from ..presets import Preset, load_preset


@dataclass
class Source:
    preset: Preset
    experiment: Experiment
    origin: str                      #: where the weights come from, one sentence for the script's header
    notes: list[str]                 #: more for the header (variants, a GAN run's discriminator)


def resolve_source(source) -> Source:
    """The preset and the experiment (with trained weights for a run folder) that ``source`` names."""
    path = Path(str(source))
    if path.is_dir():
        return _run_folder(path)
    preset = load_preset(source)
    notes = []
    if preset.variants:
        names = ", ".join(v.name for v in preset.variants)
        notes.append(f"The preset has variants ({names}); this is its base setup. To export a variant, run the "
                     f"preset with `nnplay run {preset.name} --out DIR` and export DIR/VARIANT.")
    return Source(preset, build_experiment(preset), f"untrained, as nnplay builds them from the preset (seed "
                                                    f"{preset.seed}) before training.", notes)


def _run_folder(path: Path) -> Source:
    toml, npz = path / "preset.toml", path / "model.npz"
    if not toml.is_file():
        raise NnplayError(f"{path}: not a run folder (no preset.toml); give a preset name, a .toml file, or a folder "
                          f"written by `nnplay run --out`")
    if not npz.is_file():
        runs = sorted(d.name for d in path.iterdir() if (d / "model.npz").is_file())
        if runs:
            raise NnplayError(f"{path} holds one run per variant ({', '.join(runs)}); export one of them, e.g. "
                              f"nnplay export {path / runs[0]} --to keras")
        raise NnplayError(f"{path} has no model.npz (the run saved no model); export the preset {toml} instead")
    preset = load_preset(toml)
    experiment = build_experiment(preset)
    trained = load_model(npz, compile=False)
    try:
        experiment.model.set_weights(trained.get_weights())
    except NnplayError as exc:
        raise NnplayError(f"{npz} does not fit {toml} ({exc}); export the preset instead, or run it again") from None
    notes = []
    origin = "trained by `nnplay run` (the run folder's model.npz)."
    if experiment.kind == "gan":
        origin = "the generator's trained by `nnplay run` (the run folder's model.npz)."
        notes.append("`nnplay run` saves the generator only: the discriminator's weights here are freshly built "
                     "from the preset, so training on from them is a new game for the discriminator.")
    return Source(preset, experiment, origin, notes)
