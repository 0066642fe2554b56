"""The ``nnplay`` command's exit codes, in one place."""

EXIT_OK = 0             #: success
EXIT_TARGET_MISSED = 1  #: a preset's stated target was missed, or training diverged
EXIT_BAD_INPUT = 2      #: bad input: one line on stderr names the problem and the fix
EXIT_INTERRUPTED = 130  #: Ctrl-C (what was trained is saved first)
