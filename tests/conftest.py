"""Shared test setup: a pinned colour environment (snapshots depend on it) and a few fixtures."""
import os

# Snapshot and rendering tests must not depend on the developer's terminal.
os.environ.pop("NO_COLOR", None)
os.environ["TERM"] = "xterm-256color"
os.environ["COLORTERM"] = "truecolor"
# A cold kernel cache (the suite's first minutes on a fresh machine) would otherwise start runs on the NumPy
# tier for a timing-dependent number of batches; tests that are about the tier turn it back on.
os.environ["NNPLAY_NUMPY_TIER"] = "0"
