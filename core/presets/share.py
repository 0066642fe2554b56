"""Share strings: a whole preset as one line to paste in a chat, ``nnplay1:`` and a few hundred characters.

    s = share_string(load_preset("spiral"))          # 'nnplay1:...'
    p = preset_from_share_string(s)                   # == load_preset("spiral")
    load_preset(s)                                    # the same: nnplay run / tui / show accept the line

The ``nnplay1`` format (frozen: changing any step below is a new version, ``nnplay2:``):

1. The preset's :meth:`~.schema.Preset.to_dict` (the setup: a preset holds no weights), without the entries
   equal to :data:`DEFAULTS_V1` and :data:`TRAINING_DEFAULTS_V1` (version 1, an empty description, seed 0,
   32 per batch, ...). The decoder puts exactly these back, whatever defaults later nnplay versions choose.
2. Compact JSON, UTF-8, keys in ``to_dict`` order. Python writes the shortest repr that reads back to the same
   float, so every number returns bit for bit; non-finite floats are written ``NaN`` / ``Infinity`` (TOML's
   nan / inf). Only what a TOML file can hold goes in: tables, arrays, strings, booleans, 64-bit integers and
   floats (no null, no dates).
3. Raw deflate (RFC 1951), level 9, with the preset dictionary :data:`.share_dict.DICTIONARY_V1` (nnplay's key
   names and common values, and the descriptions of the presets shipped with format 1), so a shipped preset
   or a tweak of one is 50-200 characters; a new description of a few lines adds ~250.
4. The CRC-32 of ``b"nnplay1:" + deflated``, 4 bytes big-endian, appended. A CRC-32 catches every error
   burst up to 32 bits, so any one changed character is always detected (the decoder also refuses a last
   character whose unused low bits are set); longer damage slips through with odds of 1 in 4 billion.
5. base64url (RFC 4648 section 5) without ``=`` padding, after the prefix ``nnplay1:``.

Decoding is data only: JSON is read (never evaluated), inflating stops at :data:`MAX_JSON_BYTES` (a
decompression bomb is refused), the text length and nesting depth are bounded, and the result is validated
exactly like a preset file (the same :class:`~.schema.PresetError` messages, located at ``share string``).
What a chat program does to a pasted line is undone before the checksum is checked: whitespace and line
breaks anywhere (also zero-width and other invisible format characters), "> " before quoted lines, quotes,
brackets or backticks around the line, punctuation after it (``.``, ``,``, ``!`` ...), capitals in the prefix
(``Nnplay1:``), ``--`` turned into an en or em dash and ``-`` into a non-breaking hyphen. None of these
characters occur in base64url, so nothing of the string is lost and the checksum still decides. Anything else
(a ``.`` or ``=`` inside, a lost or changed character, ...) gets one line naming the problem and the fix.
"""
from __future__ import annotations

import base64
import codecs
import json
import re
import unicodedata
import zlib

from ..errors import NnplayError
from .schema import Context, Preset, PresetError
from .share_dict import DICTIONARY_V1
from .toml_io import Path, format_path
from .validate import validate

VERSION = 1
PREFIX = f"nnplay{VERSION}:"
#: Label of a decoded preset's errors: ``share string: training.epochs: must be ...``.
SOURCE = "share string"
#: The entries step 1 leaves out when equal (top level, then ``[training]``); the decoder puts them back.
DEFAULTS_V1 = {"version": 1, "description": "", "seed": 0}
TRAINING_DEFAULTS_V1 = {"metrics": [], "batch_size": 32, "shuffle": True, "validation": "test"}
#: Largest preset JSON a string may carry (shipped presets are 0.5-1.5 KiB); also the inflate limit.
MAX_JSON_BYTES = 64 * 1024
#: Longest base64 text that can hold MAX_JSON_BYTES (deflate adds at most 5 bytes per 16 KiB stored block).
MAX_CHARS = 4 * (MAX_JSON_BYTES + 64) // 3 + 4
MAX_DEPTH = 32
_CRC_BYTES = 4
_INT64 = (-2**63, 2**63 - 1)
_B64 = re.compile(r"[A-Za-z0-9_-]*")
_HEAD = re.compile(r"nnplay(\d*):", re.IGNORECASE)
_OPENERS = "\"'`<([{\u00ab\u2039\u201c\u2018\u201e"                          # quotes and brackets before the line
_CLOSERS = "\"'`>)]}\u00bb\u203a\u201d\u2019.,;:!?\u2026"                    # ... and after it, with punctuation
_DASHES = str.maketrans({"\u2013": "--", "\u2014": "--", "\u2011": "-"})    # "smart" dashes, unbreakable "-"
_QUOTED = re.compile(r"^[ \t]*(?:>[ \t]*)+", re.MULTILINE)                 # "> " before quoted lines
_CONTROL = re.compile(r"[\x00-\x1f]")                                     # json.dumps escapes these in text
_FIX = f"copy the whole line, starting at {PREFIX}"


