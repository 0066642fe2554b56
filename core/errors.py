"""The one exception type for user mistakes, and helpers that make its messages useful."""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


class NnplayError(ValueError):
    """A user mistake (bad value, impossible layer stack, broken file).

    The message is one line that names the field, echoes the value and says the fix. The CLI prints it
    without a traceback and exits with status 2; the TUI shows it in place.
    """


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or the list of choices when none is close."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return " (choose from: " + ", ".join(choices) + ")"


# C0 and C1 control characters (ESC starts every terminal escape sequence; BEL ends OSC ones), DEL, and the
# bidirectional overrides that make text read differently from what it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def sanitize(text, one_line: bool = False) -> str:
    """``text`` without control characters, safe to show on a terminal (a preset's name or description,
    a file's column names, an error echoing them). Tabs and newlines stay unless ``one_line``, which turns
    every line break and tab into a space."""
    text = str(text)
    if one_line:
        return _CONTROL_LINE.sub(lambda m: " " if m.group() in "\t\n\r" else "", text)
    return _CONTROL.sub("", text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (see :func:`sanitize`), newlines and tabs included."""
    return _CONTROL_LINE.search(text) is not None
