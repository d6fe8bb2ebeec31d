"""`nncli data convert`: a CSV to NumPy files, read once, in blocks of bytes (tables.read_csv_chunks).

- OUT.npz: arrays X (float32, n_samples × n_features), y, features (the column names) and target
  (the target column's name, one string), for data.path: OUT.npz (loaded into memory when training).
- OUT.npy: X alone, its rows written to the file block by block as they are read (the CSV is
  never whole in memory; the header, with the row count, is written last), plus the targets in a second .npy (default OUT.y.npy), for
  data.path: OUT.npy with data.y_path: OUT.y.npy — opened memory-mapped when training, so the data
  may be larger than memory. The column and target names go beside them in OUT.names.json
  ({"features": [...], "target": "..."}; JSON, not a pickled array), so a run trained from either
  form names its features and target as the CSV did, and predicts on that CSV.

Both files are written under temporary names and renamed into place when complete.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np

from .preprocess import first_non_number as _first_text
from .csvread import read_csv_chunks
from ..errors import DataError, UsageError

#: Bytes of the .npy header written before the rows (its shape is filled in at the end): numpy
#: reads any header length; 128 keeps the rows 64-byte aligned, as numpy's own files are.
_NPY_HEADER = 128


def names_path(npy: Path) -> Path:
    """The names file beside an .npy of features: data.npy -> data.names.json."""
    return npy.with_name(npy.stem + ".names.json")


def stored_names(path: Path, width: int | None = None) -> tuple[list[str] | None, str | None]:
    """The feature and target names nncli data convert kept with ``path``: for an .npz its arrays
    'features' and 'target', for an .npy its names file. (None, None) for files without them
    (saved by other tools); names that do not fit (``width`` columns) are a one-line DataError."""
    features = target = None
    if path.suffix.lower() == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if "target" in z.files and z["target"].ndim == 1 and z["target"].size == 1 and z["target"].dtype.kind == "U":
                target = str(z["target"][0])
        return None, target
    side = names_path(path)
    if not side.is_file():
        return None, None
    try:
        doc = json.loads(side.read_text(encoding="utf-8"))
        features, target = doc["features"], doc.get("target")
        ok = (isinstance(features, list) and all(isinstance(f, str) for f in features)
              and (target is None or isinstance(target, str)))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise DataError(f"{side}: not a names file of nncli data convert ({{\"features\": [names], \"target\": name}}); "
                        f"fix or delete it")
    if width is not None and len(features) != width:
        raise DataError(f"{side}: names {len(features)} features but {path} has {width} columns; "
                        f"convert the CSV again or delete the names file")
    return features, target


class _Restart(Exception):
    """The target column turned out to be text after numeric blocks: convert reads again, as text."""


def _rows(src: str, target: str, features: list[str] | None, text_target: bool):
    """(feature names, X block (k, n_features) float64, y block (k,), lines) per block of the CSV,
    every cell checked: no empty feature or target, no text feature."""
    names = None
    numeric_target_seen = False
    for table in read_csv_chunks(src, src, text_columns={target} if text_target else set()):
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
                r = _first_text(col, miss)
                raise DataError(f"{src}:{table.lines[r]}: column {f!r} holds text ({str(col[r])!r}); data convert writes "
                                f"numbers only — train from the CSV with data.encode: onehot, or leave it out with --features")
        tcol, tmiss = table.columns[target], table.missing[target]
        if tmiss.any():
            r = np.flatnonzero(tmiss)[0]
            raise DataError(f"{src}:{table.lines[r]}: target column {target!r} is empty")
        if tcol.dtype.kind != "f" and not text_target:
            if numeric_target_seen:
                raise _Restart()
            text_target = True  # text from the first block on: the rest is read as text too
        numeric_target_seen = numeric_target_seen or tcol.dtype.kind == "f"
        X = _matrix_view(table, names)
        if X is None:
            X = np.stack([table.columns[f] for f in names], axis=1)
        yield names, X, (tcol.astype(str) if text_target else tcol)


def _matrix_view(table, names: list[str]) -> np.ndarray | None:
    """The columns ``names`` as a view of the block's float64 matrix when they sit side by side in
    it (the usual file: features, then the target), so no block is copied before it is appended."""
    m, have = table.matrix, table.matrix_names
    if m is None or not names or names[0] not in have:
        return None
    i = have.index(names[0])
    return m[:, i:i + len(names)] if have[i:i + len(names)] == names else None


class _Growing:
    """Rows appended to one array grown in place (realloc, no copy of what is there)."""

    def __init__(self, width: int | None, dtype):
        self.a = np.empty((0,) if width is None else (0, width), dtype)
        self.n = 0

    def add(self, rows: np.ndarray) -> None:
        k = len(rows)
        if self.n + k > len(self.a):
            if self.a.dtype.kind == "U" and rows.dtype.itemsize > self.a.dtype.itemsize:
                self.a = self.a.astype(rows.dtype)
            self.a.resize((max(self.n + k, int(len(self.a) * 1.25) + 1024),) + self.a.shape[1:], refcheck=False)
        elif self.a.dtype.kind == "U" and rows.dtype.itemsize > self.a.dtype.itemsize:
            self.a = self.a.astype(rows.dtype)
        self.a[self.n:self.n + k] = rows
        self.n += k

    def done(self) -> np.ndarray:
        self.a.resize((self.n,) + self.a.shape[1:], refcheck=False)
        return self.a


def _targets(y: np.ndarray) -> np.ndarray:
    """The targets as written: text, int64 when every value is whole, else float64."""
    if y.dtype.kind == "U":
        return y
    return y.astype(np.int64) if np.all(np.mod(y, 1) == 0) else y


def convert(src: str, dst: str, target: str, features: list[str] | None = None, y_out: str | None = None,
            dtype: str = "float32") -> list[Path]:
    """Convert ``src`` (CSV) to ``dst`` (.npz, or .npy plus a targets .npy), reading it once.
    Returns the files written."""
    dst_p = Path(dst)
    suffix = dst_p.suffix.lower()
    if suffix not in (".npz", ".npy"):
        raise UsageError(f"{dst}: the output must end in .npz (X, y and feature names in one file) or .npy "
                         f"(X memory-mappable, y in a second .npy)")
    if Path(src).suffix.lower() in (".npz", ".npy"):
        raise UsageError(f"{src}: data convert reads a CSV")
    tmp = lambda p: p.with_name(f".{p.name}.tmp-{os.getpid()}")
    dtype = np.dtype(dtype)
    if suffix == ".npz":
        from ..run.files import npz_bytes, write_bytes_atomic

        for text_target in (False, True):  # again, the target as text, if it turned text after numbers
            X = y = names = None
            try:
                for names, Xb, yb in _rows(src, target, features, text_target):
                    if X is None:
                        X, y = _Growing(len(names), dtype), _Growing(None, yb.dtype)
                    X.add(Xb)
                    y.add(yb)
                break
            except _Restart:
                continue
        X, y = X.done(), _targets(y.done())
        write_bytes_atomic(dst_p, npz_bytes({"X": X, "y": y, "features": np.array(names),
                                             "target": np.array([target])}))
        return [dst_p]
    y_p = Path(y_out) if y_out else dst_p.with_name(dst_p.stem + ".y.npy")
    if y_p.resolve() == dst_p.resolve():
        raise UsageError(f"{y_out}: the targets file must differ from the features file {dst}")
    n_p = names_path(dst_p)
    tx, ty, tn = tmp(dst_p), tmp(y_p), tmp(n_p)
    try:
        with open(tx, "wb") as fh:  # the rows go straight to disk; the header is written last
            for text_target in (False, True):  # again, the target as text, if it turned text after numbers
                fh.seek(0)
                fh.truncate()
                fh.write(b"\0" * _NPY_HEADER)
                n, width, y = 0, 0, None
                try:
                    for names, Xb, yb in _rows(src, target, features, text_target):
                        if y is None:
                            y, width = _Growing(None, yb.dtype), len(names)
                        fh.write(np.ascontiguousarray(Xb, dtype=dtype).tobytes())
                        y.add(yb)
                        n += len(Xb)
                    break
                except _Restart:
                    continue
            fh.seek(0)
            fh.write(_npy_header(dtype, (n, width)))
            fh.flush()
            os.fsync(fh.fileno())
        buf = io.BytesIO()  # numpy's own file writes report a full disk without an errno
        np.lib.format.write_array(buf, _targets(y.done()), allow_pickle=False)
        with open(ty, "wb") as fh:
            fh.write(buf.getbuffer())
        tn.write_text(json.dumps({"features": names, "target": target}, indent=1) + "\n", encoding="utf-8")
        os.replace(tx, dst_p)
        os.replace(ty, y_p)
        os.replace(tn, n_p)
        return [dst_p, y_p, n_p]
    except OSError as exc:  # a failed write names no file: name it (a full disk is one line)
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(dst_p)) from None
        raise
    finally:
        for p in (tx, ty, tn):
            if p.exists():
                p.unlink()


def _npy_header(dtype: np.dtype, shape: tuple[int, int]) -> bytes:
    """An .npy version 1.0 header of exactly _NPY_HEADER bytes for a C-order array."""
    d = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (np.lib.format.dtype_to_descr(dtype), shape)
    head = d.encode("latin1")
    pad = _NPY_HEADER - len(np.lib.format.MAGIC_PREFIX) - 2 - 2 - len(head) - 1
    return np.lib.format.magic(1, 0) + len(head + b" " * pad + b"\n").to_bytes(2, "little") + head + b" " * pad + b"\n"
