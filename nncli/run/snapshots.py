"""Weights at evenly spaced epochs (`training.snapshots: N`), saved as the run's snapshots.npz.

snapshots.npz (uncompressed, no pickle; S = number of snapshots taken):

  epoch               (S,) int64    epochs completed when taken (0 = the initial weights)
  loss                (S,) float64  training loss of those weights, inference mode (no dropout)
  val_loss            (S,) float64  validation loss, when the run has validation data
  layers.{i}.weight   (S, fan_in, fan_out)   the weights, as in weights.npz, stacked
  layers.{i}.bias     (S, fan_out)

While training, each snapshot is also written on its own (atomically) into the staging directory's
``.snapshots/`` folder, so a run that is interrupted or killed and then resumed keeps the snapshots
taken before its checkpoint; writing only the new snapshot keeps the I/O linear in S. When training
ends, snapshots.npz is written from them and the folder removed; the staging directory then becomes
the run directory. Memory: the S snapshots are kept, S × parameters floats (the file's size).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from ..errors import RunDirError
from ..training import Callback
from . import files

SNAPSHOTS = "snapshots.npz"
PARTS = ".snapshots"  # one .npz per snapshot while training, in the staging directory


def snapshot_epochs(epochs: int, n: int) -> list[int]:
    """The epochs (0 = before training) at which n snapshots of an `epochs`-long run are taken.

    n ≥ 2: 0, epochs and n − 2 evenly spaced between (fewer when n > epochs + 1); n = 1: epochs."""
    if n <= 1:
        return [epochs]
    return sorted({int(round(i * epochs / (n - 1))) for i in range(n)})


class SnapshotCallback(Callback):
    """Takes the snapshots during training; writes ``staging/snapshots.npz`` when training ends."""

    def __init__(self, staging: Path, n: int):
        self.path = Path(staging) / SNAPSHOTS
        self.parts = Path(staging) / PARTS
        self.n = n
        self.rows: list[dict[str, np.ndarray]] = []  # one per snapshot: epoch, loss, [val_loss], layers.*
        self.pending: list[dict[str, np.ndarray]] = []  # taken, not yet written to `parts`

    def on_train_begin(self, trainer) -> None:
        self.due = set(snapshot_epochs(trainer.cfg.training.epochs, self.n))
        if trainer.epoch > 0 or trainer.step_in_epoch > 0:  # resumed from a checkpoint
            self._reload(trainer.epoch)
        elif 0 in self.due:
            self._take(trainer, 0)

    def on_epoch_end(self, trainer, row) -> None:
        if trainer.epoch in self.due:
            self._take(trainer, trainer.epoch)
        self._flush()

    def on_train_end(self, trainer) -> None:
        # Early stopping ended the run before its last planned snapshot: the weights the run keeps
        # (the best ones, with restore_best) are the last frame.
        if trainer.stopped_early and (not self.rows or int(self.rows[-1]["epoch"]) != trainer.epoch):
            self._take(trainer, trainer.epoch)
        if self.rows:
            files.write_bytes_atomic(self.path, files.npz_bytes(self.arrays()))
        if self.parts.is_dir():
            shutil.rmtree(self.parts)

    def _take(self, trainer, epoch: int) -> None:
        row = {"epoch": np.asarray(epoch, np.int64),
               "loss": np.asarray(trainer.evaluate(trainer.X, trainer.y)["loss"], np.float64)}
        if trainer.validation is not None:
            row["val_loss"] = np.asarray(trainer.evaluate(*trainer.validation)["loss"], np.float64)
        row.update(trainer.network.weights_dict())
        self.rows.append(row)
        self.pending.append(row)
        if epoch > 0:
            self._flush()

    def _flush(self) -> None:
        """Write the snapshots not yet on disk. The initial weights wait for the end of the first
        epoch, so a run that diverges in it leaves an empty staging folder (which is removed)."""
        if self.pending:
            self.parts.mkdir(exist_ok=True)
            for row in self.pending:
                files.write_bytes_atomic(self.parts / f"{int(row['epoch']):07d}.npz", files.npz_bytes(row))
            self.pending = []

    def arrays(self) -> dict[str, np.ndarray]:
        """The rows stacked: the layout of snapshots.npz."""
        return {key: np.stack([r[key] for r in self.rows]) for key in self.rows[0]}

    def _reload(self, resumed_at: int) -> None:
        """A resumed run: keep the snapshots of epochs up to the checkpoint (later ones are retaken),
        from snapshots.npz (training ended, then the run was interrupted) and the per-snapshot files."""
        found: dict[int, dict[str, np.ndarray]] = {}
        try:
            if self.path.is_file():
                arrays = files.load_npz(self.path)
                for i, e in enumerate(arrays["epoch"]):
                    found[int(e)] = {k: v[i] for k, v in arrays.items()}
            for part in sorted(self.parts.glob("*.npz")) if self.parts.is_dir() else []:
                row = files.load_npz(part)
                found[int(row["epoch"])] = row
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise RunDirError(f"{self.parts}: damaged snapshot files ({exc}); train without --resume to start "
                              f"over") from None
        self.rows = [found[e] for e in sorted(found) if e <= resumed_at]


def load_snapshots(run_dir: str | Path, network) -> dict[str, np.ndarray] | None:
    """The run's snapshots.npz checked against its network, or None when the run has none.

    Returns the arrays described in the module docstring."""
    path = Path(run_dir) / SNAPSHOTS
    if not path.exists():
        return None
    headers = files.npz_headers(path)
    if "epoch" not in headers or "loss" not in headers:
        raise RunDirError(f"{path}: missing the epoch or loss array; not an nncli snapshots file (re-train the run)")
    s = headers["epoch"][0]
    if len(s) != 1 or s[0] < 1:
        raise RunDirError(f"{path}: epoch has shape {s}, expected (S,) with S ≥ 1; re-train the run")
    for key, arr in network.weights_dict().items():
        if key not in headers:
            raise RunDirError(f"{path}: missing array {key!r}; it does not match config.yaml (re-train the run)")
        want = (s[0],) + arr.shape
        if headers[key][0] != want:
            raise RunDirError(f"{path}: {key} has shape {headers[key][0]}, config.yaml needs {want}; re-train the run")
    for key in ("loss", "val_loss"):
        if key in headers and headers[key][0] != s:
            raise RunDirError(f"{path}: {key} has shape {headers[key][0]}, expected {s}; re-train the run")
    arrays = files.load_npz(path)
    for key, arr in arrays.items():
        if key.startswith("layers.") and not np.all(np.isfinite(arr)):
            raise RunDirError(f"{path}: {key} holds NaN or infinite values; re-train the run")
    return arrays
