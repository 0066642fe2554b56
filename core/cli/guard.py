"""What every ``nnplay`` command runs inside: the promise that bad input is one line, never a traceback.

:func:`guarded` wraps a command from its first instruction (so Ctrl-C while the thread pools and allocator
are set up, or while modules import, is an interrupt, not a traceback):

* for the headless commands, stdout and stderr that never raise (:mod:`.streams`; output that could not be
  written, to a full disk or a vanished terminal, is said once at the end, with exit code 2) and SIGINT,
  SIGTERM and SIGHUP as stop requests (:mod:`.signals`), exit code 128 + signal; the playground, ``watch``
  and ``serve`` keep the process's streams and signals as Textual, the script and the server need them;
* an :class:`~nnplay.core.errors.NnplayError` (or running out of memory) as one line on stderr, cleaned of
  control characters, exit code 2.
"""
from __future__ import annotations

import contextlib
import signal
import sys

from . import signals
from .exits import EXIT_BAD_INPUT
from .streams import lost_output, safe_streams

#: Commands that run without a UI and own their process: they get the stop-signal handlers (the playground,
#: ``watch`` and ``serve`` leave signals to Textual, the learner's script and the server).
HEADLESS = ("run", "list", "show", "bench", "export", "share")


def command_of(argv: list[str] | None) -> str | None:
    """The subcommand named on the command line (the first argument that is not an option)."""
    args = sys.argv[1:] if argv is None else argv
    return next((a for a in args if not a.startswith("-")), None)


def say(line: str) -> None:
    """One line on stderr (never raises, never more than one line)."""
    from ..errors import sanitize
    if sys.stderr is not None:
        print(sanitize(line, one_line=True), file=sys.stderr, flush=True)


def guarded(command, argv: list[str] | None) -> int:
    """``command(argv)``'s exit code, with the guarantees in the module docstring."""
    headless = command_of(argv) in HEADLESS
    with safe_streams() if headless else contextlib.nullcontext((sys.stdout, sys.stderr)) as (out, _err):
        try:
            with signals.handled() if headless else contextlib.nullcontext():
                code = command(argv)
        except KeyboardInterrupt as exc:
            say(signals.describe(getattr(exc, "signum", signal.SIGINT)))
            return signals.exit_code(exc)
        except MemoryError:
            say("nnplay: error: ran out of memory; use a smaller model, batch_size or dataset")
            return EXIT_BAD_INPUT
        except Exception as exc:
            from ..errors import NnplayError
            if not isinstance(exc, NnplayError):
                raise
            say(f"nnplay: error: {exc}")
            return EXIT_BAD_INPUT
        lost = lost_output(out)
        if lost is not None and not (isinstance(code, int) and code > 128):
            say(f"nnplay: error: the output could not be written ({lost.strerror or lost}); send it somewhere "
                "else (files the command saves, such as --out, are not affected)")
            return EXIT_BAD_INPUT
        return code
