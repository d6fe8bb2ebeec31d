"""Preprocessing: raw columns -> the network's input matrix, and its outputs back to labels.

The Preprocessor (saved as JSON in the run directory, never pickle) one-hot encodes categories,
fills missing values and scales the features. Scaling has ONE implementation: SCALINGS maps each
mode (data.scaling) to offset and scale (n_inputs,) computed from column statistics, which come
either from a matrix in memory (MatrixStats) or streamed over a file in chunks (ColumnStats, as
memmap.column_stats fills them). A new mode is one entry in SCALINGS (plus its name in the config
schema's data.scaling choices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

import numpy as np

from ..errors import DataError
from .tables import Table, listing, short


@dataclass
class ColumnStats:
    """Per-column statistics (each (width,), float64) gathered in one streamed pass over the rows."""

    mean: np.ndarray
    std: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @property
    def width(self) -> int:
        return len(self.mean)


class MatrixStats:
    """The statistics of ColumnStats for a matrix X (n_samples, width) in memory, each computed only
    when a scaling mode asks for it (standardize never pays for min/max)."""

    def __init__(self, X: np.ndarray):
        self.X = X
        self.width = X.shape[1]

    @cached_property
    def mean(self) -> np.ndarray:
        # a float64 accumulator: no float64 copy of the whole data set
        return np.add.reduce(self.X, axis=0, dtype=np.float64) / max(len(self.X), 1)

    @cached_property
    def std(self) -> np.ndarray:
        X, mean = self.X, self.mean
        sq = np.zeros(self.width)
        for rows in _row_chunks(X):  # two passes, in row chunks: exact and small temporaries
            d = X[rows] - mean
            sq += np.einsum("ij,ij->j", d, d)
        return np.sqrt(sq / max(len(X), 1))

    @cached_property
    def lo(self) -> np.ndarray:
        return self.X.min(axis=0)

    @cached_property
    def hi(self) -> np.ndarray:
        return self.X.max(axis=0)


#: data.scaling mode -> (offset, scale) from column statistics; features become (x - offset) / scale.
#: A constant column keeps scale 1, so it maps to 0 instead of dividing by zero.
SCALINGS: dict[str, Callable[[Any], tuple[np.ndarray, np.ndarray]]] = {
    "standardize": lambda s: (s.mean, np.where(s.std > 0, s.std, 1.0)),
    "minmax": lambda s: (s.lo, np.where(s.hi > s.lo, s.hi - s.lo, 1.0)),
    "none": lambda s: (np.zeros(s.width), np.ones(s.width)),
}


@dataclass
class Preprocessor:
    """Everything needed to turn raw columns into network input and outputs back into labels.

    Fitted on the training part only; saved as JSON in the run directory (never pickle)."""

    task: str
    features: list[str]
    targets: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    scaling: str = "standardize"
    offset: list[float] = field(default_factory=list)
    scale: list[float] = field(default_factory=list)
    classes: list[Any] | None = None
    fill: dict[str, float] = field(default_factory=dict)  # missing: mean -> the training mean per column

    # -- encoded feature names after one-hot expansion
    @property
    def input_names(self) -> list[str]:
        names = []
        for f in self.features:
            if f in self.categories:
                names += [f"{f}={c}" for c in self.categories[f]]
            else:
                names.append(f)
        return names

    @property
    def n_inputs(self) -> int:
        return len(self.input_names)

    @property
    def n_outputs(self) -> int:
        if self.task == "classification":
            return len(self.classes or [])
        return len(self.targets)

    def encode_features(self, table: Table) -> np.ndarray:
        """Raw columns -> unscaled matrix (n_samples, n_inputs), float64 (or the dtype the data came in)."""
        table.require(self.features, "feature")
        if table.matrix is not None and not self.categories and self.features == table.matrix_names:
            _check_finite(table.matrix, table, self.features)
            return table.matrix
        X = self._matrix_columns(table)
        if X is not None:
            _check_finite(X, table, self.features)
            return X
        parts = []
        for f in self.features:
            col, miss = table.columns[f], table.missing[f]
            if f in self.categories:
                cats = self.categories[f]
                index = {c: i for i, c in enumerate(cats)}
                codes = np.fromiter((index.get(v, -1) for v in col), np.int64, len(col))
                bad = np.flatnonzero(codes < 0)
                if bad.size:
                    r = bad[0]
                    raise DataError(
                        f"{table.place(r)}: column {f!r}: category {short(col[r])!r} was not seen in training "
                        f"(known: {listing(cats)})"
                    )
                onehot = np.zeros((len(col), len(cats)))
                onehot[np.arange(len(col)), codes] = 1.0
                parts.append(onehot)
                continue
            if col.dtype.kind not in "fiu":
                r = first_non_number(col, miss)
                raise DataError(
                    f"{table.place(r)}: column {f!r} holds text ({short(col[r])!r}) but is a numeric feature; "
                    f"fix the value, or set data.encode: onehot to treat text columns as categories"
                )
            col = col.astype(np.float64)
            if miss.any():
                if f in self.fill:
                    col = np.where(miss, self.fill[f], col)
                else:
                    r = np.flatnonzero(miss)[0]
                    raise DataError(
                        f"{table.place(r)}: column {f!r} has no value (empty, NA or NaN); fill it in, "
                        f"or set data.missing: drop or mean"
                    )
            bad = np.flatnonzero(~np.isfinite(col))
            if bad.size:
                r = bad[0]
                raise DataError(f"{table.place(r)}: column {f!r} holds {col[r]} (not a finite number)")
            parts.append(col[:, None])
        return np.hstack(parts) if parts else np.empty((table.n_rows, 0))

    def _matrix_columns(self, table: Table) -> np.ndarray | None:
        """The features as columns of a float64 Table.matrix (a CSV read whole or in blocks): a
        view when they are adjacent and in order (the usual "target last" file), else one gather;
        None when a feature is not there, is one-hot, or has an empty cell (the column path)."""
        m, names = table.matrix, table.matrix_names
        if m is None or self.categories or m.dtype != np.float64 or not self.features:
            return None
        index = {n: i for i, n in enumerate(names)}
        if any(f not in index for f in self.features):
            return None
        # Columns without an empty cell often share one all-False mask (a block the fast parser
        # read): each distinct mask is looked at once, not once per column.
        masks = {id(table.missing[f]): table.missing[f] for f in self.features}
        if any(mask.any() for mask in masks.values()):
            return None
        cols = [index[f] for f in self.features]
        if cols == list(range(cols[0], cols[0] + len(cols))):
            return m[:, cols[0]:cols[0] + len(cols)]
        return m[:, cols]

    def fit_scaling(self, X: np.ndarray) -> None:
        """Fit offset and scale (n_inputs,) to the encoded training matrix X (n_samples, n_inputs)."""
        self.fit_scaling_from(MatrixStats(X))

    def fit_scaling_from(self, stats: "MatrixStats | ColumnStats") -> None:
        """Fit offset and scale from column statistics: of a matrix in memory (MatrixStats) or
        streamed over a file in chunks (ColumnStats, memmap.column_stats). The mode is SCALINGS's."""
        offset, scale = SCALINGS[self.scaling](stats)
        bad = np.flatnonzero(~(np.isfinite(offset) & np.isfinite(scale)))
        if bad.size:  # values near float64's limit: their mean or spread overflows
            name = self.input_names[bad[0]]
            raise DataError(f"column {name!r}: its values are too large to {self.scaling} (the statistics overflow "
                            f"float64); rescale the column (e.g. to other units)")
        self.offset, self.scale = offset.tolist(), scale.tolist()
        # one-hot columns are never scaled: they are already 0/1
        names = self.input_names
        for i, name in enumerate(names):
            if "=" in name and name.split("=", 1)[0] in self.categories:
                self.offset[i], self.scale[i] = 0.0, 1.0

    def scale_features(self, X: np.ndarray, dtype=np.float32, table: Table | None = None) -> np.ndarray:
        """(X - offset) / scale as a contiguous array of ``dtype``, computed in row chunks (no
        float64 copy of the data); X itself when there is nothing to do. A value that does not fit
        in ``dtype`` (1e39 as float32) is a data error naming its row (``table``'s place) and column."""
        offset, scale = np.asarray(self.offset, np.float64), np.asarray(self.scale, np.float64)
        X = np.asarray(X)
        with np.errstate(over="ignore", invalid="ignore"):
            if not offset.any() and (scale == 1).all():
                out = np.ascontiguousarray(X, dtype=dtype)
            else:
                out = np.empty(X.shape, dtype)
                for rows in _row_chunks(X):
                    np.subtract(X[rows], offset, out=out[rows], casting="same_kind")
                    np.divide(out[rows], scale, out=out[rows], casting="same_kind")
        if out.dtype.kind == "f" and out.dtype.itemsize < 8:
            _check_fits(X, out, self.input_names, table)
        return out

    def transform(self, table: Table, dtype=np.float32) -> np.ndarray:
        return self.scale_features(self.encode_features(table), dtype, table)

    def encode_targets(self, table: Table, dtype=np.float32) -> np.ndarray:
        table.require(self.targets, "target")
        if self.task == "classification":
            return self.label_indices(table.columns[self.targets[0]], table, self.targets[0])
        cols = []
        for t in self.targets:
            col = table.columns[t]
            if col.dtype.kind not in "fiu":
                r = first_non_number(col, table.missing[t])
                raise DataError(f"{table.place(r)}: target column {t!r} holds text ({short(col[r])!r}); a regression "
                                f"loss needs numbers (for class labels use cross_entropy or binary_crossentropy)")
            miss = table.missing[t] | ~np.isfinite(col)
            if miss.any():
                r = np.flatnonzero(miss)[0]
                raise DataError(f"{table.place(r)}: target column {t!r} is empty or not finite")
            if np.dtype(dtype).itemsize < 8 and np.abs(col).max() > np.finfo(dtype).max:
                r = int(np.argmax(np.abs(col) > np.finfo(dtype).max))
                raise DataError(f"{table.place(r)}: target column {t!r} holds {col[r]:g}, which does not fit in "
                                f"{np.dtype(dtype).name} (largest {np.finfo(dtype).max:.3g}); rescale the column "
                                f"or set training.dtype: float64")
            cols.append(col)
        return np.ascontiguousarray(np.stack(cols, axis=1), dtype=dtype)

    def label_indices(self, values: np.ndarray, table: Table | None = None, column: str = "target") -> np.ndarray:
        keys = [label_key(v) for v in self.classes]
        index = {k: i for i, k in enumerate(keys)}
        codes = np.fromiter((index.get(label_key(v), -1) for v in values), np.int64, len(values))
        bad = np.flatnonzero(codes < 0)
        if bad.size:
            r = bad[0]
            where = table.place(r) if table is not None else "data"
            raise DataError(f"{where}: column {column!r}: class {short(label_text(values[r]))!r} was not seen in training "
                            f"(classes: {listing(label_text(c) for c in self.classes)})")
        return codes

    def labels(self, indices: np.ndarray) -> list[Any]:
        return [self.classes[i] for i in indices]

    # -- JSON round trip
    def to_json(self) -> dict:
        return {
            "task": self.task, "features": self.features, "targets": self.targets,
            "categories": self.categories, "scaling": self.scaling, "offset": self.offset,
            "scale": self.scale, "classes": self.classes, "fill": self.fill,
        }

    @classmethod
    def from_json(cls, d: dict) -> "Preprocessor":
        return cls(**d)


