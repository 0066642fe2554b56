"""The ``--out`` folder of ``nnplay run``: checked before training, locked while the run lasts, and written
all at once at the end, so the folder always holds one run's complete results (or what it held before).

* Before anything trains, :meth:`OutDir.prepare` refuses a folder the results cannot go to: a file in its
  place, a folder where a result file goes (``model.npz/``), a variant named like a result file, no write
  permission, too little free space, or another ``nnplay run`` writing there (an advisory lock,
  ``.nnplay-run.lock``, held for the whole run and removed at the end).
* During the run, results are only collected (:meth:`OutDir.stage`).
* :meth:`OutDir.publish` writes every file to a hidden temp file beside its place (complete and synced),
  then, with stopping signals held, removes what an earlier run left that this one does not replace and
  renames the new files into place. A failure before the renames leaves the folder as it was and no temp
  file.
"""
from __future__ import annotations

import errno
import os
import shutil

from ..errors import NnplayError
from ..fileio import write_error, write_temp
from ..safety import human_bytes
from . import signals

#: What one run writes into its folder (a run with variants: preset.toml and metrics.json, and these four
#: in one folder per variant).
RUN_FILES = ("preset.toml", "history.csv", "metrics.json", "model.npz")
LOCK_NAME = ".nnplay-run.lock"


