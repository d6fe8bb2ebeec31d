"""Resuming: what config continues, on which data, from which checkpoint.

The checkpoint holds the resolved config that trained it and the overrides it was given, so
``--resume`` continues exactly that run (``plan``): values set with --set/--epochs/--seed when
the run started are kept even when not typed again. Anything that differs now — given again on
the command line, or changed in the config file — is either an allowed change (ALLOWED_TO_DIFFER:
applied, and recorded in the run's segments) or refused with the difference named. The data is
checked against the fingerprint saved with the checkpoint (the files' size and mtime, a hash of
the prepared arrays): changed data is refused naming the file unless allowed
(``allow_data_change``), which is recorded too. Everything refused is one RunDirError/UsageError
line; nothing is changed on disk.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, LockedError, RunDirError, UsageError
from ..training import Trainer
from . import checkpoint, files

# More epochs, another checkpoint interval or output, and what the divergence message tells a
# user to change before resuming (a lower learning rate, clipping).
ALLOWED_TO_DIFFER = ("training.epochs", "training.checkpoint_every", "output.dir",
                     "training.optimizer.learning_rate", "training.clip_norm")
DATA_KEYS = ("path", "y_path", "validation", "test")
# Hashing the prepared arrays costs ~3 ms per MB (measured: 100 MB in 0.3 s; digits 1.7 ms against
# 980 ms to read and prepare it); above this limit, or for memory-mapped data, the size and
# mtime of the data files decide alone.
HASH_LIMIT = 1 << 30


def config_differences(old: dict, new: dict, prefix: str = "") -> list[tuple[str, object, object]]:
    """(dotted.key, old, new) for every leaf that differs between two resolved configs."""
    diffs = []
    for key in sorted(set(old) | set(new), key=str):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            diffs += config_differences(a, b, path + ".")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):  # layers: name the one that differs
            diffs += config_differences(dict(enumerate(a)), dict(enumerate(b)), path + ".")
        elif a != b:
            diffs.append((path, a, b))
    return diffs


def _describe(diff) -> str:
    key, a, b = diff
    text = f"{key} ({a!r} -> {b!r})"
    return text if len(text) <= 200 else text[:197] + "..."


def override_key(override: str) -> str:
    return override.split("=", 1)[0].strip()


def _covers(key: str, path: str) -> bool:
    return key == path or key.startswith(path + ".") or path.startswith(key + ".")


@dataclass
class Plan:
    """What a resume continues: the config (saved, with the allowed changes applied), the
    checkpoint (verified), and what changed (for the segment recorded in metrics.json)."""

    config: object  # nncli.config.schema.Config
    arrays: dict
    meta: dict
    changes: list[str]
    new_overrides: list[str]
    stat: tuple  # (size, mtime_ns, inode) of the checkpoint file read: it must be the one restored


def plan(cfg, out: Path, staging: Path) -> Plan:
    """The config a ``--resume`` of the run at ``out`` continues with, given the config now
    (``cfg``: the file as it is now with the overrides typed now)."""
    from ..config.schema import config_from_dict
    from ..errors import ConfigError

    if staging.exists() and not staging.is_dir():
        raise RunDirError(f"{staging}: is not a directory, so it holds no checkpoint; remove it and "
                          f"train without --resume")
    saved = checkpoint.load(staging)
    if saved is None:
        busy = files.holder(out)
        if busy is not None:  # a training that has not written its first checkpoint yet
            raise LockedError(f"{out}: another nncli process ({busy}) is writing this run directory; wait for "
                              f"it, or choose another output with --out")
        raise UsageError(f"{out}: no checkpoint to resume from (looked in {staging}); "
                         f"train without --resume to start over")
    arrays, meta = saved
    where = checkpoint.path_of(staging)
    old_overrides = list(meta["overrides"])
    now_overrides = list(cfg.overrides)
    old_keys = {override_key(o) for o in old_overrides}
    now_keys = {override_key(o) for o in now_overrides}
    effective = cfg.resolved()  # data paths as written: the data's identity is checked by its fingerprint
    changes, refused = [], []
    for diff in config_differences(meta["config"], effective):
        path = diff[0]
        given_now = any(_covers(k, path) for k in now_keys)
        set_at_start = any(_covers(k, path) for k in old_keys)
        if set_at_start and not given_now:
            _put(effective, path, diff[1])  # an override of the run's start: it still holds
        elif path.startswith(ALLOWED_TO_DIFFER):
            changes.append(_describe(diff))
        else:
            refused.append(_describe(diff))
    if refused:
        raise UsageError(f"{where}: cannot resume: the config differs from the checkpoint's: "
                         f"{'; '.join(refused[:5])}{f' (and {len(refused) - 5} more)' if len(refused) > 5 else ''}"
                         f"; give the values the run started with, or train without --resume")
    epochs = effective["training"]["epochs"]
    if epochs <= meta["epoch"]:
        raise UsageError(f"{where}: cannot resume: the checkpoint has {meta['epoch']} epochs done and "
                         f"training.epochs is {epochs}; give --epochs {meta['epoch'] + 1} or more")
    new_overrides = [o for o in now_overrides if o not in old_overrides]
    try:
        resumed = config_from_dict(effective, base_dir=cfg.base_dir, overrides=old_overrides + new_overrides,
                                   display=str(where))
    except ConfigError as exc:
        raise RunDirError(f"{exc.messages[0]}; the checkpoint's config is not valid, train without "
                          f"--resume to start over") from None
    st = os.stat(where)
    return Plan(resumed, arrays, meta, changes, new_overrides, (st.st_size, st.st_mtime_ns, st.st_ino))


def remove_temporaries(staging: Path) -> None:
    """The temporary files of atomic writes (``.NAME.tmp-PID``, NAME a checkpoint or run file) that
    a process killed mid-write left in the staging folder: exact names, nothing else."""
    import re

    names = "|".join(re.escape(n) for n in (*files.RUN_FILES, files.CHECKPOINT_ARRAYS, files.CHECKPOINT_META))
    pattern = re.compile(rf"\.(?:{names})\.tmp-\d+")
    for entry in os.scandir(staging):
        if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)


def _put(tree: dict, path: str, value) -> None:
    *parents, leaf = path.split(".")
    for p in parents:
        tree = tree[p]
    tree[leaf] = value


# ---------------------------------------------------------------- data
def identify_data(cfg, checked) -> dict:
    """The data's fingerprint: each data file's size and mtime, and a SHA-256 of the prepared
    arrays of every split (None above HASH_LIMIT bytes or for memory-mapped rows)."""
    found = {}
    for key in DATA_KEYS:
        value = getattr(cfg.data, key, None)
        if isinstance(value, str) and value:
            p = cfg.resolve_path(value).resolve()
            try:
                st = os.stat(p)
                found[f"data.{key}"] = {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
            except OSError:
                pass
    parts = []
    for label, split in checked.splits.items():
        if split is not None:
            parts += [(f"{label}.X", split.X), (f"{label}.y", split.y)]
    total = sum(getattr(a, "nbytes", HASH_LIMIT + 1) for _, a in parts)
    digest = None
    if all(isinstance(a, np.ndarray) for _, a in parts) and total <= HASH_LIMIT:
        h = hashlib.sha256()
        for name, a in parts:
            a = np.ascontiguousarray(a)
            h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
            h.update(memoryview(a).cast("B"))
        digest = h.hexdigest()
    return {"files": found, "arrays": digest}


def data_changes(saved: dict, now: dict) -> list[str]:
    """What differs between two fingerprints: 'FILE: size A -> B' lines; empty when the data is
    the same (the same array hash, or without hashes the same files, sizes and mtimes)."""
    changed = []
    for key in sorted(set(saved["files"]) | set(now["files"])):
        a, b = saved["files"].get(key), now["files"].get(key)
        if a is None or b is None:
            changed.append(f"{(a or b)['path']}: {key} {'added' if a is None else 'removed'}")
        elif a["size"] != b["size"]:
            changed.append(f"{b['path']}: size {a['size']} -> {b['size']} bytes")
        elif a["mtime_ns"] != b["mtime_ns"]:
            changed.append(f"{b['path']}: modified since the checkpoint")
    if saved["arrays"] is not None and now["arrays"] is not None:
        if saved["arrays"] == now["arrays"]:
            return []  # the arrays that train are identical (a touched or copied file)
        return changed or ["data.generator: the generated data differs"]
    return changed


def check_data(plan: Plan, now: dict, staging: Path, allow: bool) -> bool:
    """Refuse a resume on changed data unless ``allow``; returns whether the data changed."""
    changed = data_changes(plan.meta["data"], now)
    if changed and not allow:
        raise DataError(f"{changed[0]}: the training data changed since the checkpoint in {staging}; "
                        f"restore the data, or resume with --data-changed (recorded in metrics.json), "
                        f"or train without --resume")
    return bool(changed)


# ---------------------------------------------------------------- arrays and state
def check_arrays(arrays: dict[str, np.ndarray], trainer: Trainer, where: Path) -> None:
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
            raise RunDirError(f"{where}: {key} is {found}, the network needs "
                              f"{want.dtype} {want.shape}; train without --resume to start over")
    unknown = sorted(set(arrays) - set(expected) - {"partial_preds"})
    if unknown:
        raise RunDirError(f"{where}: unexpected arrays {', '.join(unknown)}; train without --resume to start over")
    partial = arrays.get("partial_preds")  # optional: outputs of an unfinished epoch's batches
    if partial is not None and (partial.ndim != 2 or partial.shape[1] != network.n_outputs
                                or len(partial) > len(trainer.X) or partial.dtype != network.dtype):
        raise RunDirError(f"{where}: partial_preds is {partial.dtype} {partial.shape}, "
                          f"the network needs {network.dtype} (at most {len(trainer.X)}, {network.n_outputs}); "
                          f"train without --resume to start over")


def check_position(meta: dict, trainer: Trainer, where: Path) -> None:
    """The step and row counts fit this data and batch size."""
    n, bs, n_batches = len(trainer.X), trainer.batch_size, trainer.n_batches
    step, seen = meta["step_in_epoch"], meta["seen"]
    fix = "; the checkpoint is damaged, train without --resume to start over"
    if step >= max(n_batches, 1):
        raise RunDirError(f"{where}: step_in_epoch: {step} but an epoch has {n_batches} batches{fix}")
    if step > 0 and seen != min(step * bs, n):  # at an epoch's end it still counts the whole epoch
        raise RunDirError(f"{where}: seen: {seen} rows, but {step} batches of {bs} cover {min(step * bs, n)}{fix}")
    if meta["early_stopping"]["best_epoch"] > meta["epoch"]:
        raise RunDirError(f"{where}: early_stopping.best_epoch: {meta['early_stopping']['best_epoch']} is after "
                          f"epoch {meta['epoch']}{fix}")
    # The schedule's state is exactly the fields this schedule keeps (an extra or missing key is a
    # checkpoint from another schedule, or a tampered one; the values' types CheckpointMeta checked).
    expected, got = sorted(trainer.schedule.state_dict()), sorted(meta["schedule"])
    if got != expected:
        raise RunDirError(f"{where}: schedule: has the fields {got or 'none'}, but the "
                          f"{trainer.cfg.training.schedule.name} schedule keeps {expected or 'none'}{fix}")


def restore(trainer: Trainer, plan: Plan, staging: Path) -> int:
    """Load the planned checkpoint into ``trainer`` after every check; returns its epoch. The
    staging folder is continued, so what a killed process left half-written in it goes."""
    where = checkpoint.path_of(staging)
    try:
        st = os.stat(where)
    except OSError:
        st = None
    if st is None or (st.st_size, st.st_mtime_ns, st.st_ino) != plan.stat:
        raise RunDirError(f"{where}: the checkpoint changed while this resume started (another nncli "
                          f"process?); run the command again")
    remove_temporaries(staging)
    check_arrays(plan.arrays, trainer, where)
    check_position(plan.meta, trainer, where)
    try:
        trainer.restore(plan.arrays, plan.meta)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as exc:
        raise RunDirError(f"{where}: damaged checkpoint ({exc.__class__.__name__}: "
                          f"{exc}); train without --resume to start over") from None
    return trainer.epoch
