"""Shared test setup: a pinned colour environment (snapshots depend on it) and a few fixtures."""
import os

# Snapshot and rendering tests must not depend on the developer's terminal.
os.environ.pop("NO_COLOR", None)
os.environ["TERM"] = "xterm-256color"
os.environ["COLORTERM"] = "truecolor"
