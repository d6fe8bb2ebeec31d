"""Trainer state in and out of a run's staging folder, when it is saved, and signals.

A checkpoint is ONE file in the staging folder (files.CHECKPOINT_ARRAYS, checkpoint.npz), written
atomically (temporary file, fsync, rename, fsync of the folder): the trainer's arrays (parameters,
optimizer state, early stopping's best parameters, the outputs of an unfinished epoch's batches),
its metadata as a JSON document stored in the member ``__meta__`` (epoch, step, random-generator
states, history, plus what resume.py needs: the resolved config, the overrides, the data
fingerprint and the run's segments) and a SHA-256 over all of that in ``__sha256__``. Arrays and
metadata therefore always come from the same moment; a file that does not verify is refused and
left in place (the rename never replaced a good checkpoint with a bad one). resume.py decides
whether a checkpoint may continue a given trainer; meta.py validates its metadata field by field.

Signals (``guard``): a first SIGINT/SIGTERM before any output exists stops at once; during
training it asks the loop to stop after the current batch, where the state is exact, so the
checkpoint then saved resumes bit-exactly; once training is over it is remembered and reported
after the run is published. A second signal during Trainer.run stops at once (KeyboardInterrupt)
except inside a critical section (writing a checkpoint); anywhere else (taking the lock,
publishing) it waits like the first.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import Interrupted, RunDirError
from ..training import Callback, Trainer
from . import faults, files

META_KEY = "__meta__"
DIGEST_KEY = "__sha256__"
FORMAT = 2  # 1 was the checkpoint.npz + checkpoint.json pair


def path_of(staging: Path) -> Path:
    return staging / files.CHECKPOINT_ARRAYS


def digest(arrays: dict[str, np.ndarray]) -> bytes:
    """SHA-256 over every member (name, dtype, shape, bytes) in name order."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.digest()


