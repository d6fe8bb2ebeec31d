"""SIGINT/SIGTERM while nncli starts (the interpreter imports Typer and the commands, which takes
seconds on a loaded machine): one line and exit 128 + signal instead of a traceback or a silent
death. Nothing has been read or written yet. Each command handles signals itself from its first
line (train: cli/train.py, then nncli.run.checkpoint.guarded)."""

from __future__ import annotations

import signal
import sys


def _starting(signum, frame):
    name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
    sys.stderr.write(f"interrupted by {name} while nncli was starting; nothing was written\n")
    raise SystemExit(128 + signum)


def install() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _starting)


def uninstall() -> None:
    """Python's own behaviour again (Ctrl-C raises KeyboardInterrupt, SIGTERM ends the process),
    where install() had set the handler; called when the command line is parsed."""
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    for sig, default in defaults.items():
        if signal.getsignal(sig) is _starting:
            signal.signal(sig, default)
