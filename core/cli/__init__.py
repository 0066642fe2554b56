"""The ``nnplay`` command: ``main`` parses the arguments (argparse only, so ``--help`` answers at once) and
loads the subcommand it runs: ``run`` (:mod:`.run`), ``list`` and ``show`` (:mod:`.listing`), ``bench``
(:mod:`.bench`), and the playground (``nnplay.tui``, the one place the engine launches the UI)."""
try:
    from .main import main
except KeyboardInterrupt:      # Ctrl-C while the command itself loads: an interrupt, not a traceback
    import sys
    try:
        print("interrupted", file=sys.stderr)
    except (OSError, ValueError, AttributeError):
        pass
    raise SystemExit(130) from None

__all__ = ["main"]