def first_non_number(col: np.ndarray, miss: np.ndarray) -> int:
    """Row of the first cell of a text column that is neither missing nor a number."""
    for r in np.flatnonzero(~miss):
        try:
            float(col[r])
        except ValueError:
            return int(r)
    return 0


def _row_chunks(X: np.ndarray, target_bytes: int = 1 << 22):
    """Slices of about 4 MiB of rows: whole-array temporaries stay small."""
    step = max(1, target_bytes // max(1, X.shape[1] * 8))
    for start in range(0, len(X), step):
        yield slice(start, start + step)


def _check_fits(X: np.ndarray, out: np.ndarray, names: list[str], table: "Table | None") -> None:
    """Every scaled value ``out`` finite (X was: encode checked it), else the first one that
    overflowed the network's dtype is a data error at its row and column."""
    for rows in _row_chunks(out):
        block = out[rows]
        if not np.isfinite(block).all():
            r, c = np.argwhere(~np.isfinite(block))[0]
            r += rows.start
            where = table.place(r) if table is not None else f"row {r} (counting from 0)"
            name = names[c] if c < len(names) else f"column {c + 1}"
            raise DataError(f"{where}: column {name!r} holds {float(X[r, c]):g}, which does not fit in {out.dtype.name} "
                            f"(largest {np.finfo(out.dtype).max:.3g}) once scaled; rescale the column (e.g. to other "
                            f"units), use data.scaling: standardize, or set training.dtype: float64")


def _check_finite(X: np.ndarray, table: "Table", names: list[str]) -> None:
    """Every value of X (n, len(names)) finite, else one line naming the row's line and column."""
    for rows in _row_chunks(X):
        block = X[rows]
        if not np.isfinite(block).all():
            r, c = np.argwhere(~np.isfinite(block))[0]
            r += rows.start
            name = names[c] if c < len(names) else f"column {c + 1}"
            raise DataError(f"{table.place(r)}: column {name!r} holds {X[r, c]} (not a finite number)")


def label_key(value: Any) -> str:
    """Labels compare by their text, so 1, 1.0 and '1' are one class across CSV and JSON."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def label_text(value: Any) -> str:
    """A class label as messages and reports show it (1.0 shows as 1)."""
    return label_key(value)


def python_label(value: Any) -> Any:
    """A label as a plain Python value for preprocessing.json: int, float or str."""
    if isinstance(value, (np.floating, float)):
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    return str(value)
