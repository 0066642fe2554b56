"""The ``nnplay`` command's exit codes, in one place."""

EXIT_OK = 0             #: success
EXIT_TARGET_MISSED = 1  #: a preset's stated target was missed, or training diverged
EXIT_BAD_INPUT = 2      #: bad input: one line on stderr names the problem and the fix
EXIT_INTERRUPTED = 130  #: Ctrl-C (what was trained is saved first); any stop signal: 128 + its number
EXIT_TERMINATED = 143   #: SIGTERM (kill, a job scheduler), handled like Ctrl-C
EXIT_HUNG_UP = 129      #: SIGHUP (the terminal or SSH session closed), handled like Ctrl-C
