"""The NncliError family and the process exit codes, named in one place.

The core raises these; only ``nncli.cli`` turns them into one printed line and an exit code.
"""

from __future__ import annotations

# Exit codes (documented in the README; keep the two in step).
EXIT_OK = 0
EXIT_FAILURE = 1  # a check that ran and failed (gradcheck above tolerance), or an internal bug
EXIT_USAGE = 2  # bad config, bad command-line usage, bad data, bad run directory
EXIT_DIVERGED = 3  # training produced a NaN or infinite loss
EXIT_LOCKED = 4  # another nncli process holds the output directory
EXIT_SIGINT = 130  # interrupted by Ctrl-C (128 + SIGINT); a checkpoint was saved
EXIT_SIGTERM = 143  # terminated by SIGTERM (128 + SIGTERM); a checkpoint was saved


class NncliError(Exception):
    """Base of every error nncli reports to a user as one line.

    ``message`` is the whole line (it should name the file, the place and the fix);
    ``exit_code`` is what the command line exits with.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class ConfigError(NncliError):
    """A config file or --set override is invalid. ``messages`` holds every problem found."""

    def __init__(self, messages: list[str] | str):
        if isinstance(messages, str):
            messages = [messages]
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


class DataError(NncliError):
    """A data file or in-memory array is unusable (missing, malformed, wrong columns)."""


class RunDirError(NncliError):
    """A run directory is missing, incomplete or tampered with."""


class UsageError(NncliError):
    """The command line itself is wrong (bad option combination, missing argument)."""


class LockedError(NncliError):
    exit_code = EXIT_LOCKED


class DivergedError(NncliError):
    """Training produced a non-finite loss. ``checkpoint``: the folder holding the last good
    checkpoint (kept so that training can resume after a change), or None."""

    exit_code = EXIT_DIVERGED

    def __init__(self, message: str, *, checkpoint=None, out=None):
        super().__init__(message)
        self.checkpoint, self.out = checkpoint, out


class Interrupted(NncliError):
    """Training was stopped by a signal. ``checkpoint``: the folder of the checkpoint it saved (None
    when nothing was being written); ``out``: the run directory a resume would complete. The
    command line turns these facts into the command that resumes."""

    def __init__(self, message: str, signum: int, *, checkpoint=None, out=None):
        super().__init__(message, exit_code=128 + signum)
        self.signum = signum
        self.checkpoint, self.out = checkpoint, out


class MissingExtra(NncliError):
    """An optional dependency is not installed (exit 2, like other usage problems); the message is
    the install command (see nncli.extras)."""


class CheckFailed(NncliError):
    """A check that ran (e.g. gradcheck) failed."""

    exit_code = EXIT_FAILURE
