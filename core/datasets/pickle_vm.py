"""The opcode machine behind ``pickle_data.read_pickle``: a pickle interpreter that only knows data.

``pickletools.genops`` parses the stream (it executes nothing); ``PickleMachine`` keeps the unpickler's stack,
marks and memo for a whitelist of opcodes, and emulates the four numpy globals a data pickle needs with its
own code: REDUCE makes a placeholder (``_Stub``), BUILD fills it from the state with ``np.frombuffer`` or an
object array. Anything else raises ``Refused``; an inconsistent stream raises ``Damaged``.
"""
from __future__ import annotations

import math
import pickletools
import re

import numpy as np

MAX_DEPTH = 100  #: lists in lists (in dicts, ...) nested deeper than this are refused

_RECONSTRUCT, _NDARRAY, _DTYPE = "ndarray._reconstruct", "numpy.ndarray", "numpy.dtype"
#: The only globals a data pickle may name, and what this reader makes of them (its own emulation).
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,   # numpy < 2 spelling
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # numpy >= 2 spelling
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTYPE,
}
_DTYPE_CODE = re.compile(r"(b1|[iu][1248]|f(2|4|8|12|16)|c(8|16|24|32)|[SU]\d+|O[48])")
_CONTAINERS = (list, dict, tuple)
_SCALARS = frozenset({int, float, bool, str, bytes, type(None)})
_PY2_STRINGS = {"STRING", "BINSTRING", "SHORT_BINSTRING"}
_PLAIN = {"BININT1", "BININT2", "BININT", "INT", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",  # parsed by genops
          "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8"}


class Refused(Exception):
    """Internal: the stream asks for something outside the whitelist (the caller turns it into an NnplayError)."""


class Damaged(Exception):
    """Internal: the stream is not a consistent pickle."""


class _Global:
    """A whitelisted global, as a token; only REDUCE gives it meaning."""

    __slots__ = ("kind",)

    def __init__(self, kind: str):
        self.kind = kind


class _Stub:
    """An array or dtype under construction: REDUCE creates it, BUILD completes it (``value``)."""

    __slots__ = ("kind", "value")

    def __init__(self, kind: str, value=None):
        self.kind, self.value = kind, value


class _ArgTuple(tuple):
    """A tuple holding a global token: fine as REDUCE arguments, never as data."""


def _make_dtype(args) -> _Stub:
    if len(args) != 3 or not isinstance(args[0], (str, bytes)):
        raise Refused(f"numpy.dtype{args!r}")
    code = args[0].decode("latin-1") if isinstance(args[0], bytes) else args[0]
    if not _DTYPE_CODE.fullmatch(code):
        raise Refused(f"dtype {code!r}")
    return _Stub(_DTYPE, np.dtype(object) if code[0] == "O" else np.dtype(code))


def _build_dtype(stub: _Stub, state) -> None:
    """Apply a dtype state: ``(version, byteorder, subarray, names, fields, elsize, alignment, flags[, meta])``
    since numpy 1.0; the shorter forms numpy's ``__setstate__`` still reads are accepted too."""
    if not isinstance(state, tuple) or not 5 <= len(state) <= 9:
        raise Damaged("a dtype state that is not a 5- to 9-tuple")
    if len(state) >= 7:    # version 2-4
        order, extra, size = state[1], state[2:5], state[5]
    elif len(state) == 6:  # version 1: no names
        order, extra, size = state[1], state[2:4], state[4]
    else:                  # version 0: no version number either
        order, extra, size = state[0], state[1:3], state[3]
    if any(s is not None for s in extra):
        raise Refused("a structured or sub-array dtype")
    order = order.decode("latin-1") if isinstance(order, bytes) else order
    dt = stub.value
    if order not in ("|", "<", ">", "="):
        raise Damaged(f"dtype byte order {order!r}")
    if dt.kind in "SU" and isinstance(size, int) and size > 0:  # flexible types carry their size in the state
        dt = np.dtype(f"S{size}") if dt.kind == "S" else np.dtype(f"U{size // 4}")
    if order in "<>" and dt.itemsize > 1 and dt.kind != "O":
        dt = dt.newbyteorder(order)
    stub.value = dt