def encode(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    """The bytes of a checkpoint file: ``arrays`` + ``meta`` (JSON) + their digest."""
    members = dict(arrays)
    members[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    members[DIGEST_KEY] = np.frombuffer(digest(members), dtype=np.uint8)
    return files.npz_bytes(members)


def save(trainer: Trainer, staging: Path) -> None:
    """Write the trainer's state (and ``trainer.extra_state``) as one atomic file. Signals wait
    until it is complete: a checkpoint is never half-written by a second Ctrl-C."""
    arrays, meta = trainer.state()
    meta = {"format": FORMAT, **meta, **trainer.extra_state}
    data = encode(arrays, meta)
    with critical():
        try:
            staging.mkdir(parents=True, exist_ok=True)
            _write_atomic(path_of(staging), data)
            legacy = staging / files.CHECKPOINT_META
            if legacy.exists():  # a format-1 pair's other half: it no longer describes anything
                legacy.unlink()
        except OSError as exc:
            kept = "the previous checkpoint is kept" if exists(staging) else "no checkpoint was kept"
            raise RunDirError(f"{path_of(staging)}: cannot save the checkpoint ({exc.strerror or exc}); {kept}; "
                              f"free some space or choose another output with --out") from None


def _write_atomic(path: Path, data: bytes) -> None:
    """files.write_bytes_atomic with a fault-injection point before each system call, so the
    tests can stop the process (or raise, or signal it) at every step of saving."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        faults.point("checkpoint.open")
        with open(tmp, "wb") as fh:
            faults.point("checkpoint.write")
            fh.write(data)
            fh.flush()
            faults.point("checkpoint.fsync")
            os.fsync(fh.fileno())
        faults.point("checkpoint.rename")
        os.replace(tmp, path)
        faults.point("checkpoint.fsync_dir")
        files.fsync_dir(path.parent)
        faults.point("checkpoint.saved")
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def exists(staging: Path) -> bool:
    return path_of(staging).is_file()


def load(staging: Path) -> tuple[dict[str, np.ndarray], dict] | None:
    """(arrays, meta) of the verified checkpoint in ``staging``, or None when there is none.
    ``meta`` is checked field by field (meta.CheckpointMeta); anything else is one RunDirError."""
    from .meta import parse_meta

    path = path_of(staging)
    if not path.exists() and not path.is_symlink():
        if (staging / files.CHECKPOINT_META).exists():
            raise RunDirError(f"{staging / files.CHECKPOINT_META}: a checkpoint of an older nncli (two files); "
                              f"it cannot be verified, train without --resume to start over")
        return None
    if path.is_symlink() or not path.is_file():
        raise RunDirError(f"{path}: not a regular file, so not a checkpoint nncli wrote; train without "
                          f"--resume to start over")
    fix = "; the checkpoint is damaged, train without --resume to start over (it was left in place)"
    try:
        members = files.load_npz(path)
    except RunDirError as exc:
        raise RunDirError(exc.message + fix) from None
    stored = members.pop(DIGEST_KEY, None)
    if stored is None or META_KEY not in members:
        raise RunDirError(f"{path}: no {DIGEST_KEY if stored is None else META_KEY} member, so not a "
                          f"checkpoint nncli wrote" + fix)
    if stored.dtype != np.uint8 or stored.tobytes() != digest(members):
        raise RunDirError(f"{path}: checksum mismatch (the file changed after nncli wrote it)" + fix)
    raw = members.pop(META_KEY)
    try:
        obj = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise RunDirError(f"{path}: {META_KEY}: not valid JSON ({exc.__class__.__name__})" + fix) from None
    return members, parse_meta(obj, f"{path}: {META_KEY}")


def saved_epoch(staging: Path) -> str:
    """'E' or 'E, batch B' of the checkpoint in ``staging``, for a message; '?' when unreadable."""
    try:
        _, meta = load(staging)
        return f"{int(meta['epoch'])}" + (f", batch {int(meta['step_in_epoch'])}" if meta.get("step_in_epoch") else "")
    except Exception:  # the message is being built for another error; never hide that one
        return "?"


class Periodic(Callback):
    """Every N epochs, or (by default) after the first epoch and then at most every 30 s: a
    checkpoint per epoch would dominate the time of small networks trained for many epochs."""

    INTERVAL = 30.0

    def __init__(self, staging: Path, every: int | None):
        self.staging, self.every = staging, every
        self._last = None

    def on_epoch_end(self, trainer, row):
        faults.point("epoch.end")
        if trainer.finished:  # the last epoch, or early stopping said stop: nothing left to resume
            return
        now = time.monotonic()
        if self.every is not None:
            due = trainer.epoch % self.every == 0
        else:
            due = self._last is None or now - self._last >= self.INTERVAL
        if due:
            save(trainer, self.staging)
            self._last = now


# ---------------------------------------------------------------- signals
class Guard:
    """What SIGINT/SIGTERM do in each phase of `nncli train` (see the module docstring).

    phase: "start" (reading config and data: nothing written yet, stop at once), "train" (stop
    after the current batch), "finish" (training is over: remember, report after publishing)."""

    def __init__(self):
        self.phase = "start"
        self.signum: int | None = None  # the first signal received
        self.trainer: Trainer | None = None
        self.depth = 0  # > 0 inside a critical section
        self.running = False  # inside Trainer.run: the only place a second signal stops at once

    def handler(self, signum, frame):
        if self.signum is None:
            self.signum = signum
            if self.phase == "start":
                from ..interrupts import deliver

                deliver(frame, lambda: None if self.phase != "start" else Interrupted(
                    f"interrupted by {signal_name(signum)} before training started; nothing was written", signum))
            if self.trainer is not None and self.phase == "train":
                self.trainer.stop_signal = signum
            return
        if self.running and self.depth == 0:
            raise KeyboardInterrupt  # a second signal: stop now (store turns it into Interrupted)


_guard: Guard | None = None


def signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"


@contextmanager
def guarded(enabled: bool):
    """Install the SIGINT/SIGTERM handlers of ``Guard`` for the whole of a training command; yields
    the Guard (None when not enabled). Handlers are restored on exit."""
    global _guard
    if not enabled:
        yield None
        return
    guard, outer = Guard(), _guard
    previous = {sig: signal.signal(sig, guard.handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    _guard = guard
    try:
        yield guard
    finally:
        _guard = outer
        for sig, h in previous.items():
            signal.signal(sig, h)


@contextmanager
def critical():
    """A section that a second signal must not cut short (writing a checkpoint, publishing)."""
    guard = _guard
    if guard is None:
        yield
        return
    guard.depth += 1
    try:
        yield
    finally:
        guard.depth -= 1


@contextmanager
def stop_on_signals(trainer: Trainer, enabled: bool):
    """Around Trainer.run: SIGINT/SIGTERM ask the loop to stop after the current batch
    (trainer.stop_signal), a second one stops at once. Inside ``guarded`` the installed Guard is
    switched to its training phase; used alone it installs a Guard for the duration."""
    if not enabled:
        yield
        return
    if _guard is None:
        with guarded(True), stop_on_signals(trainer, True):
            yield
        return
    guard = _guard
    guard.trainer = trainer
    if guard.signum is not None and guard.phase != "start":
        trainer.stop_signal = guard.signum
    guard.phase, guard.running = "train", True
    try:
        yield
    finally:
        guard.running = False
