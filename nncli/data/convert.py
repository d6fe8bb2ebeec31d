"""`nncli data convert`: a CSV to NumPy files, read in chunks.

- OUT.npz: arrays X (float32, n_samples × n_features), y and features (the column names), for
  data.path: OUT.npz (loaded into memory when training).
- OUT.npy: X alone, written through np.lib.format.open_memmap chunk by chunk (the CSV is never
  whole in memory), plus the targets in a second .npy (default OUT.y.npy), for
  data.path: OUT.npy with data.y_path: OUT.y.npy — opened memory-mapped when training, so the data
  may be larger than memory. Its columns are named x1..xN in the run (predict then wants those
  column names).

Both files are written under temporary names and renamed into place when complete.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .tables import read_csv_chunks
from ..errors import DataError, UsageError

CHUNK_ROWS = 10_000


def _scan(src: str, target: str, features: list[str] | None, chunk_rows: int):
    """First pass: check the columns, count the rows, learn the target's type."""
    n, target_text, integral, width, names = 0, False, True, 0, None
    for table in read_csv_chunks(src, src, chunk_rows):
        if names is None:
            table.require([target], "target", " — check --target")
            names = features if features is not None else [c for c in table.columns if c != target]
            table.require(names, "feature", " — check --features")
            if not names:
                raise DataError(f"{src}:1: no feature columns besides the target {target!r}")
        for f in names:
            col, miss = table.columns[f], table.missing[f]
            if miss.any():
                r = np.flatnonzero(miss)[0]
                raise DataError(f"{src}:{table.lines[r]}: column {f!r} is empty; fill it in before converting "
                                f"(or train from the CSV with data.missing: drop or mean)")
            if col.dtype.kind != "f":
                raise DataError(f"{src}:{table.lines[0]}: column {f!r} holds text ({col[0]!r}); data convert writes "
                                f"numbers only — train from the CSV with data.encode: onehot, or leave it out with --features")
        tcol, tmiss = table.columns[target], table.missing[target]
        if tmiss.any():
            r = np.flatnonzero(tmiss)[0]
            raise DataError(f"{src}:{table.lines[r]}: target column {target!r} is empty")
        if tcol.dtype.kind != "f":
            target_text = True
            width = max(width, int(np.char.str_len(tcol).max()))
        elif not np.all(np.mod(tcol, 1) == 0):
            integral = False
        n += table.n_rows
    return names, n, target_text, integral, width


def _y_of(table, target, target_text, integral):
    col = table.columns[target]
    if target_text:
        return col.astype(str)
    return col.astype(np.int64) if integral else col


def convert(src: str, dst: str, target: str, features: list[str] | None = None, y_out: str | None = None,
            dtype: str = "float32", chunk_rows: int = CHUNK_ROWS) -> list[Path]:
    """Convert ``src`` (CSV) to ``dst`` (.npz, or .npy plus a targets .npy). Returns the files written."""
    dst_p = Path(dst)
    suffix = dst_p.suffix.lower()
    if suffix not in (".npz", ".npy"):
        raise UsageError(f"{dst}: the output must end in .npz (X, y and feature names in one file) or .npy "
                         f"(X memory-mappable, y in a second .npy)")
    if Path(src).suffix.lower() in (".npz", ".npy"):
        raise UsageError(f"{src}: data convert reads a CSV")
    names, n, target_text, integral, width = _scan(src, target, features, chunk_rows)
    text_columns = {target} if target_text else set()
    ydtype = f"<U{max(width, 1)}" if target_text else (np.int64 if integral else np.float64)
    tmp = lambda p: p.with_name(f".{p.name}.tmp-{os.getpid()}")
    written: list[Path] = []

    def fill(X: np.ndarray, y: np.ndarray) -> None:
        """The second pass: every chunk's rows into X (n, n_features) and y (n,)."""
        s = 0
        for table in read_csv_chunks(src, src, chunk_rows, text_columns=text_columns):
            e = s + table.n_rows
            X[s:e] = np.stack([table.columns[f] for f in names], axis=1)
            y[s:e] = _y_of(table, target, target_text, integral)
            s = e

    if suffix == ".npz":
        from ..run.files import npz_bytes, write_bytes_atomic

        X = np.empty((n, len(names)), dtype)
        y = np.empty(n, ydtype)
        fill(X, y)
        write_bytes_atomic(dst_p, npz_bytes({"X": X, "y": y, "features": np.array(names)}))
        return [dst_p]
    y_p = Path(y_out) if y_out else dst_p.with_name(dst_p.stem + ".y.npy")
    if y_p.resolve() == dst_p.resolve():
        raise UsageError(f"{y_out}: the targets file must differ from the features file {dst}")
    tx, ty = tmp(dst_p), tmp(y_p)
    try:
        X = np.lib.format.open_memmap(tx, mode="w+", dtype=dtype, shape=(n, len(names)))
        del X  # a sparse file: writing through the map on a full disk would die of SIGBUS, so
        with open(tx, "r+b") as fh:  # reserve every block first (ENOSPC here is an OSError)
            try:
                os.posix_fallocate(fh.fileno(), 0, os.fstat(fh.fileno()).st_size)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, str(dst_p)) from None
            except AttributeError:  # no posix_fallocate on this platform
                pass
        X = np.lib.format.open_memmap(tx, mode="r+")
        y = np.empty(n, ydtype)  # targets are one value per row: small beside X
        fill(X, y)
        X.flush()
        del X
        buf = io.BytesIO()  # numpy's own file writes report a full disk without an errno
        np.lib.format.write_array(buf, y, allow_pickle=False)
        try:
            with open(ty, "wb") as fh:
                fh.write(buf.getbuffer())
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(y_p)) from None
        os.replace(tx, dst_p)
        os.replace(ty, y_p)
        written = [dst_p, y_p]
    finally:
        for p in (tx, ty):
            if p.exists():
                p.unlink()
    return written
