"""What every command shares: turning NncliError into one line on stderr and an exit code.

Only this layer prints errors and exits. With --debug (or NNCLI_DEBUG=1) the traceback is shown.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import typer

STATE = {"debug": False}


def debug_enabled() -> bool:
    return STATE["debug"] or os.environ.get("NNCLI_DEBUG", "") not in ("", "0")


# errno -> what to do about it, for the one line an operating-system error becomes
_OS_FIXES = {
    "ENOSPC": "the disk is full; free some space or write elsewhere",
    "EDQUOT": "the disk quota is used up; free some space or write elsewhere",
    "EACCES": "permission denied; check the permissions, or use another path",
    "EPERM": "operation not permitted; check the permissions, or use another path",
    "EROFS": "the file system is read-only; write elsewhere",
    "EBUSY": "the path is busy (in use, or a mount point); use another path",
    "ENAMETOOLONG": "the name is too long; use a shorter path",
    "ELOOP": "too many levels of symbolic links (a link loop?); fix the link or give the real path",
    "ENOENT": "no such file or folder; check the path",
    "ENOTDIR": "a part of the path is a file, not a folder; check the path",
    "EISDIR": "is a folder where a file is expected; give a file",
    "EEXIST": "already exists; remove it or use another path",
    "ENOTEMPTY": "the folder is not empty; use another path",
    "EXDEV": "crosses file systems; keep the output on one file system",
    "EMFILE": "too many open files; raise the limit (ulimit -n)",
    "EIO": "an input/output error; check the disk",
    "EINVAL": "not a valid path or operation here; use another path",
}


def os_error_line(exc: OSError) -> str:
    """'PATH: what happened — the fix' for any OSError (ENOSPC, EACCES, ENAMETOOLONG, ...)."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    what = exc.strerror or str(exc) or exc.__class__.__name__
    fix = _OS_FIXES.get(name, "check the path and the disk")
    where = exc.filename if exc.filename is not None else "nncli"
    if exc.filename2 is not None:
        where = f"{exc.filename} -> {exc.filename2}"
    return f"{where}: {what}{f' [{name}]' if name else ''} — {fix}"


def _tolerant_streams() -> None:
    """A terminal or pipe that cannot encode a character (PYTHONIOENCODING=ascii) gets an escape
    instead of a UnicodeEncodeError in the middle of a message."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if getattr(stream, "errors", "strict") == "strict":
                stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def error(message: str) -> None:
    """Messages already name their file and place (compiler style: FILE:LINE:COL: ...)."""
    for line in message.splitlines() or [""]:
        print(line, file=sys.stderr)


@contextmanager
def reporting():
    """Run a command body; NncliError -> one line per problem on stderr + its exit code."""
    from ..errors import EXIT_USAGE, NncliError

    _tolerant_streams()
    try:
        yield
    except NncliError as exc:
        if debug_enabled():
            raise
        error(exc.message)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        if debug_enabled():
            raise
        print("interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    except BrokenPipeError:
        _left_pipe()
    except OSError as exc:  # the operating system refused a file operation: one line, exit 2
        if debug_enabled():
            raise
        error(os_error_line(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except ValueError as exc:
        if "null byte" not in str(exc) or debug_enabled():
            raise
        error("nncli: a path holds a NUL byte; give paths without it")
        raise typer.Exit(EXIT_USAGE) from None


def _left_pipe() -> None:
    """`nncli predict ... | head`: the reader left; not an error worth a traceback."""
    try:
        sys.stdout = open(os.devnull, "w")
    except OSError:
        pass
    raise typer.Exit(0) from None
