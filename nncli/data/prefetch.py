"""Read ahead: the next items of an iterator made in a background thread while the caller works
on the current one (issue 16).

predict, evaluate and data convert read a CSV block by block and then transform, predict, write
or append each block. The reading (fastfloat's whole-array passes, NumPy's parser) and the work
on a block (ufuncs, matrix products, file writes) spend most of their time in C code that
releases the GIL, so with a reader thread the two overlap on two cores instead of taking turns
on one. Memory stays bounded: at most ``depth`` finished items wait in the queue, plus the one
being made and the one the caller holds.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

_END = object()
#: How often (seconds) a producer waiting on a full queue checks whether the caller has stopped.
_POLL = 0.05


def prefetched(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield the items of ``items`` in order, made up to ``depth`` ahead by one background thread.

    An exception raised by ``items`` is raised here, in order: after the items made before it.
    When the caller stops early (an error of its own, Ctrl-C, a generator closed), the thread
    stops after the item it is making, and ``items`` is closed in that thread (the thread that
    ran it), so its files are closed and its work ahead cancelled before this returns.
    Read from regular files only: a thread blocked reading a pipe could not be interrupted."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = iter(items)
        try:
            for item in it:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as exc:  # re-raised by the caller, in order
            put((False, exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # the caller has stopped or already has the error that matters
                    pass

    thread = threading.Thread(target=produce, name="nncli-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()