def _build_array(stub: _Stub, state, depth: dict) -> None:
    """Apply an ndarray state ``([version,] shape, dtype, is_fortran, data)``."""
    if not isinstance(state, tuple) or len(state) not in (4, 5):
        raise Damaged("an ndarray state that is not a 4- or 5-tuple")
    shape, dt, fortran, data = state[-4:]
    if not (isinstance(shape, tuple) and all(type(d) is int and d >= 0 for d in shape)) \
            or not isinstance(dt, np.dtype):
        raise Damaged("an ndarray state without a shape and a dtype")
    n = math.prod(shape)
    order = "F" if fortran else "C"
    if dt.kind == "O":
        if not isinstance(data, list) or len(data) != n:
            raise Damaged(f"an object array of shape {shape} without {n} items")
        out = np.empty(n, dtype=object)
        for i, v in enumerate(data):  # item by item: np.array would turn equal-length lists into more axes
            out[i] = v
        out = out.reshape(shape)  # numpy lists the items in C order, whatever the memory layout
        depth[id(out)] = (_depth(data, depth), out)
        stub.value = out
        return
    if isinstance(data, str):  # a Python 2 str read with a text encoding: numpy takes it as latin-1 bytes
        data = data.encode("latin-1")
    if not isinstance(data, (bytes, bytearray)) or len(data) != n * dt.itemsize:
        raise Damaged(f"an array of shape {shape} and dtype {dt} whose data is not {n * dt.itemsize} bytes")
    stub.value = np.frombuffer(data, dtype=dt, count=n).reshape(shape, order=order).copy(order="K")


def _depth(v, depth: dict) -> int:
    if isinstance(v, _CONTAINERS) or type(v) is np.ndarray:
        return depth.get(id(v), (1,))[0]
    return 0


