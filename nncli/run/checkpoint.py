"""Trainer state in and out of a run's staging folder, and when it is saved.

A checkpoint is two files in the staging folder (files.CHECKPOINT_ARRAYS, files.CHECKPOINT_META):
the trainer's arrays (parameters, optimizer state, early stopping's best parameters, the outputs
of an unfinished epoch's batches) and its JSON metadata (epoch, step, random-generator states,
history) plus the resolved config it was trained with. resume.py decides whether a checkpoint may
continue a given trainer; this module only moves the state.

Signals: SIGINT/SIGTERM do not stop the process where it stands; they ask the loop to stop after
the current batch, where the state is exact, so the checkpoint then saved resumes bit-exactly.
"""

from __future__ import annotations

import json
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..errors import RunDirError
from ..training import Callback, Trainer
from . import files


def save(trainer: Trainer, staging: Path) -> None:
    """Arrays first, then the JSON that names them: a checkpoint.json always describes a complete
    checkpoint.npz (both written atomically)."""
    arrays, meta = trainer.state()
    meta["config"] = trainer.cfg.resolved()
    staging.mkdir(parents=True, exist_ok=True)
    files.write_bytes_atomic(staging / files.CHECKPOINT_ARRAYS, files.npz_bytes(arrays))
    files.write_text_atomic(staging / files.CHECKPOINT_META, json.dumps(meta))


def exists(staging: Path) -> bool:
    return (staging / files.CHECKPOINT_META).exists()


def load(staging: Path) -> tuple[dict[str, np.ndarray], dict] | None:
    """(arrays, meta) of the checkpoint in ``staging``, or None when there is none."""
    meta_path = staging / files.CHECKPOINT_META
    if not meta_path.exists():
        return None
    try:
        meta = files.read_json(meta_path)
        arrays = files.load_npz(staging / files.CHECKPOINT_ARRAYS)
    except RunDirError as exc:
        raise RunDirError(f"{exc.message}; the checkpoint is damaged, train without --resume to start over") from None
    return arrays, meta


def saved_epoch(staging: Path) -> str:
    """'E' or 'E, batch B' of the checkpoint in ``staging``, for a message; '?' when unreadable."""
    try:
        meta = files.read_json(staging / files.CHECKPOINT_META)
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


@contextmanager
def stop_on_signals(trainer: Trainer, enabled: bool):
    """SIGINT/SIGTERM ask the loop to stop after the current batch (trainer.stop_signal); a second
    one stops at once (KeyboardInterrupt). Handlers are restored on exit."""
    if not enabled:
        yield
        return
    previous = {}

    def handler(signum, frame):
        if trainer.stop_signal is not None:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        trainer.stop_signal = signum

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)
