"""Read the data out of pickle files without unpickling them: Keras' CIFAR batches and IMDB's object arrays.

``pickle.load`` runs whatever the file names (``os.system`` through GLOBAL + REDUCE is one line). This reader
never does: ``pickletools.genops`` only parses the opcode stream, and the machine in pickle_vm.py interprets a
whitelisted subset — numbers, strings, bytes, lists, tuples, dicts, memo references — plus numpy arrays and
dtypes, which it rebuilds itself with ``np.frombuffer`` / object arrays. Any other global, class or opcode
stops the read with one NnplayError. Files are bounded in size and the result in nesting depth.

    data = read_pickle("cifar-10-batches-py/data_batch_1", "cifar10", encoding="bytes")
    arrays = load_npz_safely("imdb.npz", "imdb")          # like np.load, object members included
"""
from __future__ import annotations

import io
import os
import stat
import zipfile

import numpy as np

from ..errors import NnplayError
from ..safety import open_regular
from .pickle_vm import Damaged, PickleMachine, Refused

MAX_FILE_BYTES = 1 << 30  #: refuse bigger files (the largest Keras dataset file, CIFAR-100 train, is 150 MB)


# --------------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------------
def check_regular_file(path, what: str) -> bool:
    """True when ``path`` is a regular file; False when nothing is there; NnplayError for folders, FIFOs, ...
    and for files above MAX_FILE_BYTES."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise NnplayError(f"{what}: cannot look at {os.fspath(path)!r} ({exc.strerror or exc}); "
                          "check its permissions") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise NnplayError(f"{what}: {os.fspath(path)!r} is {kind}; put the data file itself there")
    if st.st_size > MAX_FILE_BYTES:
        raise NnplayError(f"{what}: {os.fspath(path)!r} is {st.st_size / 2**30:.1f} GiB, more than the "
                          f"{MAX_FILE_BYTES // 2**30} GiB nnplay reads; it is not the Keras file")
    return True


def read_file_bytes(path, what: str) -> bytes:
    """The bytes of a regular file (checked first, so a FIFO never blocks the open)."""
    if not check_regular_file(path, what):
        raise NnplayError(f"{what}: {os.fspath(path)!r} does not exist")
    try:
        # opened without blocking and checked again: a pipe put there after the check must not hang the open
        with open_regular(path, f"{what}: {os.fspath(path)!r}") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise NnplayError(f"{what}: cannot read {os.fspath(path)!r} ({exc.strerror or exc}); "
                          "check its permissions") from None
    if len(data) > MAX_FILE_BYTES:
        raise NnplayError(f"{what}: {os.fspath(path)!r} grew past {MAX_FILE_BYTES // 2**30} GiB while being read")
    return data


def read_pickle(source, what: str, encoding: str = "ASCII"):
    """The data in a pickle, read without unpickling (see the module docstring for what is accepted).

    Args:
        source: a path, the pickle's bytes, or a binary file object positioned at the pickle.
        what: the dataset, e.g. ``"cifar10"``, in error messages (a path source is added to it); for bytes or
            a file object, name the source too: ``"imdb: 'imdb.npz' (member x_train.npy)"``.
        encoding: how Python 2 strings are read, as in ``pickle.load``: ``"bytes"`` keeps them bytes.

    Returns:
        The object: nested lists, tuples, dicts, numbers, str/bytes and numpy arrays.

    Raises:
        NnplayError: the file names anything else (nothing is executed), or is damaged, too big or too deep.
    """
    if isinstance(source, (str, os.PathLike)):
        data = read_file_bytes(source, what)
        what, source = f"{what}: {os.fspath(source)!r}", data
    if isinstance(source, (bytes, bytearray)):
        if len(source) > MAX_FILE_BYTES:
            raise NnplayError(f"{what}: the pickle is more than {MAX_FILE_BYTES // 2**30} GiB; nnplay refuses it")
        source = io.BytesIO(source)
    try:
        return PickleMachine(encoding).run(source)
    except Refused as exc:
        raise NnplayError(f"{what} is not a plain data pickle; nnplay reads only arrays, lists, numbers and "
                          f"strings from it ({exc}); nothing in it was run") from None
    except NnplayError:
        raise
    except (Damaged, ValueError, TypeError, KeyError, IndexError, OverflowError, MemoryError) as exc:
        raise NnplayError(f"{what} is damaged or not a pickle ({exc}); download the file again") from None


# --------------------------------------------------------------------------------------------------
# .npz archives whose members may be object arrays (IMDB)
# --------------------------------------------------------------------------------------------------
def _read_npy(raw: bytes, what: str, allow_objects: bool) -> np.ndarray:
    fp = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fp)
        if version[0] == 1:
            _shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        elif version[0] in (2, 3):  # 3.0 only differs from 2.0 by a UTF-8 header text; the layout is the same
            _shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"unsupported .npy version {version}")
        if not dtype.hasobject:
            fp.seek(0)
            return np.lib.format.read_array(fp, allow_pickle=False)
    except NnplayError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise NnplayError(f"{what} is not a readable .npy array ({exc}); download the file again") from None
    if not allow_objects:
        raise NnplayError(f"{what} holds an object array, which this file never has; download the file again")
    arr = read_pickle(fp, what)
    if not isinstance(arr, np.ndarray):
        raise NnplayError(f"{what} is not a plain data pickle; nnplay reads only arrays, lists, numbers and "
                          f"strings from it (it holds a {type(arr).__name__}, not an array)")
    return arr


def load_npz_safely(path, what: str, keys=None, allow_objects: bool = True) -> dict[str, np.ndarray]:
    """The ``*.npy`` members of an .npz archive, keyed by name without ``.npy`` (like Keras' ``load_npz``).

    Args:
        path: the .npz file.
        what: the dataset, for error messages.
        keys: read only these members (all of them must be there); None reads every member.
        allow_objects: object members (ragged sequences) are read through ``read_pickle``; False refuses
            them, as ``np.load(allow_pickle=False)`` does. Numeric members never touch pickle.
    """
    data = read_file_bytes(path, what)
    where = f"{what}: {os.fspath(path)!r}"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".npy")]
            if keys is not None:
                names = {m.filename[:-len(".npy")]: m for m in members}
                lacking = [k for k in keys if k not in names]
                if lacking:
                    raise NnplayError(f"{where} has no array {lacking[0]!r} (it holds: "
                                      f"{', '.join(sorted(names)) or 'nothing'}); it is not the Keras file, "
                                      "download it again")
                members = [names[k] for k in keys]
            if sum(m.file_size for m in members) > MAX_FILE_BYTES:
                raise NnplayError(f"{where} unpacks to more than {MAX_FILE_BYTES // 2**30} GiB; "
                                  "it is not the Keras file")
            out = {}
            for m in members:
                with archive.open(m) as raw:
                    blob = raw.read(MAX_FILE_BYTES + 1)
                out[m.filename[:-len(".npy")]] = _read_npy(blob, f"{where} (member {m.filename})", allow_objects)
            return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise NnplayError(f"{where} is not a readable .npz (zip) archive ({exc}); download the file again") \
            from None
