"""Fault injection for the crash tests: stop the process at the k-th step of writing.

``NNCLI_FAULT=K:ACTION`` makes the K-th call of ``point()`` (counting from 1, every point name
counts) do ACTION: ``exit`` (os._exit(99), as a power cut would: no cleanup runs), ``raise``
(OSError EIO, as a failing disk would), ``sigint`` / ``sigterm`` (the signal arrives at that
instant). ``NNCLI_FAULT_TRACE=FILE`` appends each point's name to FILE, so a test learns how many
steps there are. Unset (always, outside the tests), ``point()`` returns at once: the variables
are read once, at import.
"""

from __future__ import annotations

import os

_SPEC = os.environ.get("NNCLI_FAULT")
_TRACE = os.environ.get("NNCLI_FAULT_TRACE")
_count = 0


def point(name: str) -> None:
    """A step where a fault may be injected (a no-op unless NNCLI_FAULT or _TRACE is set)."""
    if _SPEC is None and _TRACE is None:
        return
    _hit(name)


def _hit(name: str) -> None:
    global _count
    _count += 1
    if _TRACE:
        with open(_TRACE, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")
    if not _SPEC:
        return
    k, _, action = _SPEC.partition(":")
    if _count != int(k):
        return
    if action == "exit":
        os._exit(99)
    if action == "raise":
        import errno

        raise OSError(errno.EIO, f"injected fault at {name}")
    if action in ("sigint", "sigterm"):
        import signal

        os.kill(os.getpid(), signal.SIGINT if action == "sigint" else signal.SIGTERM)
