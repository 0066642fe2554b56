"""TOML plumbing for presets: where each key sits in the file, and writing presets back.

``tomllib`` gives values but no positions, so :func:`key_lines` walks the (already valid) text once and
records the line of every key, table header and array element. Error messages then point at
``spiral.toml:12`` instead of just naming a field.

:func:`dumps` writes the preset layout people write by hand (``[[model.layers]]`` blocks, one table per
section, nested values inline); ``tomli_w`` formats the individual values.
"""
from __future__ import annotations

import json
import re
from typing import Any

import tomli_w

Path = tuple  # a key path such as ("model", "layers", 0, "units")

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def format_path(path: Path) -> str:
    """``("model", "layers", 1, "units")`` -> ``model.layers[1].units``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            part = str(part)
            part = part if _BARE.fullmatch(part) else json.dumps(part)
            out += part if not out else "." + part
    return out


# ------------------------------------------------------------------------------------------ key lines
class _Scanner:
    """A lenient recursive-descent walk over TOML text that records the line of every key path."""

    def __init__(self, text: str):
        self.s = text
        self.i = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.aot: dict[Path, int] = {}       # array-of-tables path -> index of its last element

    # -- low level
    def peek(self, k: int = 1) -> str:
        return self.s[self.i:self.i + k]

    def advance(self, k: int = 1) -> None:
        self.line += self.s.count("\n", self.i, self.i + k)
        self.i += k

    def skip_ws(self, newlines: bool = False) -> None:
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.advance()
            elif c == "#" and newlines:
                self.skip_line()
            else:
                break

    def skip_line(self) -> None:
        end = self.s.find("\n", self.i)
        self.advance((len(self.s) if end < 0 else end) - self.i)

    def skip_string(self) -> None:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                end = self.s.find(quote, self.i + 3)
                end = len(self.s) if end < 0 else end + 3
                while self.s[end:end + 1] == quote[0]:   # up to two quotes may close the content
                    end += 1
                self.advance(end - self.i)
                return
        quote = self.peek()
        j = self.i + 1
        while j < len(self.s) and self.s[j] not in (quote, "\n"):
            j += 2 if (quote == '"' and self.s[j] == "\\") else 1
        self.advance(min(j + 1, len(self.s)) - self.i)

    def read_key(self) -> list[str]:
        parts = []
        while self.i < len(self.s):
            self.skip_ws()
            c = self.peek()
            if c in "\"'":
                start = self.i
                self.skip_string()
                raw = self.s[start:self.i]
                try:
                    parts.append(json.loads(raw) if c == '"' else raw[1:-1])
                except ValueError:
                    parts.append(raw[1:-1])
            else:
                m = _BARE.match(self.s, self.i)
                if not m:
                    break
                parts.append(m.group())
                self.advance(m.end() - self.i)
            self.skip_ws()
            if self.peek() != ".":
                break
            self.advance()
        return parts

    # -- structure
    def resolve(self, parts: list[str]) -> Path:
        """Table-header key -> path, inserting the current index of every array of tables on the way."""
        path: Path = ()
        for part in parts:
            path += (part,)
            if path in self.aot:
                path += (self.aot[path],)
        return path

    def value(self, path: Path) -> None:
        self.skip_ws()
        c = self.peek()
        if c in "\"'":
            self.skip_string()
        elif c == "{":
            self.advance()
            while self.i < len(self.s):
                self.skip_ws(newlines=True)
                if self.peek() in ("}", ""):
                    self.advance()
                    return
                if self.peek() == ",":
                    self.advance()
                    continue
                line = self.line
                key = tuple(self.read_key())
                if not key:
                    self.advance()
                    continue
                self.lines.setdefault(path + key, line)
                self.skip_ws()
                if self.peek() == "=":
                    self.advance()
                self.value(path + key)
        elif c == "[":
            self.advance()
            index = 0
            while self.i < len(self.s):
                self.skip_ws(newlines=True)
                if self.peek() in ("]", ""):
                    self.advance()
                    return
                if self.peek() == ",":
                    self.advance()
                    index += 1
                    continue
                self.lines.setdefault(path + (index,), self.line)
                self.value(path + (index,))
        else:
            while self.i < len(self.s) and self.s[self.i] not in ",]}\n#":
                self.advance()

    def document(self) -> dict[Path, int]:
        table: Path = ()
        while self.i < len(self.s):
            self.skip_ws(newlines=True)
            if self.i >= len(self.s):
                break
            line = self.line
            if self.peek(2) == "[[":
                self.advance(2)
                parts = self.read_key()
                base = self.resolve(parts[:-1]) + (parts[-1],) if parts else ()
                index = self.aot.get(base, -1) + 1
                self.aot[base] = index
                table = base + (index,)
                self.lines.setdefault(base, line)
                self.lines[table] = line
                self.skip_line()
            elif self.peek() == "[":
                self.advance()
                table = self.resolve(self.read_key())
                self.lines.setdefault(table, line)
                self.skip_line()
            else:
                key = tuple(self.read_key())
                if not key:
                    self.skip_line()
                    continue
                self.lines.setdefault(table + key, line)
                self.skip_ws()
                if self.peek() == "=":
                    self.advance()
                self.value(table + key)
                self.skip_ws()
                if self.peek() == "#":
                    self.skip_line()
        return self.lines


def key_lines(text: str) -> dict[Path, int]:
    """Line (1-based) of every key path in a TOML document that ``tomllib`` accepted."""
    try:
        return _Scanner(text).document()
    except Exception:  # positions are a convenience: never let them hide the real error
        return {}


# ------------------------------------------------------------------------------------------ writing
def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else json.dumps(k, ensure_ascii=False)


def literal(value: Any) -> str:
    """One TOML value; tables and tables inside arrays are written inline."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(str(k))} = {literal(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}, multiline_strings=True)[4:].rstrip("\n")


