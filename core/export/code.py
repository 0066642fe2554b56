"""Small helpers for writing Python source: literals, identifiers, argument lists, line wrapping."""
from __future__ import annotations

import keyword
import math
import re
import textwrap

import numpy as np

from ..errors import NnplayError


def py(value) -> str:
    """``value`` as Python source: strings in double quotes, lists and tuples as tuples, floats as written."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if value is None:
        return "None"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, (list, tuple)):
        items = [py(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in value.items()) + "}"
    raise NnplayError(f"nnplay export cannot write the value {value!r} as Python source")


def call(func: str, positional=(), keywords: dict | None = None) -> str:
    """``func(a, b, key=value)``; values that are already source are passed as :class:`Src`."""
    parts = [_arg(v) for v in positional]
    parts += [f"{k}={_arg(v)}" for k, v in (keywords or {}).items()]
    return f"{func}({', '.join(parts)})"


class Src(str):
    """A string that is already Python source (not to be quoted again)."""


def _arg(value) -> str:
    return str(value) if isinstance(value, Src) else py(value)


def same_or_pair(value):
    """``(3, 3)`` -> 3, as Keras code writes a square kernel; other tuples stay tuples."""
    if isinstance(value, (list, tuple)):
        value = tuple(int(v) for v in value)
        if len(set(value)) == 1:
            return value[0]
    return value


#: Names a layer attribute must not take in a generated ``nn.Module`` (or a script's top level).
RESERVED = {"training", "forward", "losses", "penalty", "train", "eval", "x", "self", "model", "np", "torch", "nn",
            "F", "keras", "layers", "math", "sys", "argparse", "Path", "HERE", "main", "inputs", "outputs"}


def identifier(name: str, taken: set[str]) -> str:
    """A Python identifier close to a layer name (``conv2d_1`` stays; ``my-layer`` -> ``my_layer``), unique
    among ``taken`` (which it joins)."""
    base = re.sub(r"\W", "_", str(name)) or "layer"
    if base[0].isdigit():
        base = "layer_" + base
    if keyword.iskeyword(base) or base in RESERVED:
        base += "_"
    ident, n = base, 1
    while ident in taken:
        ident = f"{base}_{n}"
        n += 1
    taken.add(ident)
    return ident


def class_name(name: str) -> str:
    """``cnn-font-digits`` -> ``CnnFontDigits`` (a class name for a model)."""
    words = [w for w in re.split(r"[^0-9A-Za-z]+", str(name)) if w]
    text = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    return "Model" + text if text[0].isdigit() else text


def indent(lines: list[str], spaces: int = 4) -> list[str]:
    pad = " " * spaces
    return [pad + line if line else line for line in lines]


def comment(text: str) -> str:
    """A one-line ``# ...`` comment (newlines folded)."""
    return "# " + " ".join(str(text).split())


def wrapped_call(head: str, args: list[str], spaces: int = 4, width: int = 110) -> list[str]:
    """``head(arg, arg, ...)`` on as many lines as it takes, continuation lines aligned after the bracket."""
    pad = " " * spaces
    lines, current = [], f"{pad}{head}("
    hang = " " * len(current)
    for i, arg in enumerate(args):
        piece = arg + (")" if i == len(args) - 1 else ",")
        if current.strip() and not current.endswith("(") and len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = hang + piece
        else:
            current += ("" if current.endswith("(") else " ") + piece
    lines.append(current if args else current + ")")
    return lines


def comment_lines(text: str, spaces: int = 0, width: int = 110) -> list[str]:
    """``# ...`` comment lines wrapped to ``width`` columns, indented by ``spaces``."""
    pad = " " * spaces
    return [pad + "# " + line for line in textwrap.wrap(" ".join(str(text).split()), width - spaces - 2)]


def with_comment(line: str, note: str | None, width: int = 110) -> list[str]:
    """``line  # note`` when it fits in ``width`` columns, else the comment on the line above."""
    if not note:
        return [line]
    joined = f"{line}  # {note}"
    if len(joined) <= width:
        return [joined]
    lead = line[:len(line) - len(line.lstrip())]
    return [lead + comment(note), line]


def docstring(text: str, spaces: int = 0, width: int = 110) -> list[str]:
    """A triple-quoted docstring, wrapped to ``width`` columns."""
    pad = " " * spaces
    body = textwrap.wrap(" ".join(str(text).replace('"""', "'''").split()), width - spaces - 3) or [""]
    if len(body) == 1 and len(body[0]) + spaces + 6 <= width:
        return [f'{pad}"""{body[0]}"""']
    return [f'{pad}"""{body[0]}'] + [pad + line for line in body[1:]] + [f'{pad}"""']
