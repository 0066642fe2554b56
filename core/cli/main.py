"""The ``nnplay`` command: argparse only at import time, so ``--help`` and ``--version`` answer instantly.

Heavy modules (numpy, numba, rich, textual) load inside the subcommand that needs them.
"""
from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from .exits import EXIT_BAD_INPUT

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nnplay",
        description="A neural-network playground in the terminal. Run with no command to open the playground.",
        epilog="Examples: nnplay | nnplay run spiral | nnplay run my.toml --json --out runs/1 | nnplay list",
    )
    p.add_argument("--version", action="version", version=f"nnplay {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    tui = sub.add_parser("tui", help="open the playground (the default on a terminal)")
    tui.add_argument("preset", nargs="?", help="a shipped preset name, a .toml path or a share string to open "
                                               "(or a saved .npz / .keras model, read-only)")
    tui.add_argument("--no-color", action="store_true", help="draw without colour (also: NO_COLOR=1)")
    # one browser session of `nnplay serve` (set by the server, not for people)
    tui.add_argument("--served", metavar="ROOT", help=argparse.SUPPRESS)
    tui.add_argument("--session-minutes", type=float, default=60.0, help=argparse.SUPPRESS)
    tui.add_argument("--memory-mb", type=int, default=4096, help=argparse.SUPPRESS)
    tui.add_argument("--threads", type=int, help="compute threads for training (default: leave one core to the UI "
                                                 "on machines with up to 4 cores)")

    run = sub.add_parser("run", help="train a preset headless and report", description=(
        "Train a preset without the TUI. Exit codes: 0 success, 1 a stated target was missed, "
        "2 bad input, 130/143/129 stopped by Ctrl-C/SIGTERM/SIGHUP (what was trained is saved)."))
    run.add_argument("preset", help="a shipped preset name (see `nnplay list`), a path to a .toml file, "
                                    "or a share string (nnplay share)")
    run.add_argument("--epochs", type=int, help="override training.epochs")
    run.add_argument("--seed", type=int, help="override the preset's seed")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override any field, e.g. --set training.optimizer.learning_rate=0.01 (repeatable)")
    run.add_argument("--variant", metavar="NAME", help="run only this variant of a preset with [[variants]] "
                                                       "(nnplay show PRESET lists them)")
    run.add_argument("--model", metavar="FILE", help="train this saved model (.npz, or a .keras file from nnplay "
                                                     "or Keras 3) on the preset's data and settings, in place of "
                                                     "its [model]")
    run.add_argument("--out", metavar="DIR", help="write the resolved preset, history CSV, metrics JSON and model")
    run.add_argument("--json", action="store_true", help="print one JSON object per epoch and a final summary")
    run.add_argument("--quiet", "-q", action="store_true", help="print only the final summary")
    run.add_argument("--threads", type=int, help="compute threads (default: all cores)")

    watch = sub.add_parser("watch", help="run your own Keras-style script and watch every fit() live",
                           description="Run a Python script that uses nnplay.keras (or nnplay.core) and show each "
                                       "model.fit() it calls in the playground's live views; the script carries "
                                       "on when a run ends or you close the view. Exit status: the script's.")
    watch.add_argument("script", help="the Python script to run")
    watch.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed on to the script")
    watch.add_argument("--json", action="store_true", help="no playground: one JSON object per epoch of every fit "
                                                            "on stdout (the script's own output goes to stderr)")
    watch.add_argument("--no-color", action="store_true", help="draw without colour (also: NO_COLOR=1)")

    export = sub.add_parser("export", help="write a preset or a trained run as a Keras or PyTorch script",
                            description="Write SOURCE (a preset name, a .toml file, a share string, or a folder "
                                        "written by `nnplay run --out`) as a standalone script that rebuilds the "
                                        "model in Keras or PyTorch and loads its weights, plus weights.npz and "
                                        "check.npz (`python model_keras.py --check` compares the outputs). "
                                        "Exit codes: 0 written, 2 bad input (nothing written).")
    export.add_argument("source", help="a preset, a .toml file, a share string or a run folder (nnplay run --out)")
    export.add_argument("--to", required=True, choices=["keras", "pytorch"], help="the framework to write for")
    export.add_argument("--out", metavar="DIR", help="where to write (default: ./export-NAME)")

    share = sub.add_parser("share", help="print a preset as one line to send (nnplay run/tui accept it)")
    share.add_argument("source", help="a preset name, a .toml file or a share string")

    serve = sub.add_parser(
        "serve", help="serve the playground to a browser (one session per connection)",
        description="Serve the playground to a browser, for a classroom: each connection gets its own playground "
                    "process in its own work folder (removed when it ends), which reads and writes only there "
                    "(shipped presets and share strings open as usual), opens no shell, runs with at most "
                    "--memory-mb of memory and closes after --session-minutes; at most --max-sessions run at once. "
                    "Binds to 127.0.0.1 (this machine only) unless --host says otherwise. Needs the serve extra: "
                    'pip install "nnplay[serve]".')
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for "
                                                           "every network the machine is on)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--max-sessions", type=int, default=8, help="browser sessions at once (default 8)")
    serve.add_argument("--session-minutes", type=float, default=60.0, help="each session closes after this long "
                                                                           "(default 60)")
    serve.add_argument("--memory-mb", type=int, default=4096, help="memory limit of each session (default 4096)")
    serve.add_argument("--work-dir", metavar="DIR", help="where the sessions' folders go (default: a new "
                                                         "temporary folder)")

    lst = sub.add_parser("list", help="list shipped presets and built-in datasets")
    lst.add_argument("what", nargs="?", choices=["presets", "datasets"], help="only one kind")

    show = sub.add_parser("show", help="show a preset's model summary and training settings without training")
    show.add_argument("preset")

    bench = sub.add_parser("bench", help="measure training speed on the reference workloads")
    bench.add_argument("--workload", action="append", help="workload name (repeatable); default: all")
    bench.add_argument("--threads", type=int, help="compute threads (default: all cores)")
    bench.add_argument("--seconds", type=float, default=1.0, help="length of each timed window")
    bench.add_argument("--windows", type=int, default=5, help="number of timed windows")
    bench.add_argument("--check", type=int, default=0, metavar="K", help="print the first K losses instead")
    bench.add_argument("--compile", action="store_true",
                       help="measure cold starts instead: one preset per family run with an empty kernel cache, then warm")
    bench.add_argument("--family", action="append", metavar="NAME",
                       help="with --compile: mlp, cnn, rnn, lstm, gru, autoencoder or gan (repeatable); default: all")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the ``nnplay`` command; its exit code. Bad input is one line on stderr and exit code 2, a stop
    signal exits 128 + signal (see :mod:`.guard`)."""
    from .guard import guarded
    return guarded(_main, argv)


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    cmd = args.command
    if cmd in (None, "tui", "run", "watch"):
        from ..system import default_training_threads, set_threads, tune_allocator
        threads = getattr(args, "threads", None)
        if threads is not None and threads < 1:
            print(f"nnplay: error: --threads must be at least 1, got {threads}", file=sys.stderr)
            return EXIT_BAD_INPUT
        set_threads(threads or default_training_threads(ui=cmd in (None, "tui") or
                                                        (cmd == "watch" and not args.json)))
        tune_allocator()
    try:
        if cmd == "run":
            from .run import cmd_run
            return cmd_run(args)
        if cmd == "list":
            from .listing import cmd_list
            return cmd_list(args)
        if cmd == "show":
            from .listing import cmd_show
            return cmd_show(args)
        if cmd == "bench":
            from .bench import cmd_bench
            return cmd_bench(args)
        if cmd == "watch":
            return cmd_watch(args)
        if cmd == "export":
            from .export import cmd_export
            return cmd_export(args)
        if cmd == "serve":
            from .serve import cmd_serve
            return cmd_serve(args)
        if cmd == "share":
            from .share import cmd_share
            return cmd_share(args)
        return cmd_tui(args)
    except KeyboardInterrupt as exc:
        from .signals import describe, exit_code
        print(describe(getattr(exc, "signum", 2)), file=sys.stderr)
        return exit_code(exc)                  # 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP
    except Exception as exc:  # one line for user mistakes, never a traceback
        from ..errors import NnplayError
        if isinstance(exc, NnplayError):
            from ..errors import sanitize      # the message may echo a file's text: no escape sequences
            print(f"nnplay: error: {sanitize(exc, one_line=True)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        raise


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty() and sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def cmd_watch(args) -> int:
    if args.json:
        from .watch import cmd_watch_json
        return cmd_watch_json(args)
    if not _interactive():
        print("nnplay: watching a script needs an interactive terminal; add --json to stream its runs as JSON "
              "lines instead, e.g.  nnplay watch --json train.py", file=sys.stderr)
        return EXIT_BAD_INPUT
    from .watch import check_script
    path = check_script(args.script)
    from nnplay.tui.watch import run_watch     # the launcher: the one place the engine opens the playground
    return run_watch(path, list(args.args), no_color=args.no_color)


def cmd_tui(args) -> int:
    if getattr(args, "served", None):         # one browser session of `nnplay serve`: the web driver draws
        from nnplay.tui.app import run_app
        from nnplay.tui.served import ServedSession
        return run_app(served=ServedSession(args.served, args.session_minutes, args.memory_mb))
    if not _interactive():
        print("nnplay: the playground needs an interactive terminal. To train without it, run a preset "
              "headless, e.g.  nnplay run spiral   (see `nnplay list` and `nnplay --help`)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        from nnplay.tui.app import run_app
    except ImportError:
        print("nnplay: the playground is not available in this build; try `nnplay run spiral`", file=sys.stderr)
        return EXIT_BAD_INPUT
    return run_app(preset=getattr(args, "preset", None), no_color=getattr(args, "no_color", False))