class ShareStringError(PresetError):
    """A share string that cannot be read (damaged, cut short, another format): one line with the fix."""


# ------------------------------------------------------------------------------------------ encoding
def share_string(preset: Preset) -> str:
    """``preset`` as one ``nnplay1:`` line (setup only, no weights); :func:`preset_from_share_string` reads
    it back equal (``to_dict()`` and ``to_toml()``, description and variants included). Like
    :func:`~.files.save_preset`, it holds the values after any ``--set`` overrides, as plain settings.

    Raises:
        NnplayError: a value a share string cannot hold (e.g. a date), or a preset over 64 KiB of settings.
    """
    d = preset.to_dict()
    for key, default in DEFAULTS_V1.items():
        if _same(d.get(key), default):
            del d[key]
    for key, default in TRAINING_DEFAULTS_V1.items():
        if _same(d["training"].get(key), default):
            del d["training"][key]
    _check_encodable(d, ())
    try:
        data = json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NnplayError(f"cannot share preset {preset.name!r}: it holds text that is not valid Unicode "
                          f"({exc.object[exc.start:exc.end]!r}); fix that text and share again") from None
    if len(data) > MAX_JSON_BYTES:
        raise NnplayError(f"preset {preset.name!r} is too big for a share string ({len(data) // 1024} KiB of "
                          f"settings, at most {MAX_JSON_BYTES // 1024} KiB); send its .toml file instead")
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=DICTIONARY_V1)
    body = packer.compress(data) + packer.flush()
    return PREFIX + _b64encode(body + _crc(body))


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b     # 1.0 is not 1, and True is not 1: keep what the preset says


def _check_encodable(value, path: Path) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise NnplayError(f"cannot share {format_path(path + (str(k),))}: a preset's keys are text, "
                                  f"got {k!r}; write the key as text")
            _check_encodable(v, path + (k,))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_encodable(v, path + (i,))
    elif value is None:
        raise NnplayError(f"cannot share {format_path(path)}: it is empty (None), which a preset file cannot "
                          f"hold; give it a value or remove it")
    elif isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        raise NnplayError(f"cannot share {format_path(path)} = {value}: a preset file holds 64-bit integers only")
    elif not isinstance(value, (str, int, float)):
        raise NnplayError(f"cannot share {format_path(path)}: a {type(value).__name__} value does not fit a "
                          f"share string (numbers, text, true/false, lists and tables do); write it as text")


def _crc(body: bytes) -> bytes:
    return zlib.crc32(PREFIX.encode("ascii") + body).to_bytes(_CRC_BYTES, "big")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# ------------------------------------------------------------------------------------------ decoding
def is_share_string(text) -> bool:
    """Whether ``text`` is meant as a share string (``nnplay1:...``, or another version's, e.g. ``nnplay2:``):
    what :func:`~.files.load_preset` hands to :func:`preset_from_share_string` instead of looking for a file."""
    return isinstance(text, str) and _HEAD.match(_unwrap(text[:200])) is not None


