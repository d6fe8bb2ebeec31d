"""Raising from a signal handler without breaking an import (shared by cli/starting.py, cli/train.py
and run/checkpoint.py's Guard).

A signal handler that raises runs wherever the main thread is; inside ``import numpy`` the exception
leaves half-initialised modules behind, and NumPy cannot be imported a second time in one process,
so the one-line message the exception should become turns into a traceback. ``deliver`` raises at
once outside imports and, inside one, 20 ms later (SIGALRM), once the import is done.
"""

from __future__ import annotations

import signal

_pending: list = []  # the exception a signal asked for while Python was importing a module


def _importing(frame) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


def deliver(frame, make_exception) -> None:
    """Raise ``make_exception()`` from a signal handler, but never in the middle of an import: an
    exception there leaves half-initialised modules behind (NumPy cannot be imported twice in one
    process, so the one-line message would become a traceback). While importing, it is raised
    20 ms later by SIGALRM, once the import is done; ``make_exception`` is called then and may
    return None (the moment has passed: the caller's phase moved on and handles the signal itself).
    ``frame``: the handler's frame argument."""
    if not _importing(frame) or not hasattr(signal, "setitimer"):
        cancel()
        exc = make_exception()
        if exc is not None:
            raise exc
        return
    _pending[:] = [make_exception]
    signal.signal(signal.SIGALRM, _retry)
    signal.setitimer(signal.ITIMER_REAL, 0.02)


def cancel() -> None:
    """Forget a deferred exception and stop its timer."""
    if _pending:
        _pending.clear()
        signal.setitimer(signal.ITIMER_REAL, 0)


def _retry(signum, frame):
    if not _pending:
        return
    if _importing(frame):
        signal.setitimer(signal.ITIMER_REAL, 0.02)
        return
    make_exception = _pending.pop()
    exc = make_exception()
    if exc is not None:
        raise exc
