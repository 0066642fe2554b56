"""Reading and writing preset files: shipped presets by name, ``.toml`` files by path, share strings
(:mod:`.share`), ``--set`` overrides."""
from __future__ import annotations

import copy
import os
import re
from importlib import resources
from pathlib import Path as FilePath
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ..errors import NnplayError, did_you_mean
from ..fileio import atomic_write_text
from ..registry import squash
from ..safety import read_file
from .schema import Context, Preset, PresetError, parse_path
from .share import is_share_string, looks_like_payload, preset_from_share_string
from .toml_io import key_lines
from .validate import apply_ops, validate

#: The shipped presets in teaching order (others found in the package follow, by name).
ORDER = ("perceptron-xor", "xor", "circle", "gauss", "spiral", "moons", "moons-dropout", "l1-sparsity", "reg-plane",
         "reg-gauss", "optimizers", "mnist-mlp", "cnn-font-digits", "cnn-shapes", "augment-digits",
         "transfer-digits-base", "transfer-digits-bold", "rnn-sine", "lstm-sine",
         "memory-first-symbol", "gru-parity", "char-lstm")
PRESET_LIMIT = 4 << 20    #: bytes; the biggest shipped preset is a few KB
MAX_DEPTH = 32            #: levels of nested tables and arrays a preset may use (a layer's config needs ~4)


# ------------------------------------------------------------------------------------------ reading
def _shipped_dir():
    return resources.files("nnplay.presets")


def shipped_preset_names() -> list[str]:
    found = sorted(e.name[:-5] for e in _shipped_dir().iterdir() if e.name.endswith(".toml"))
    return [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]


def parse_preset(text: str, source: str = "preset", base_dir: str | None = None, default_name: str | None = None
                 ) -> Preset:
    """Parse and validate TOML text. ``source`` labels error messages (``spiral.toml:12: ...``)."""
    text = text.removeprefix("\ufeff")      # a byte-order mark, as Windows editors save UTF-8
    try:
        raw = tomllib.loads(text)
    except RecursionError:
        raise PresetError(f"invalid TOML: values are nested too deeply (a preset needs at most {MAX_DEPTH} "
                          "levels); fix the file", source) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\s*\(at line (\d+), column (\d+)\)", msg)
        if m:
            raise PresetError(f"invalid TOML: {msg[:m.start()]} (column {m.group(2)}); fix the syntax",
                              f"{source}:{m.group(1)}") from None
        raise PresetError(f"invalid TOML: {msg}; fix the syntax", source) from None
    ctx = Context(source=source, lines=key_lines(text), base_dir=base_dir)
    deep = _too_deep(raw)
    if deep is not None:
        raise ctx.error(deep[:1], f"values are nested more than {MAX_DEPTH} levels deep; a preset needs only a few")
    if default_name and "name" not in raw:
        raw["name"] = default_name
    return validate(raw, ctx)


def _too_deep(raw) -> tuple | None:
    """The path of a value nested deeper than MAX_DEPTH levels, or None (walked without recursion)."""
    todo = [(raw, ())]
    while todo:
        value, path = todo.pop()
        if len(path) > MAX_DEPTH:
            return path
        if isinstance(value, dict):
            todo += [(v, path + (k,)) for k, v in value.items()]
        elif isinstance(value, list):
            todo += [(v, path + (i,)) for i, v in enumerate(value)]
    return None


def preset_from_dict(d: dict, source: str = "preset") -> Preset:
    """Validate a dict shaped like the TOML schema (what :meth:`Preset.to_dict` returns)."""
    return validate(copy.deepcopy(d), Context(source=source))


def load_preset(ref) -> Preset:
    """A shipped preset by name (``"spiral"``), a ``.toml`` file by path, or a share string (``nnplay1:...``,
    see :mod:`.share`), validated."""
    if not isinstance(ref, os.PathLike) and is_share_string(ref):
        return preset_from_share_string(ref)
    ref_s = os.fspath(ref)
    looks_like_path = isinstance(ref, os.PathLike) or ref_s.endswith(".toml") or os.sep in ref_s or "/" in ref_s
    if looks_like_path or os.path.exists(ref_s):
        path = FilePath(ref_s)
        if not path.exists() or path.is_dir():
            what = "is a folder" if path.is_dir() else "does not exist"
            raise NnplayError(f"{ref_s}: preset file {what}; check the path, or see `nnplay list presets` "
                              f"for the shipped presets")
        raw_bytes = read_file(path, f"{ref_s}: the preset file", PRESET_LIMIT)   # a pipe or device: refused
        try:
            text = raw_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NnplayError(f"{ref_s}: not UTF-8 text (byte {exc.start}); save the preset as UTF-8") from None
        return parse_preset(text, source=ref_s, base_dir=str(path.resolve().parent), default_name=path.stem)
    names = shipped_preset_names()
    key = next((n for n in names if squash(n) == squash(ref_s)), None)
    if key is None:
        if looks_like_payload(ref_s):
            raise NnplayError("this looks like a share string, but it does not start with nnplay1:; copy the "
                              "whole line, starting at nnplay1:")
        raise NnplayError(f"unknown preset {ref_s!r}" + did_you_mean(ref_s.strip().lower().replace("_", "-"), names)
                          + "; see `nnplay list presets`, give a path to a .toml file, or paste a share string "
                            "(nnplay1:...)")
    text = (_shipped_dir() / f"{key}.toml").read_text(encoding="utf-8")
    return parse_preset(text, source=f"{key}.toml", default_name=key)


def list_presets() -> list[tuple[str, str]]:
    """(name, first sentence of the description) of every shipped preset, in teaching order."""
    out = []
    for name in shipped_preset_names():
        try:
            raw = tomllib.loads((_shipped_dir() / f"{name}.toml").read_text(encoding="utf-8"))
            first = first_sentence(str(raw.get("description", "")))
        except (tomllib.TOMLDecodeError, OSError):
            first = "(unreadable preset)"
        out.append((name, first))
    return out


def first_sentence(text: str, limit: int = 110) -> str:
    """The first sentence of ``text`` (its lines joined), whole; past ``limit`` characters it ends at a word
    with an ellipsis, never mid-word."""
    flat = " ".join(text.split())
    match = re.search(r"[.!?](?=\s|$)", flat)
    sentence = flat[:match.end()] if match else flat
    if len(sentence) <= limit:
        return sentence
    return sentence[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def save_preset(preset: Preset, path) -> FilePath:
    """Write ``preset`` as TOML, atomically; ``load_preset(path) == preset``."""
    return atomic_write_text(path, preset.to_toml())


def parse_override_value(text: str) -> Any:
    """A ``--set`` value: read as a TOML value (``0.01``, ``true``, ``["accuracy"]``, ``{ name = "sgd" }``),
    else taken as a plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return text


def apply_overrides(preset: Preset, overrides: dict, label: str = "--set") -> Preset:
    """A new validated preset with ``{"training.optimizer.learning_rate": 0.01, ...}`` applied.

    Keys are paths like ``model.layers[0].units``; a table value replaces the whole table. Errors about an
    overridden value are blamed on ``label`` (e.g. ``--set training.epochs: must be ...``).
    """
    ops = []
    for key, value in overrides.items():
        path = key if isinstance(key, tuple) else parse_path(key, None, ())
        ops.append((path, value, label))
    return apply_ops(preset.to_dict(), ops, preset.context, preset.overrides)
