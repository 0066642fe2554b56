"""The one exception type for user mistakes, and helpers that make its messages useful."""
from __future__ import annotations

import difflib
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