def looks_like_payload(text: str) -> bool:
    """A share string's base64 part without its ``nnplay1:`` prefix, or after a mangled one (``nnplai1:...``):
    for a better message than "unknown preset"."""
    s = _visible(text[:MAX_CHARS + 1]).rpartition(":")[2].rstrip(_CLOSERS)
    return len(s) >= 24 and _B64.fullmatch(s) is not None and not s.islower()


def preset_from_share_string(text: str) -> Preset:
    """The validated preset a share string holds (what :func:`share_string` wrote).

    Raises:
        ShareStringError: the text is not a share string nnplay can read (one line naming the fix).
        PresetError: the string is intact but its preset is invalid, named like a file's mistakes
            (``share string: training.epochs: must be ...``).
    """
    return validate(share_data(text), Context(source=SOURCE))


def share_data(text: str) -> dict:
    """The preset dict (TOML schema, defaults put back) inside a share string, before validation."""
    if not isinstance(text, str):
        raise ShareStringError(f"a share string is text, got {type(text).__name__}; {_FIX}")
    if len(text) > 4 * MAX_CHARS:
        raise ShareStringError(f"this text is too long to be a share string ({len(text)} characters); {_FIX}")
    s = _unwrap(text)
    head = _HEAD.match(s)
    if head is None:
        shown = s[:16] + ("..." if len(s) > 16 else "")
        raise ShareStringError(f"not an nnplay share string ({shown!r} does not start with {PREFIX}); {_FIX}")
    version = int(head.group(1)) if head.group(1) else None
    if version is not None and version > VERSION:
        raise ShareStringError(f"this share string is for a newer nnplay (format nnplay{version}:, this one reads "
                               f"{PREFIX}); upgrade nnplay to open it")
    if version != VERSION:
        raise ShareStringError(f"unknown share string format {head.group(0)!r} (this nnplay reads {PREFIX}); {_FIX}")
    payload = s[head.end():].rstrip(_CLOSERS).translate(_DASHES)
    data, exact = _b64decode(payload)
    body, crc = data[:-_CRC_BYTES], data[-_CRC_BYTES:]
    if not exact or _crc(body) != crc:
        raise ShareStringError(f"the share string is {_what_went_wrong(data, _crc(body) == crc)}; {_FIX}")
    raw = _parse_json(_inflate(body))
    for key, default in DEFAULTS_V1.items():
        raw.setdefault(key, default)
    if isinstance(raw.get("training"), dict):
        for key, default in TRAINING_DEFAULTS_V1.items():
            raw["training"].setdefault(key, list(default) if isinstance(default, list) else default)
    return raw


