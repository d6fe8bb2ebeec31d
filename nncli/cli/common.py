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


def error(message: str) -> None:
    """Messages already name their file and place (compiler style: FILE:LINE:COL: ...)."""
    for line in message.splitlines() or [""]:
        print(line, file=sys.stderr)


@contextmanager
def reporting():
    """Run a command body; NncliError -> one line per problem on stderr + its exit code."""
    from ..errors import NncliError

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
        # `nncli predict ... | head`: the reader left; not an error worth a traceback.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        raise typer.Exit(0) from None
