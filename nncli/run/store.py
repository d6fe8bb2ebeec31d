"""Write a run, load a run, read its metrics: the only code that knows a run directory's layout
(files.py holds the primitives, checkpoint.py and resume.py the trainer state).

Writing is a session on one output path (``writing(out)``): the path is locked, leftovers of a
killed commit are recovered, the staging folder is emptied or (resuming) its checkpoint restored,
the trainer runs with periodic checkpoints, and the complete run is published with one rename.

    with store.writing(out) as writer:
        resumed_from = writer.start(trainer, resume=False)
        writer.train(trainer, handle_signals=True)
        writer.publish(cfg, network, preprocessor, history, metrics)
"""

from __future__ import annotations

import json
import platform
import shutil
import signal
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import yaml

from ..errors import ConfigError, DivergedError, Interrupted, RunDirError, UsageError
from . import checkpoint, files, resume


# ---------------------------------------------------------------- writing
class RunWriter:
    """One output path, locked: ``out`` (the run directory) and ``staging`` (where it is built)."""

    def __init__(self, out: Path):
        self.out, self.staging = out, files.staging_dir(out)

    def start(self, trainer, *, resume_from_checkpoint: bool) -> int | None:
        """Prepare the staging folder and hook periodic checkpoints into ``trainer``. Resuming, the
        checkpoint is checked and restored: returns its epoch; otherwise any old staging folder is
        removed and None is returned."""
        resumed_from = None
        if resume_from_checkpoint:
            resumed_from = resume.restore(trainer, self.out, self.staging)
        elif self.staging.is_dir() and not self.staging.is_symlink():
            shutil.rmtree(self.staging)
        elif self.staging.exists() or self.staging.is_symlink():
            self.staging.unlink()
        try:
            self.staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{self.staging}: cannot create the staging folder ({exc.strerror}); "
                             f"choose another output with --out") from None
        trainer.callbacks.insert(0, checkpoint.Periodic(self.staging, trainer.cfg.training.checkpoint_every))
        if trainer.cfg.training.snapshots:  # first: a checkpoint never runs ahead of the snapshots
            from .snapshots import SnapshotCallback

            trainer.callbacks.insert(0, SnapshotCallback(self.staging, trainer.cfg.training.snapshots))
        return resumed_from

    def train(self, trainer, *, handle_signals: bool) -> None:
        """Run the trainer. Diverged: the last good checkpoint is kept (DivergedError.checkpoint)
        or, when none was written, the empty staging folder removed. Stopped by a signal: a
        checkpoint is saved and Interrupted raised carrying it."""
        try:
            with checkpoint.stop_on_signals(trainer, handle_signals):
                trainer.run()
        except DivergedError as exc:
            if checkpoint.exists(self.staging):
                note = (f"; the last good checkpoint (epoch {checkpoint.saved_epoch(self.staging)}) "
                        f"is kept in {self.staging}")
                raise DivergedError(exc.message + note, checkpoint=self.staging, out=self.out) from None
            try:
                self.staging.rmdir()  # only when empty
            except OSError:
                pass
            raise DivergedError(exc.message + "; no checkpoint had been written, nothing was kept") from None
        if trainer.stop_signal is not None and not trainer.finished:
            checkpoint.save(trainer, self.staging)
            name = "Ctrl-C" if trainer.stop_signal == signal.SIGINT else "SIGTERM"
            where = (f"at epoch {trainer.epoch + 1}, batch {trainer.step_in_epoch}" if trainer.step_in_epoch
                     else f"after epoch {trainer.epoch}")
            raise Interrupted(f"interrupted by {name} {where}; checkpoint saved in {self.staging}",
                              trainer.stop_signal, checkpoint=self.staging, out=self.out)

    def publish(self, cfg, network, preprocessor, history, metrics: dict) -> None:
        """Write the five run files into the staging folder, then move it into place."""
        resolved = cfg.resolved()
        for key in ("path", "y_path", "validation", "test"):
            value = resolved["data"].get(key)
            if value:  # paths in a run's config.yaml are absolute: the run can move, the data cannot
                resolved["data"][key] = str(cfg.resolve_path(value).resolve())
        if resolved["model"].get("init_from"):  # likewise the run a warm start began from
            resolved["model"]["init_from"]["run"] = str(cfg.resolve_path(resolved["model"]["init_from"]["run"]).resolve())
        staging = self.staging
        files.write_text_atomic(staging / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
        files.write_bytes_atomic(staging / "weights.npz", files.npz_bytes(network.weights_dict()))
        files.write_text_atomic(staging / "preprocessing.json", json.dumps(preprocessor.to_json(), indent=2))
        files.write_text_atomic(staging / "history.csv", history.to_csv())
        files.write_text_atomic(staging / "metrics.json", json.dumps(metrics, indent=2))
        files.commit(staging, self.out)


@contextmanager
def writing(out: Path) -> Iterator[RunWriter]:
    """Hold the lock on ``out`` (LockedError if another process does) and recover what a process
    killed while publishing left, then hand over a RunWriter."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: exists and is not a directory; choose another output with --out")
    with files.locked(out):
        files.recover(out)
        yield RunWriter(out)


def train_unsaved(trainer, *, handle_signals: bool) -> None:
    """Run the trainer with nothing on disk (``out=False``); a signal stops it with Interrupted."""
    with checkpoint.stop_on_signals(trainer, handle_signals):
        trainer.run()
    if trainer.stop_signal is not None:
        raise Interrupted("training interrupted (nothing was being written)", trainer.stop_signal)


def final_metrics(cfg, trainer, splits: dict[str, Any], preprocessor, resumed_from: int | None) -> dict:
    """What metrics.json holds: the final loss and metrics of each split (``splits``: label ->
    object with .X (n, n_inputs) and .y, or None when absent), how training went (epochs, early
    stop, resumed from), and what produced it (seed, overrides, versions)."""
    from .. import __version__
    from ..training import evaluate

    net = trainer.network
    n_classes = len(preprocessor.classes) if preprocessor.task == "classification" else None
    names = ["accuracy"] if cfg.task == "classification" else ["mse", "mae", "r2"]
    names += [m for m in cfg.metrics_tracked() if m not in names]
    final = {label: evaluate(net, trainer.loss, split.X, split.y, names, n_classes)
             for label, split in splits.items() if split is not None}
    return {
        "task": preprocessor.task,
        "epochs_run": len(trainer.history),
        "epochs_configured": cfg.training.epochs,
        "stopped_early": trainer.stopped_early,
        **({"best_epoch": trainer._best_epoch} if cfg.training.early_stopping else {}),
        **({"resumed_from_epoch": resumed_from} if resumed_from is not None else {}),
        **final,
        "training_seconds": round(trainer.seconds, 6),
        "n_parameters": int(net.n_params),
        "seed": cfg.seed,
        "overrides": list(cfg.overrides),
        "versions": {"nncli": __version__, "numpy": np.__version__, "python": platform.python_version()},
    }


# ---------------------------------------------------------------- loading
@dataclass
class StoredRun:
    """A run directory's contents, each file checked against the others."""

    config: Any  # nncli.config.schema.Config
    network: Any  # nncli.nn.network.Network with the saved weights
    preprocessor: Any  # nncli.data.prepare.Preprocessor
    history: Any  # nncli.training.History
    metrics: dict
    seconds: float


def load(path: str | Path, build_network: Callable[[Any, int], Any]) -> StoredRun:
    """Load a run directory without trusting it (never executes code). ``build_network(cfg,
    n_inputs)`` makes the network config.yaml describes; weights.npz must match it array by array."""
    from ..config.schema import load_config
    from ..data.preprocess import Preprocessor
    from .checks import check_preprocessing, parse_history

    path = Path(path)
    _check_layout(path)
    try:
        cfg = load_config(path / "config.yaml")  # positioned messages; relative paths resolve against the run
    except ConfigError as exc:
        more = len(exc.messages) - 1
        raise RunDirError(exc.messages[0] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
                          + " — not a config nncli wrote; re-train to get a clean run directory") from None
    pre_path = path / "preprocessing.json"
    pre_json = files.read_json(pre_path)
    check_preprocessing(pre_json, pre_path, cfg)
    pre = Preprocessor.from_json(pre_json)
    network = build_network(cfg, pre.n_inputs)
    network.load_weights(read_weights(path / "weights.npz", network.weights_dict()))
    metrics = files.read_json(path / "metrics.json")
    seconds = metrics.get("training_seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise RunDirError(f"{path / 'metrics.json'}: training_seconds: expected a number, got {seconds!r:.40}")
    try:
        text = (path / "history.csv").read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunDirError(f"{path / 'history.csv'}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise RunDirError(f"{path / 'history.csv'}: cannot read ({exc.strerror})") from None
    history = parse_history(text, path / "history.csv")
    return StoredRun(cfg, network, pre, history, metrics, float(seconds))


def _check_layout(path: Path) -> None:
    """The folder exists and holds the five run files; a sweep folder gets a pointer to its trials."""
    if not path.exists():
        raise RunDirError(f"{path}: no such run directory; train one with: nncli train CONFIG")
    if not path.is_dir():
        raise RunDirError(f"{path}: not a directory; give the run directory that nncli train wrote")
    for f in files.RUN_FILES:
        if (path / f).exists() and not (path / f).is_file():
            raise RunDirError(f"{path / f}: is not a file; is this an nncli run directory?")
    missing = [f for f in files.RUN_FILES if not (path / f).is_file()]
    if not missing:
        return
    if (path / "sweep.json").is_file():
        best = path / "best.json"
        hint = ""
        if best.is_file():
            try:
                hint = f", e.g. the best one: {json.loads(best.read_text(encoding='utf-8'))['path']}"
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                hint = ""
        raise RunDirError(f"{path}: is a sweep folder, not a run directory; give one of its trial "
                          f"directories{hint} (see best.json and results.csv)")
    raise RunDirError(f"{path}: incomplete run directory, missing {', '.join(missing)}")


def read_weights(path: Path, expected: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """weights.npz's arrays, each with exactly the name, shape and dtype of ``expected`` (the
    network's own weights_dict()) and finite; headers are checked before any array is read."""
    headers = files.npz_headers(path)
    for key, arr in expected.items():
        if key not in headers:
            raise RunDirError(f"{path}: missing array {key!r}; it does not match config.yaml")
        shape, dtype = headers[key]
        if shape != arr.shape:
            raise RunDirError(f"{path}: {key} has shape {shape}, config.yaml says {arr.shape}")
        if dtype != arr.dtype:
            raise RunDirError(f"{path}: {key} has dtype {dtype}, config.yaml says {arr.dtype} (training.dtype)")
    extra = sorted(set(headers) - set(expected))
    if extra:
        raise RunDirError(f"{path}: unexpected arrays {', '.join(extra)}; it does not match config.yaml")
    weights = files.load_npz(path)
    for key in expected:
        if not np.all(np.isfinite(weights[key])):
            raise RunDirError(f"{path}: {key} holds NaN or infinite values")
    return weights


# ---------------------------------------------------------------- metrics
_SPLIT_PREFIX = {"train": "train_", "validation": "val_", "test": "test_"}
_RUN_FACTS = ("epochs_run", "best_epoch", "training_seconds")


def read_metrics(run_dir: Path) -> dict[str, float | int]:
    """A finished run's final metrics, flat: metrics.json's {"train": {"loss": ..}, "validation":
    {"accuracy": ..}} become train_loss, val_accuracy (the names history.csv uses), plus
    epochs_run, best_epoch and training_seconds. {} when there is no readable metrics.json."""
    try:
        raw = json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: dict[str, float | int] = {}
    if not isinstance(raw, dict):
        return out
    for key, value in raw.items():
        if key in _SPLIT_PREFIX and isinstance(value, dict):
            for name, v in value.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[_SPLIT_PREFIX[key] + name] = v
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if key in _RUN_FACTS or key.startswith(("train_", "val_", "test_")):
                out[key] = value
    return out
