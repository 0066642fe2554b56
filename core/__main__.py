"""``python -m nnplay.core`` is the ``nnplay`` command."""
import sys

from .cli import main

sys.exit(main())