def _visible(text: str) -> str:
    """``text`` without whitespace (line breaks included) and invisible format characters (zero-width space,
    soft hyphen, byte-order mark...) that chat programs insert when they wrap a long line."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def _unwrap(text: str) -> str:
    """The text from the prefix on: without what :func:`_visible` drops, the "> " an e-mail or markdown quote puts
    before every line, and quotes or brackets before the string."""
    return _visible(_QUOTED.sub("", text)).lstrip(_OPENERS)


def _b64decode(payload: str) -> tuple[bytes, bool]:
    """The bytes of a base64url text, and whether the text is exactly what nnplay writes for them."""
    if not payload:
        raise ShareStringError(f"the share string is empty after {PREFIX}; {_FIX}")
    if len(payload) > MAX_CHARS:
        raise ShareStringError(f"this text is too long to be a share string ({len(payload)} characters after "
                               f"{PREFIX}, nnplay writes at most {MAX_CHARS}); {_FIX}")
    bad = re.search(r"[^A-Za-z0-9_-]", payload)
    if bad:
        raise ShareStringError(f"the share string is damaged (unexpected character {bad.group()!r} at position "
                               f"{len(PREFIX) + bad.start() + 1}); {_FIX}")
    # A length of 4k+1 holds no whole byte in its last character, and set low bits in the last character
    # are never written: both are damage, diagnosed from the bytes the rest holds.
    usable = payload[:-1] if len(payload) % 4 == 1 else payload
    data = base64.urlsafe_b64decode(usable + "=" * (-len(usable) % 4))   # alphabet and length checked above
    if len(data) <= _CRC_BYTES:
        raise ShareStringError(f"the share string is cut short (only {len(payload)} characters after {PREFIX}); "
                               f"{_FIX}")
    return data, _b64encode(data) == payload


def _what_went_wrong(data: bytes, crc_ok: bool) -> str:
    """Why a string was refused. A string cut short still inflates cleanly, just without its end (or with
    less than the 4 checksum bytes after it); anything else is damage."""
    if crc_ok:
        return "damaged (its last character is wrong, or one too many)"
    unpacker = zlib.decompressobj(-15, zdict=DICTIONARY_V1)
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(unpacker.decompress(data, MAX_JSON_BYTES + 1))
    except (zlib.error, UnicodeDecodeError):
        return "damaged (checksum mismatch)"
    ended = not unpacker.unconsumed_tail and (not unpacker.eof or len(unpacker.unused_data) < _CRC_BYTES)
    if ended and text.startswith('{"') and not _CONTROL.search(text):     # the start of the JSON of step 2
        return "cut short (its end is missing)"
    return "damaged (checksum mismatch)"


def _inflate(body: bytes) -> bytes:
    """Inflate, stopping after MAX_JSON_BYTES: a few bytes that unpack to gigabytes are refused, not unpacked."""
    unpacker = zlib.decompressobj(-15, zdict=DICTIONARY_V1)
    try:
        data = unpacker.decompress(body, MAX_JSON_BYTES + 1)
    except zlib.error as exc:
        raise ShareStringError(f"the share string does not unpack ({exc}); it was not made by nnplay share: "
                               f"{_FIX}") from None
    if len(data) > MAX_JSON_BYTES or unpacker.unconsumed_tail:
        raise ShareStringError(f"the share string unpacks to more than {MAX_JSON_BYTES // 1024} KiB, more than "
                               f"any preset; it was not made by nnplay share: ask for the preset's .toml file")
    if not unpacker.eof or unpacker.unused_data:
        raise ShareStringError(f"the share string does not unpack cleanly (its data "
                               f"{'ends early' if not unpacker.eof else 'goes on after its end'}); {_FIX}")
    return data


def _parse_json(data: bytes) -> dict:
    def no_duplicates(pairs):
        out = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"key {key!r} appears twice")
            out[key] = value
        return out

    try:
        raw = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (ValueError, RecursionError) as exc:   # UnicodeDecodeError and JSONDecodeError are ValueErrors
        reason = "too deeply nested" if isinstance(exc, RecursionError) else str(exc).splitlines()[0][:80]
        raise ShareStringError(f"the share string does not hold preset settings ({reason}); it was not made by "
                               f"nnplay share: {_FIX}") from None
    if not isinstance(raw, dict):
        raise ShareStringError(f"the share string does not hold preset settings (a {type(raw).__name__}, not a "
                               f"table); it was not made by nnplay share: {_FIX}")
    _check_decoded(raw)
    return raw


def _check_decoded(raw: dict) -> None:
    """Only what a TOML preset file can hold: no null, 64-bit integers, valid Unicode, bounded nesting."""
    todo = [(raw, ())]
    while todo:
        value, path = todo.pop()
        if len(path) > MAX_DEPTH:
            problem = f"nested deeper than {MAX_DEPTH} levels"
        elif isinstance(value, dict):
            todo += [(v, path + (k,)) for k, v in value.items()]
            continue
        elif isinstance(value, list):
            todo += [(v, path + (i,)) for i, v in enumerate(value)]
            continue
        elif value is None:
            problem = "null, which a preset cannot hold"
        elif isinstance(value, (bool, float)):         # NaN and Infinity too: TOML's nan and inf
            continue
        elif isinstance(value, int):
            if _INT64[0] <= value <= _INT64[1]:
                continue
            problem = "an integer beyond 64 bits"
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
                continue
            except UnicodeEncodeError:
                problem = "text that is not valid Unicode"
        else:  # pragma: no cover - JSON has no other types
            problem = f"a {type(value).__name__}"
        raise ShareStringError(f"the share string is not a preset ({format_path(path)} is {problem}); it was not "
                               f"made by nnplay share: {_FIX}")
