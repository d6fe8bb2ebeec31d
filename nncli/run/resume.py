"""Resuming: which checkpoint may continue which trainer, and what may differ.

A checkpoint continues a trainer only when the config that made it equals the config given now,
except for the keys in ALLOWED_TO_DIFFER, and when its arrays fit the network and optimizer
built from that config. Everything refused is one RunDirError/UsageError line naming the file
and the difference; nothing is changed on disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import RunDirError, UsageError
from ..training import Trainer
from . import checkpoint, files

# More epochs, another checkpoint interval or output, and what the divergence message tells a
# user to change before resuming (a lower learning rate, clipping).
ALLOWED_TO_DIFFER = ("training.epochs", "training.checkpoint_every", "output.dir",
                     "training.optimizer.learning_rate", "training.clip_norm")


def config_differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """'dotted.key (old -> new)' for every leaf that differs between two resolved configs."""
    diffs = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            diffs += config_differences(a, b, path + ".")
        elif a != b:
            diffs.append(f"{path} ({a!r} -> {b!r})")
    return diffs


def check_config(saved: dict, resolved: dict, staging: Path) -> None:
    """Refuse a resume whose config (``resolved``) differs from the checkpoint's beyond what is allowed."""
    diffs = [d for d in config_differences(saved, resolved) if not d.startswith(ALLOWED_TO_DIFFER)]
    if diffs:
        raise UsageError(f"{staging / files.CHECKPOINT_META}: cannot resume: the config changed since the "
                         f"checkpoint: {'; '.join(diffs)}; undo the change or train without --resume")


def check_arrays(arrays: dict[str, np.ndarray], trainer: Trainer, staging: Path) -> None:
    """Every array the trainer will take from the checkpoint has the shape and dtype it needs."""
    network = trainer.network
    expected = {"params": network.params}
    expected.update({f"optimizer.{k}": np.asarray(v) for k, v in trainer.optimizer.state_dict().items()})
    if "best_params" in arrays:  # optional: early stopping with restore_best
        expected["best_params"] = network.params
    for key, want in expected.items():
        got = arrays.get(key)
        if got is None or got.shape != want.shape or got.dtype != want.dtype:
            found = "missing" if got is None else f"{got.dtype} {got.shape}"
            raise RunDirError(f"{staging / files.CHECKPOINT_ARRAYS}: {key} is {found}, the network needs "
                              f"{want.dtype} {want.shape}; train without --resume to start over")
    partial = arrays.get("partial_preds")  # optional: outputs of an unfinished epoch's batches
    if partial is not None and (partial.ndim != 2 or partial.shape[1] != network.n_outputs
                                or len(partial) > len(trainer.X) or partial.dtype != network.dtype):
        raise RunDirError(f"{staging / files.CHECKPOINT_ARRAYS}: partial_preds is {partial.dtype} {partial.shape}, "
                          f"the network needs {network.dtype} (at most {len(trainer.X)}, {network.n_outputs}); "
                          f"train without --resume to start over")


def restore(trainer: Trainer, out: Path, staging: Path) -> int:
    """Load the checkpoint of the run at ``out`` (kept in ``staging``) into ``trainer`` after every
    check; returns the epoch it resumes from."""
    if staging.exists() and not staging.is_dir():
        raise RunDirError(f"{staging}: is not a directory, so it holds no checkpoint; remove it and "
                          f"train without --resume")
    saved = checkpoint.load(staging)
    if saved is None:
        raise UsageError(f"{out}: no checkpoint to resume from (looked in {staging}); "
                         f"train without --resume to start over")
    arrays, meta = saved
    check_config(dict(meta.get("config", {})), trainer.cfg.resolved(), staging)
    check_arrays(arrays, trainer, staging)
    try:
        trainer.restore(arrays, meta)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise RunDirError(f"{staging / files.CHECKPOINT_META}: damaged checkpoint ({exc.__class__.__name__}: "
                          f"{exc}); train without --resume to start over") from None
    return trainer.epoch