class OutDir:
    """One run's ``--out`` folder. ``labels`` are the runs' variant names (``[None]`` for a plain run)."""

    def __init__(self, path: str, labels: list):
        self.path = os.fspath(path)
        self.labels = [label for label in labels if label]
        self.staged: dict[str, bytes] = {}
        self._lock_fd: int | None = None
        self._created = False

    # ------------------------------------------------------------------ before training
    def planned(self) -> list[str]:
        """The files this run writes, relative to the folder."""
        if not self.labels:
            return list(RUN_FILES)
        return ["preset.toml", "metrics.json", *(os.path.join(v, f) for v in self.labels for f in RUN_FILES)]

    def prepare(self, size_hint: int = 0) -> None:
        """Check the folder (creating it when missing) and lock it; one NnplayError line for any problem."""
        where = f"--out {self.path!r}"
        if os.path.lexists(self.path) and not os.path.isdir(self.path):
            raise NnplayError(f"{where} is a file; give a folder (it is created when missing)")
        for label in self.labels:
            if label in RUN_FILES or label.startswith(".") or os.sep in label or (os.altsep and os.altsep in label):
                raise NnplayError(f"{where}: the variant {label!r} cannot be a folder beside the run's own files "
                                  f"({', '.join(RUN_FILES)}); rename the variant")
            folder = os.path.join(self.path, label)
            if os.path.lexists(folder) and not os.path.isdir(folder):
                raise NnplayError(f"{where}: {label} is a file, but the variant {label!r} writes its results in a "
                                  "folder of that name; move the file away or choose another folder")
        for rel in self.planned():
            target = os.path.join(self.path, rel)
            if os.path.exists(target) and not os.path.isfile(target):
                kind = "a folder" if os.path.isdir(target) else "not a regular file"
                raise NnplayError(f"{where}: {rel} is {kind}, and the run writes its {os.path.basename(rel)} there; "
                                  "move it away or choose another folder")
        try:
            if not os.path.isdir(self.path):
                os.makedirs(self.path)
                self._created = True
        except OSError as exc:
            raise NnplayError(f"{where} cannot be created ({exc.strerror or exc}); choose a folder you can write "
                              "to") from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            self._remove_if_created()
            raise NnplayError(f"{where} is not writable; choose a folder you can write to")
        try:
            free = shutil.disk_usage(self.path).free
        except OSError:
            free = None
        if free is not None and size_hint > free:
            self._remove_if_created()
            raise NnplayError(f"{where} has {human_bytes(free)} free, but the run's results need about "
                              f"{human_bytes(size_hint)}; free some space or choose another folder")
        self._lock(where)

    def _lock(self, where: str) -> None:
        try:
            import fcntl
        except ImportError:                # pragma: no cover - not POSIX: no lock
            return
        path = os.path.join(self.path, LOCK_NAME)
        for _attempt in range(5):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            except OSError as exc:
                self._remove_if_created()
                raise NnplayError(f"{where} cannot be locked ({exc.strerror or exc}); choose a folder you can "
                                  "write to") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_pid(fd)
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return                     # a file system without locks: go on unlocked
                raise NnplayError(f"{where} is being written by another nnplay run"
                                  f"{f' (process {holder})' if holder else ''}; wait for it to finish or choose "
                                  "another folder") from None
            # the run that held the lock may have removed its file meanwhile: the lock must be on the file there
            try:
                current = os.stat(path).st_ino == os.fstat(fd).st_ino
            except OSError:
                current = False
            if current:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
                self._lock_fd = fd
                return
            os.close(fd)
        raise NnplayError(f"{where} is being written by other nnplay runs; wait for them or choose another folder")

    # ------------------------------------------------------------------ after training
    def stage(self, rel: str, data: bytes | str) -> None:
        """Keep a result file's content until :meth:`publish`."""
        self.staged[rel] = data.encode("utf-8") if isinstance(data, str) else data

    def publish(self) -> None:
        """Write every staged file, then put them all in place at once (see the module docstring)."""
        temps: list[tuple[str, str]] = []
        try:
            try:
                for rel, data in self.staged.items():
                    dest = os.path.join(self.path, rel)
                    with signals.held():        # a stop raises only once the temp file is on the list
                        temps.append((os.fspath(write_temp(dest, data)), dest))
            except NnplayError as exc:
                raise NnplayError(f"the results were not saved in --out {self.path!r} (nothing there changed): "
                                  f"{exc}") from None
            with signals.held():
                self._remove_stale()
                while temps:
                    tmp, dest = temps[0]
                    try:
                        os.replace(tmp, dest)
                    except OSError as exc:
                        raise write_error(dest, exc) from None
                    temps.pop(0)
        finally:
            for tmp, _dest in temps:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        self.staged.clear()

    def _remove_stale(self) -> None:
        """Remove an earlier run's results that this run does not replace (another run's variants, a plain
        run's model beside this run's variants), so the folder holds one run."""
        mine = set(self.staged)
        # the variants this run finished (a stopped run skips the rest: their old folders go too)
        labels = {rel.split(os.sep, 1)[0] for rel in mine if os.sep in rel}
        for name in RUN_FILES:
            path = os.path.join(self.path, name)
            if name not in mine and os.path.isfile(path) and not os.path.islink(path):
                _unlink(path)
        try:
            entries = list(os.scandir(self.path))
        except OSError:
            return
        for entry in entries:
            if entry.name in labels or entry.name.startswith(".") or not entry.is_dir(follow_symlinks=False):
                continue
            try:
                inside = os.listdir(entry.path)
            except OSError:
                continue
            # only a folder nnplay wrote (its run files and nothing else) is an earlier run's variant
            if inside and "metrics.json" in inside and set(inside) <= set(RUN_FILES):
                for name in inside:
                    _unlink(os.path.join(entry.path, name))
                try:
                    os.rmdir(entry.path)
                except OSError:
                    pass

    # ------------------------------------------------------------------ the end
    def release(self) -> None:
        """Drop the lock (and the folder, when this run created it and wrote nothing)."""
        if self._lock_fd is not None:
            _unlink(os.path.join(self.path, LOCK_NAME))   # before closing: a waiting run then re-checks the file
            os.close(self._lock_fd)
            self._lock_fd = None
        self._remove_if_created()

    def _remove_if_created(self) -> None:
        if self._created:
            try:
                os.rmdir(self.path)          # only when empty
                self._created = False
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        return False


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except (OSError, AttributeError):
        return ""
    return text if text.isdigit() else ""
