"""The ``nnplay`` command: ``main`` parses the arguments (argparse only, so ``--help`` answers at once) and
loads the subcommand it runs: ``run`` (:mod:`.run`), ``list`` and ``show`` (:mod:`.listing`), ``bench``
(:mod:`.bench`), and the playground (``nnplay.tui``, the one place the engine launches the UI)."""
from .main import main

__all__ = ["main"]