class PickleMachine:
    """The unpickler's stack, mark stack and memo, for whitelisted opcodes only."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self.stack: list = []
        self.marks: list = []
        self.memo: dict = {}
        self.depth: dict = {}    # id -> (depth, object): only containers holding containers; keeps them alive
        self.sealed: dict = {}   # id -> object: containers already inside another one (complete by now)

    # values leaving the stack for a container pass through here
    def take(self, items, into=None) -> list:
        out = None
        for i, v in enumerate(items):
            t = type(v)
            if t in _SCALARS:
                continue
            if t is _Stub:
                if v.value is None:
                    raise Refused("an array used before it was built")
                if out is None:
                    out = list(items)
                out[i] = v = v.value
            elif t is _Global or t is _ArgTuple:
                raise Refused("a numpy class used as data")
            if isinstance(v, _CONTAINERS) or type(v) is np.ndarray:
                if v is into:
                    raise Refused("a container that holds itself")
                self.sealed[id(v)] = v
                if into is not None:
                    d = _depth(v, self.depth) + 1
                    if d > MAX_DEPTH:
                        raise Refused(f"containers nested more than {MAX_DEPTH} deep")
                    if d > _depth(into, self.depth):
                        self.depth[id(into)] = (d, into)
        return items if out is None else out

    def pop_mark(self) -> list:
        if not self.marks:
            raise Damaged("an opcode that needs a MARK without one")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def grow(self, container) -> None:
        if self.sealed.get(id(container)) is container:
            raise Refused("a container changed after it was stored in another one")

    def tuple_of(self, items) -> tuple:
        has_global = any(type(v) is _Global for v in items)
        t = tuple(self.take(items) if not has_global else
                  [v if type(v) is _Global else self.take([v])[0] for v in items])
        if has_global:
            return _ArgTuple(t)
        d = max((_depth(v, self.depth) for v in t), default=0) + 1
        if d > 1:
            if d > MAX_DEPTH:
                raise Refused(f"containers nested more than {MAX_DEPTH} deep")
            self.depth[id(t)] = (d, t)
        return t

    def reduce(self, func, args):
        if type(func) is not _Global or not isinstance(args, tuple):
            raise Refused("a call of something that is not a numpy array or dtype")
        if func.kind == _RECONSTRUCT:
            if len(args) != 3 or type(args[0]) is not _Global or args[0].kind != _NDARRAY:
                raise Refused("numpy _reconstruct of a class other than numpy.ndarray")
            return _Stub(_NDARRAY)
        if func.kind == _DTYPE:
            return _make_dtype(args)
        raise Refused("a call of numpy.ndarray itself")

    def build(self, obj, state) -> None:
        if type(obj) is not _Stub:
            raise Refused("BUILD (setting the state) of an object that is not a numpy array or dtype")
        if obj.value is not None and obj.kind == _NDARRAY:
            raise Damaged("an array built twice")
        if obj.kind == _DTYPE:
            _build_dtype(obj, state)
        else:
            _build_array(obj, state, self.depth)

    def run(self, stream) -> object:
        """Interpret the stream up to STOP; one branch per opcode, the frequent ones first."""
        memo = self.memo
        for op, arg, _pos in pickletools.genops(stream):
            name = op.name
            if name in _PLAIN:  # numbers, str and bytes: genops has parsed them already
                self.stack.append(arg)
            elif name == "APPENDS":
                items = self.pop_mark()
                target = self._top()
                if not isinstance(target, list):
                    raise Refused("APPENDS to something that is not a list")
                self.grow(target)
                target.extend(self.take(items, target))
            elif name == "MARK":
                self.marks.append(self.stack)
                self.stack = []
            elif name == "EMPTY_LIST":
                self.stack.append([])
            elif name == "MEMOIZE":
                memo[len(memo)] = self._top()
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = self._top()
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                if arg not in memo:
                    raise Damaged(f"a memo reference {arg} to nothing")
                self.stack.append(memo[arg])
            elif name in _PY2_STRINGS:
                raw = arg.encode("latin-1")  # genops decodes Python 2 strings as latin-1: undo it
                self.stack.append(raw if self.encoding == "bytes" else raw.decode(self.encoding))
            elif name == "APPEND":
                v = self._pop()
                target = self._top()
                if not isinstance(target, list):
                    raise Refused("APPEND to something that is not a list")
                self.grow(target)
                target.append(self.take([v], target)[0])
            elif name in ("SETITEM", "SETITEMS"):
                items = [self._pop(), self._pop()][::-1] if name == "SETITEM" else self.pop_mark()
                target = self._top()
                if not isinstance(target, dict) or len(items) % 2:
                    raise Damaged("SETITEM(S) without a dict and key/value pairs")
                self.grow(target)
                items = self.take(items, target)
                for k in range(0, len(items), 2):
                    target[items[k]] = items[k + 1]
            elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
                self.stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            elif name in ("BYTEARRAY8",):
                self.stack.append(bytearray(arg))
            elif name in ("EMPTY_TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "TUPLE"):
                if name == "TUPLE":
                    items = self.pop_mark()
                else:
                    k = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}[name]
                    if len(self.stack) < k:
                        raise Damaged(f"{name} with fewer than {k} items")
                    items = self.stack[len(self.stack) - k:]
                    del self.stack[len(self.stack) - k:]
                self.stack.append(self.tuple_of(items))
            elif name in ("EMPTY_DICT", "DICT", "LIST"):
                if name == "EMPTY_DICT":
                    self.stack.append({})
                    continue
                items = self.pop_mark()
                new = [] if name == "LIST" else {}
                items = self.take(items, new)
                if name == "LIST":
                    new.extend(items)
                else:
                    if len(items) % 2:
                        raise Damaged("DICT with an odd number of items")
                    for k in range(0, len(items), 2):
                        new[items[k]] = items[k + 1]
                self.stack.append(new)
            elif name in ("GLOBAL", "STACK_GLOBAL"):
                if name == "GLOBAL":
                    module, _, attr = arg.partition(" ")
                else:
                    attr, module = self._pop(), self._pop()
                kind = ALLOWED_GLOBALS.get((module, attr)) if isinstance(module, str) and isinstance(attr, str) \
                    else None
                if kind is None:
                    raise Refused(f"it names {module}.{attr}")
                self.stack.append(_Global(kind))
            elif name == "REDUCE":
                args = self._pop()
                self.stack.append(self.reduce(self._pop(), args))
            elif name == "BUILD":
                state = self._pop()
                self.build(self._top(), self.take([state])[0] if type(state) is not _ArgTuple else state)
            elif name in ("PROTO", "FRAME"):
                if name == "PROTO" and arg > 5:
                    raise Damaged(f"pickle protocol {arg}")
            elif name == "POP":
                if self.stack:
                    self.stack.pop()
                else:
                    self.pop_mark()
            elif name == "POP_MARK":
                self.pop_mark()
            elif name == "DUP":
                self.stack.append(self._top())
            elif name == "STOP":
                result = self.take([self._pop()])[0]
                return result
            else:  # INST, OBJ, NEWOBJ(_EX), EXT1/2/4, PERSID, BINPERSID, sets, out-of-band buffers
                raise Refused(f"it uses the {name} opcode")
        raise Damaged("no STOP opcode")  # genops raises first; kept for clarity

    def _pop(self):
        if not self.stack:
            raise Damaged("an opcode that pops from an empty stack")
        return self.stack.pop()

    def _top(self):
        if not self.stack:
            raise Damaged("an opcode that needs a value on an empty stack")
        return self.stack[-1]
