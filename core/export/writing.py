"""Writing an export into its folder: everything is ready in memory first, then each file is written
atomically. A folder that holds anything but an earlier export for the same framework is refused."""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import NnplayError
from ..fileio import atomic_write_bytes
from .common import MARKER, SCRIPT_NAMES

#: Every file an export may write (data.npz only when the data is small enough).
EXPORT_FILES = ("model_keras.py", "model_pytorch.py", "weights.npz", "check.npz", "data.npz", "preset.toml")


def check_folder(out_dir: Path, to: str) -> None:
    """Raise unless ``out_dir`` is missing, empty, or an earlier export for the same framework."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NnplayError(f"{out_dir} is a file; give --out a folder to write the export into")
    if not out_dir.is_dir():
        return
    entries = [e for e in os.listdir(out_dir) if e != "__pycache__"]
    if not entries:
        return
    script = out_dir / SCRIPT_NAMES[to]
    ours = script.is_file() and MARKER.format(to=to) in script.read_text(encoding="utf-8", errors="replace")[:4000]
    others = sorted(set(entries) - set(EXPORT_FILES) - {SCRIPT_NAMES[to]})
    if not ours or others or any(SCRIPT_NAMES[t] in entries for t in SCRIPT_NAMES if t != to):
        raise NnplayError(f"{out_dir} is not empty and is not an earlier `nnplay export --to {to}`; choose another "
                          f"--out folder, or empty this one")


def write_files(out_dir: Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``files`` (name -> bytes) into ``out_dir``, each atomically, the script last; an old data.npz
    that this export does not replace is removed (it would not match)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(files, key=lambda n: n.endswith(".py")):
        written.append(atomic_write_bytes(out_dir / name, files[name]))
    stale = out_dir / "data.npz"
    if "data.npz" not in files and stale.is_file():
        stale.unlink()
    return written