def _table_lines(header: str | None, table: dict, subtables: tuple = ()) -> list[str]:
    out = [] if header is None else ["", header]
    for k, v in table.items():
        if k not in subtables and v is not None:
            out.append(f"{_key(k)} = {literal(v)}")
    return out


def _is_table_list(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _section(name: str, table: dict) -> list[str]:
    """``[name]`` with its values, then its lists of tables as ``[[name.key]]`` blocks (e.g. a GAN's
    discriminator layers); deeper tables stay inline."""
    lists = tuple(k for k, v in table.items() if _is_table_list(v))
    out = _table_lines(f"[{name}]", table, lists)
    for k in lists:
        for item in table[k]:
            out += _table_lines(f"[[{name}.{_key(k)}]]", item)
    return out


KNOWN_SECTIONS = ("data", "model", "training", "target", "variants")


def dumps(d: dict) -> str:
    """Write a preset dict (as :meth:`Preset.to_dict` returns it) in the hand-written layout."""
    extra = [k for k, v in d.items() if isinstance(v, dict) and k not in KNOWN_SECTIONS]
    top = {k: v for k, v in d.items() if k not in KNOWN_SECTIONS and k not in extra}
    out = _table_lines(None, top)
    if "data" in d:
        out += _table_lines("[data]", d["data"])
    if "model" in d:
        model = d["model"]
        rest = {k: v for k, v in model.items() if k != "layers"}
        out += _table_lines("[model]", rest)
        for layer in model.get("layers", []):
            out += _table_lines("[[model.layers]]", layer)
    if "training" in d:
        tr = d["training"]
        subs = tuple(k for k, v in tr.items() if isinstance(v, dict))
        out += _table_lines("[training]", tr, subs)
        for k in subs:
            out += _table_lines(f"[training.{_key(k)}]", tr[k])
    if d.get("target"):
        out += _table_lines("[target]", d["target"])
    for key in extra:          # tables of other kinds of presets (a GAN's [gan], an autoencoder's [anomaly])
        out += _section(_key(key), d[key])
    for variant in d.get("variants") or []:
        out += _table_lines("[[variants]]", variant, ("set",))
        if "set" in variant:
            out += _table_lines("[variants.set]", variant["set"])
    return "\n".join(out) + "\n"
