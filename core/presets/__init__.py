"""Presets: one TOML file describes a whole experiment (data, model, training, target). This package reads,
checks and writes them; :mod:`nnplay.core.experiments` turns one into something to train::

    from nnplay.core.presets import load_preset, apply_overrides
    from nnplay.core.experiments import build_experiment
    p = load_preset("spiral")                                  # a shipped name, a path or a share string
    p = apply_overrides(p, {"training.epochs": 50})
    exp = build_experiment(p)                                  # dataset, compiled model, callbacks
    for event in exp.trainer().run(): ...

The dataclasses are in :mod:`.schema`, validation in :mod:`.validate` (helpers in :mod:`.fields`), TOML
positions and writing in :mod:`.toml_io`, files and overrides in :mod:`.files`, share strings (a preset as
one ``nnplay1:`` line: :func:`share_string`, :func:`preset_from_share_string`) in :mod:`.share`.
"""
from .files import (ORDER, apply_overrides, list_presets, load_preset, parse_override_value, parse_preset,
                    preset_from_dict, save_preset, shipped_preset_names)
from .from_model import preset_from_model
from .schema import (FORMAT_VERSION, DataConfig, ModelConfig, Preset, PresetError, StopConfig, TargetConfig,
                     TrainingConfig, Variant)
from .share import ShareStringError, is_share_string, preset_from_share_string, share_string
from .validate import variant_preset

__all__ = ["Preset", "DataConfig", "ModelConfig", "TrainingConfig", "StopConfig", "TargetConfig", "Variant",
           "PresetError", "FORMAT_VERSION", "ORDER", "load_preset", "parse_preset", "preset_from_dict",
           "list_presets", "save_preset", "apply_overrides", "variant_preset", "preset_from_model",
           "shipped_preset_names", "parse_override_value", "share_string", "preset_from_share_string",
           "is_share_string", "ShareStringError"]
