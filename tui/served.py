"""The playground served to a browser (``nnplay serve``): one app process per connection, each in a work
folder of its own, with bounded memory and time.

Served, the playground reads and writes only inside its session folder (shipped presets and share strings
open as always; paths are resolved inside the folder and refused when they lead out of it), opens no shell,
runs under an address-space limit (so the engine's memory check refuses models that would not fit) and
closes itself after its time is up. The folder is removed when the session ends; a saved preset is also
handed to the browser as a download.
"""
from __future__ import annotations

import os
import resource
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nnplay.core.errors import NnplayError


@dataclass
class ServedSession:
    """One browser connection's limits and folder (made by :meth:`enter`)."""

    root: str                        #: where the sessions' folders are made
    minutes: float = 60.0            #: the session closes after this long
    memory_mb: int = 4096            #: address-space limit of the session's process
    folder: str = ""

    def enter(self) -> None:
        """Make the session folder, work in it, and cap the process's memory."""
        os.makedirs(self.root, exist_ok=True)
        self.folder = os.path.realpath(tempfile.mkdtemp(prefix="session-", dir=self.root))
        os.chdir(self.folder)
        os.environ["NNPLAY_COMPILE_AHEAD"] = "0"     # one process per connection: no compile helper
        limit = int(self.memory_mb) * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def leave(self) -> None:
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def path(self, text: str) -> str:
        """``text`` as a path inside the session folder; one clear error for anything that leads out."""
        p = Path(str(text).strip())
        if not str(p) or p.is_absolute() or ".." in p.parts or str(text).strip().startswith("~"):
            raise NnplayError(f"{text!r}: this served playground reads and writes only in its own folder; give a "
                              f"plain file name such as spiral.toml")
        full = Path(os.path.realpath(os.path.join(self.folder, p)))
        if full != Path(self.folder) and Path(self.folder) not in full.parents:
            raise NnplayError(f"{text!r} leads out of this session's folder; give a plain file name")
        return str(full)

    def describe(self) -> str:
        return (f"served session: files stay in its own folder (removed when it ends), memory up to "
                f"{self.memory_mb} MB, closes after {self.minutes:g} minutes")
