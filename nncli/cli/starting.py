"""SIGINT/SIGTERM in the nncli process outside a command's own handling: one line and exit
128 + signal, never a KeyboardInterrupt traceback nor a silent death.

Three windows, one handler each:
- starting (install(): as soon as nncli's package is imported by `nncli` or `python -m nncli`, see
  nncli/__init__.py, and again in __main__): the interpreter imports Typer and the commands, which
  takes seconds on a loaded machine; nothing has been read or written yet.
- running (uninstall(), when the command line is parsed): Ctrl-C raises KeyboardInterrupt and
  SIGTERM raises Terminated (a KeyboardInterrupt too), so `finally` blocks remove temporaries and
  cli/common.reporting() prints one line with exit 130 or 143. A command that writes handles signals
  itself from its first line (train: cli/train.py, then nncli.run.checkpoint.guarded).
- finished (finish(), when the command body is over, called by reporting()): the command's result
  and exit code stand; a signal arriving while the interpreter shuts down is ignored (Python would
  otherwise die of it silently, or print "Exception ignored ... KeyboardInterrupt").
Only a process that called install() is affected: the in-process test runner keeps Python's own
handlers.
"""

from __future__ import annotations

import os
import sys

try:  # the C module, loaded with the interpreter: importing `signal` (its enums) takes a while
    import _signal as signal
except ImportError:  # pragma: no cover - another Python implementation
    import signal

_state = {"installed": False, "in_command": False, "finished": False, "pid": None}


class Terminated(KeyboardInterrupt):
    """SIGTERM while a command runs: handled like Ctrl-C, with exit code 143."""


def _starting(signum, frame):
    """Nothing read or written yet: say so and exit at once. Not by an exception: raised inside an
    import it leaves half-initialised modules, and a SystemExit raised inside a finalizer is only
    printed ("Exception ignored ... SystemExit: 130") while the command goes on. A second signal
    while this runs is ignored; the line goes out with one unbuffered write."""
    _only_in_the_nncli_process(signum)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
    try:
        os.write(2, f"interrupted by {name} while nncli was starting; nothing was written\n".encode())
    except OSError:
        pass
    os._exit(128 + signum)


def _only_in_the_nncli_process(signum) -> None:
    """A process forked from nncli's (the CSV reader's and the sweep's workers) inherits these
    handlers: there the signal does what it did before nncli installed them (the worker ends)."""
    if os.getpid() != _state["pid"]:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _running(signum, frame):
    _only_in_the_nncli_process(signum)
    if _state["finished"]:
        return
    if not _state["in_command"]:  # parsed, but the command's own handling has not begun
        _starting(signum, frame)
    from ..interrupts import deliver

    deliver(frame, KeyboardInterrupt if signum == signal.SIGINT else Terminated)


def install() -> None:
    if _state["installed"]:
        return
    _state["installed"] = True
    _state["pid"] = os.getpid()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _starting)


def enter() -> None:
    """The command's body begins (cli/common.reporting): a signal now interrupts it."""
    _state["in_command"] = True


def uninstall() -> None:
    """The command line is parsed: from here a signal interrupts the command (KeyboardInterrupt or
    Terminated), where install() had set the handler."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is _starting:
            signal.signal(sig, _running)


def finish() -> None:
    """The command body is over (its last line printed): later signals are ignored."""
    from ..interrupts import cancel

    cancel()
    if not _state["installed"]:
        return
    _state["finished"] = True
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (ValueError, OSError):  # not the main thread
            pass


def started_as_command() -> bool:
    """True in the process of `nncli ...` (the console script is __main__) or `python -m nncli`
    (while Python imports the package to find nncli/__main__.py)."""
    argv = getattr(sys, "orig_argv", None) or []
    for i, arg in enumerate(argv[1:-1], start=1):
        if arg == "-m":
            return argv[i + 1] == "nncli"
        if arg.startswith("-m") and len(arg) > 2:
            return arg[2:] == "nncli"
        if not arg.startswith("-"):
            break
    main_module = sys.modules.get("__main__")
    if getattr(main_module, "__name__", None) != "__main__":  # a spawned worker runs it as __mp_main__
        return False
    main = getattr(main_module, "__file__", None) or ""
    base = main.replace("\\", "/").rsplit("/", 1)[-1]
    return base in ("nncli", "nncli-script.py", "nncli.exe")
