"""Data in: readers (CSV, .npy, .npz, built-in generators), seeded splits, and the preprocessing
state that travels with a run (feature names, one-hot categories, scaling, class labels).

Shapes: X is (n_samples, n_features); classification y is integer class indices (n_samples,);
regression y is (n_samples, n_targets). Everything the network sees is float32 unless configured.
"""

from __future__ import annotations

import csv
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..seeding import Stream, rng as seeded_rng

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
MAX_FIELD = 1 << 20


# ---------------------------------------------------------------- tables
@dataclass
class Table:
    """Columns read from a file: name -> 1-D array (float64 for numeric columns, str objects as a
    numpy unicode array for text). ``missing`` marks empty cells; ``lines`` maps row index -> file
    line number (for messages); ``path`` is shown in messages."""

    path: str
    columns: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]
    lines: np.ndarray
    #: Data that arrived as one numeric array (in-memory arrays, .npz, generators) keeps it here, so
    #: encoding is no copy at all instead of one column at a time: ``columns`` are views into it.
    matrix: np.ndarray | None = None
    matrix_names: list[str] | None = None

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def require(self, names: list[str], what: str, hint: str = "") -> None:
        absent = [n for n in names if n not in self.columns]
        if absent:
            from ..config.yamlsource import did_you_mean

            parts = []
            for n in absent:
                guess = did_you_mean(n, list(self.columns))
                parts.append(f"{n!r}" + (f" (did you mean {guess!r}?)" if guess else ""))
            raise DataError(
                f"{self.path}:1: {what} column{'s' if len(absent) > 1 else ''} {', '.join(parts)} not in the header "
                f"(columns: {', '.join(self.columns)}){hint}"
            )

    def take(self, rows: np.ndarray) -> "Table":
        if len(rows) == self.n_rows and (len(rows) == 0 or (rows[0] == 0 and rows[-1] == self.n_rows - 1
                                                            and bool(np.all(np.diff(rows) == 1)))):
            return self  # every row in order (no split): no copy of the data
        if self.matrix is not None:
            matrix = self.matrix[rows]
            index = {name: i for i, name in enumerate(self.matrix_names)}
            columns = {k: (matrix[:, index[k]] if k in index else v[rows]) for k, v in self.columns.items()}
            return Table(self.path, columns, {k: v[rows] for k, v in self.missing.items()}, self.lines[rows],
                         matrix, self.matrix_names)
        return Table(self.path, {k: v[rows] for k, v in self.columns.items()},
                     {k: v[rows] for k, v in self.missing.items()}, self.lines[rows])


def _check_readable_file(path: Path, display: str) -> None:
    if not path.exists():
        raise DataError(f"{display}: file not found (looked for {path.resolve()}); check the path")
    if path.is_dir():
        raise DataError(f"{display}: is a directory, not a data file")
    if not os.access(path, os.R_OK):
        raise DataError(f"{display}: cannot read the file (permission denied)")


def read_csv(path: str | Path, display: str | None = None, delimiter: str = ",") -> Table:
    """Read a CSV with a header row. Numeric columns become float64; others stay text."""
    path = Path(path)
    display = display or str(path)
    _check_readable_file(path, display)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            return read_csv_stream(fh, display, delimiter)
    except UnicodeDecodeError as exc:
        raise DataError(f"{display}: not a UTF-8 text file ({exc.reason} at byte {exc.start}); is it a CSV?") from None
    except OSError as exc:
        raise DataError(f"{display}: cannot read: {exc.strerror}") from None


def read_csv_stream(fh, display: str, delimiter: str = ",") -> Table:
    """Parse CSV text from an open text stream (a file, or stdin for `-`)."""
    for table in _csv_tables(fh, display, delimiter, chunk_rows=None):
        return table
    raise DataError(f"{display}: has a header but no data rows")


def read_csv_chunks(source, display: str | None = None, chunk_rows: int = 10_000, delimiter: str = ",",
                    text_columns: frozenset[str] | set[str] = frozenset()):
    """Yield Tables of at most ``chunk_rows`` rows each, so memory does not grow with the file.

    ``source`` is a path, or an open text stream (stdin). Line numbers count from the file's
    start in every chunk. ``text_columns`` stay text even when a chunk's cells all look numeric
    (one-hot columns whose categories are digits). Errors in a later chunk are raised when that
    chunk is read, after the earlier chunks were yielded."""
    if hasattr(source, "read"):
        yield from _csv_tables(source, display or "<stdin>", delimiter, chunk_rows, text_columns)
        return
    path = Path(source)
    display = display or str(path)
    _check_readable_file(path, display)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            yield from _csv_tables(fh, display, delimiter, chunk_rows, text_columns)
    except UnicodeDecodeError as exc:
        raise DataError(f"{display}: not a UTF-8 text file ({exc.reason} at byte {exc.start}); is it a CSV?") from None
    except OSError as exc:
        raise DataError(f"{display}: cannot read: {exc.strerror}") from None


def _csv_tables(fh, display: str, delimiter: str, chunk_rows: int | None, text_columns=frozenset()):
    """The one CSV parser: header checks, then Tables of ``chunk_rows`` rows (None: all in one)."""
    csv.field_size_limit(MAX_FIELD)
    try:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError(f"{display}: the file is empty; expected a header row and data rows") from None
        if "\x00" in ",".join(header):
            raise DataError(f"{display}:1: holds a NUL byte; this is not a text CSV (a binary or damaged file?)")
        header = [h.strip() for h in header]
        if not any(header):
            raise DataError(f"{display}:1: the header row is empty")
        seen: set[str] = set()
        for i, name in enumerate(header):
            if not name:
                raise DataError(f"{display}:1: column {i + 1} has no name in the header")
            if name in seen:
                raise DataError(f"{display}:1: column name {name!r} appears twice in the header")
            seen.add(name)
        rows: list[list[str]] = []
        lines: list[int] = []
        width = len(header)
        any_rows = False
        end = reader.line_num  # the line the previous record ended on
        for row in reader:
            start, line = end + 1, reader.line_num
            end = line
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if "\x00" in ",".join(row):  # NumPy would silently drop trailing NULs of a cell
                raise DataError(f"{display}:{line}: holds a NUL byte; this is not a text CSV (a binary or damaged file?)")
            if len(row) != width:
                if line > start and any("\n" in f or "\r" in f for f in row):
                    raise DataError(
                        f"{display}:{start}: a quoted field runs on to line {line}; close the quote "
                        f"(row has {len(row)} fields, the header {width})"
                    )
                raise DataError(
                    f"{display}:{line}: row has {len(row)} fields but the header has {width}; "
                    f"fix the row (a stray or missing delimiter?)"
                )
            rows.append(row)
            lines.append(line)
            if chunk_rows is not None and len(rows) >= chunk_rows:
                any_rows = True
                yield _table_from_rows(display, header, rows, lines, text_columns)
                rows, lines = [], []
    except csv.Error as exc:
        raise DataError(f"{display}: malformed CSV: {exc}") from None
    if rows:
        yield _table_from_rows(display, header, rows, lines, text_columns)
    elif not any_rows:
        raise DataError(f"{display}: has a header but no data rows")


def _table_from_rows(display: str, header: list[str], rows: list[list[str]], lines: list[int],
                     text_columns=frozenset()) -> Table:
    width = len(header)
    text = np.array(rows, dtype=str).reshape(len(rows), width)
    columns: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        col = np.char.strip(text[:, j])
        miss = np.isin(np.char.lower(col), list(MISSING_TOKENS))
        try:
            if name in text_columns:
                raise ValueError(name)
            columns[name] = np.where(miss, "nan", col).astype(np.float64)
        except ValueError:
            columns[name] = col
        missing[name] = miss
    return Table(display, columns, missing, np.asarray(lines, dtype=np.int64))


# ---------------------------------------------------------------- preprocessing
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
            _check_finite(table.matrix, table)
            return table.matrix
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
                        f"{table.path}:{table.lines[r]}: column {f!r}: category {str(col[r])!r} was not seen in training "
                        f"(known: {', '.join(cats)})"
                    )
                onehot = np.zeros((len(col), len(cats)))
                onehot[np.arange(len(col)), codes] = 1.0
                parts.append(onehot)
                continue
            if col.dtype.kind not in "fiu":
                r = _first_non_number(col, miss)
                raise DataError(
                    f"{table.path}:{table.lines[r]}: column {f!r} holds text ({str(col[r])!r}) but is a numeric feature; "
                    f"fix the value, or set data.encode: onehot to treat text columns as categories"
                )
            col = col.astype(np.float64)
            if miss.any():
                if f in self.fill:
                    col = np.where(miss, self.fill[f], col)
                else:
                    r = np.flatnonzero(miss)[0]
                    raise DataError(
                        f"{table.path}:{table.lines[r]}: column {f!r} has no value (empty, NA or NaN); fill it in, "
                        f"or set data.missing: drop or mean"
                    )
            bad = np.flatnonzero(~np.isfinite(col))
            if bad.size:
                r = bad[0]
                raise DataError(f"{table.path}:{table.lines[r]}: column {f!r} holds {col[r]} (not a finite number)")
            parts.append(col[:, None])
        return np.hstack(parts) if parts else np.empty((table.n_rows, 0))

    def fit_scaling(self, X: np.ndarray) -> None:
        n = X.shape[1]
        if self.scaling == "standardize":
            # float64 accumulators, in row chunks: no float64 copy of the whole data set
            mean = np.add.reduce(X, axis=0, dtype=np.float64) / max(len(X), 1)
            sq = np.zeros(n)
            for rows in _row_chunks(X):
                d = X[rows] - mean
                sq += np.einsum("ij,ij->j", d, d)
            std = np.sqrt(sq / max(len(X), 1))
            self.offset, self.scale = mean.tolist(), np.where(std > 0, std, 1.0).tolist()
        elif self.scaling == "minmax":
            lo, hi = X.min(axis=0), X.max(axis=0)
            self.offset, self.scale = lo.tolist(), np.where(hi > lo, hi - lo, 1.0).tolist()
        else:
            self.offset, self.scale = [0.0] * n, [1.0] * n
        # one-hot columns are never scaled: they are already 0/1
        names = self.input_names
        for i, name in enumerate(names):
            if "=" in name and name.split("=", 1)[0] in self.categories:
                self.offset[i], self.scale[i] = 0.0, 1.0

    def scale_features(self, X: np.ndarray, dtype=np.float32) -> np.ndarray:
        """(X - offset) / scale as a contiguous array of ``dtype``, computed in row chunks (no
        float64 copy of the data); X itself when there is nothing to do."""
        offset, scale = np.asarray(self.offset, np.float64), np.asarray(self.scale, np.float64)
        X = np.asarray(X)
        if not offset.any() and (scale == 1).all():
            return np.ascontiguousarray(X, dtype=dtype)
        out = np.empty(X.shape, dtype)
        for rows in _row_chunks(X):
            np.subtract(X[rows], offset, out=out[rows], casting="same_kind")
            np.divide(out[rows], scale, out=out[rows], casting="same_kind")
        return out

    def transform(self, table: Table, dtype=np.float32) -> np.ndarray:
        return self.scale_features(self.encode_features(table), dtype)

    def encode_targets(self, table: Table, dtype=np.float32) -> np.ndarray:
        table.require(self.targets, "target")
        if self.task == "classification":
            return self.label_indices(table.columns[self.targets[0]], table, self.targets[0])
        cols = []
        for t in self.targets:
            col = table.columns[t]
            if col.dtype.kind not in "fiu":
                raise DataError(f"{table.path}:{table.lines[0]}: target column {t!r} holds text; a regression "
                                f"loss needs numbers (for class labels use cross_entropy or binary_crossentropy)")
            miss = table.missing[t] | ~np.isfinite(col)
            if miss.any():
                r = np.flatnonzero(miss)[0]
                raise DataError(f"{table.path}:{table.lines[r]}: target column {t!r} is empty or not finite")
            cols.append(col)
        return np.ascontiguousarray(np.stack(cols, axis=1), dtype=dtype)

    def label_indices(self, values: np.ndarray, table: Table | None = None, column: str = "target") -> np.ndarray:
        keys = [_label_key(v) for v in self.classes]
        index = {k: i for i, k in enumerate(keys)}
        codes = np.fromiter((index.get(_label_key(v), -1) for v in values), np.int64, len(values))
        bad = np.flatnonzero(codes < 0)
        if bad.size:
            r = bad[0]
            where = f"{table.path}:{table.lines[r]}" if table is not None else "data"
            raise DataError(f"{where}: column {column!r}: class {_label_text(values[r])!r} was not seen in training "
                            f"(classes: {', '.join(_label_text(c) for c in self.classes)})")
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


def _first_non_number(col: np.ndarray, miss: np.ndarray) -> int:
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


def _check_finite(X: np.ndarray, table: "Table") -> None:
    for rows in _row_chunks(X):
        block = X[rows]
        if not np.isfinite(block).all():
            r, c = np.argwhere(~np.isfinite(block))[0]
            r += rows.start
            name = table.matrix_names[c] if table.matrix_names else f"column {c + 1}"
            raise DataError(f"{table.path}:{table.lines[r]}: column {name!r} holds {X[r, c]} (not a finite number)")


def _label_key(value: Any) -> str:
    """Labels compare by their text, so 1, 1.0 and '1' are one class across CSV and JSON."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _label_text(value: Any) -> str:
    return _label_key(value)


def _python_label(value: Any) -> Any:
    if isinstance(value, (np.floating, float)):
        return int(value) if float(value).is_integer() else float(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    return str(value)


# ---------------------------------------------------------------- splits
def split_indices(n: int, fractions: list[float], rng: np.random.Generator, labels: np.ndarray | None = None) -> list[np.ndarray]:
    """Split range(n) into len(fractions)+1 parts: [rest, part1, part2...] with the given fractions.

    Seeded and, when labels are given, stratified: each class is split in the same proportions."""
    groups = [np.arange(n)] if labels is None else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for g in groups:
        g = rng.permutation(g)
        start = 0
        for i, frac in enumerate(fractions, start=1):
            count = int(round(frac * len(g)))
            parts[i].append(g[start:start + count])
            start += count
        parts[0].append(g[start:])
    return [np.sort(np.concatenate(p)) if p else np.empty(0, np.int64) for p in parts]


# ---------------------------------------------------------------- the prepared data set
@dataclass
class Split:
    X: np.ndarray
    y: np.ndarray


@dataclass
class PreparedData:
    preprocessor: Preprocessor
    train: Split
    validation: Split | None = None
    test: Split | None = None
    source: str = ""


def prepare(cfg, data: tuple[np.ndarray, np.ndarray] | None = None, fitted: Preprocessor | None = None) -> PreparedData:
    """Read the configured data (or the given arrays), split it and fit the preprocessing.

    ``fitted``: reuse that preprocessor's features, categories, fill values and scaling instead of
    fitting them (warm start from another run, model.init_from); targets and classes still come
    from this data."""
    dcfg = cfg.data
    dtype = np.dtype(cfg.training.dtype)
    if data is not None:
        X, y = data
        table = _arrays_table(np.asarray(X), np.asarray(y), "<arrays>", cfg)
    elif dcfg.generator is not None:
        from . import generators

        X, y = generators.generate(dcfg.generator, seeded_rng(cfg.seed, Stream.GENERATOR))
        spec = generators.get(dcfg.generator.name)
        table = _arrays_table(X, y, f"generator {dcfg.generator.name}", cfg, spec.feature_names(dcfg.generator))
    elif dcfg.path is not None:
        if dcfg.y_path is not None and cfg.resolve_path(dcfg.path).suffix.lower() == ".npy":
            from .memmap import prepare_memmap  # memory-mapped: X never loaded whole

            return prepare_memmap(cfg, fitted)
        table = load_file(cfg, dcfg.path)
    else:
        raise DataError(f"{cfg.where('data')}: data: no data given; set data.path to a file or data.generator "
                        f"to a built-in dataset (xor, line, linear, sine, spirals, moons, circles, blobs)")
    targets = _targets(cfg, table)
    features = dcfg.features if dcfg.features is not None else [c for c in table.columns if c not in targets]
    if fitted is not None:
        features = _fitted_features(cfg, fitted, features)
    _require_columns(cfg, table, [(targets, "target"), (features, "features")])
    if not features:
        raise DataError(f"{table.path}: no feature columns left after removing the target {targets}")

    if dcfg.missing == "drop":
        keep = ~np.any([table.missing[c] for c in features + targets], axis=0)
        table = table.take(np.flatnonzero(keep))
        if table.n_rows == 0:
            raise DataError(f"{table.path}: every row has an empty cell; nothing left after data.missing: drop")

    task = cfg.task
    pre = Preprocessor(task=task, features=list(features), targets=list(targets), scaling=dcfg.scaling)
    labels = None
    if task == "classification":
        if len(targets) != 1:
            raise DataError(f"{cfg.where('data', 'target')}: data.target: classification takes one target column, got {len(targets)}")
        tcol = table.columns[targets[0]]
        tmiss = table.missing[targets[0]]
        if tmiss.any():
            r = np.flatnonzero(tmiss)[0]
            raise DataError(f"{table.path}:{table.lines[r]}: target column {targets[0]!r} is empty")
        uniq = np.unique(tcol)
        pre.classes = [_python_label(v) for v in uniq]
        labels = pre.label_indices(tcol)
        if len(uniq) < 2:
            raise DataError(f"{table.path}: target column {targets[0]!r} has only one class ({_label_text(uniq[0])}); "
                            f"classification needs at least two")
    # splits: separate files win over fractions
    fractions = [0.0 if dcfg.validation else dcfg.validation_split, 0.0 if dcfg.test else dcfg.test_split]
    train_rows, val_rows, test_rows = split_indices(table.n_rows, fractions, seeded_rng(cfg.seed, Stream.SPLIT), labels)
    if len(train_rows) == 0:
        raise DataError(f"{table.path}: no rows left for training after the validation/test split")
    train_t = table.take(train_rows)
    # categories and fill values come from the training part only
    for f in features if fitted is None else ():
        col = train_t.columns[f]
        if col.dtype.kind not in "fiu" and dcfg.encode == "onehot":
            pre.categories[f] = sorted(set(col[~train_t.missing[f]].tolist()))
        elif col.dtype.kind in "fiu" and dcfg.missing == "mean" and table.missing[f].any():
            vals = col[~train_t.missing[f]]
            pre.fill[f] = float(vals.mean()) if vals.size else 0.0
    if fitted is not None:
        pre.categories, pre.fill, pre.scaling = dict(fitted.categories), dict(fitted.fill), fitted.scaling
    X_raw = pre.encode_features(train_t)
    if fitted is None:
        pre.fit_scaling(X_raw)
    else:
        pre.offset, pre.scale = list(fitted.offset), list(fitted.scale)
    train = Split(pre.scale_features(X_raw, dtype), _targets_of(pre, train_t, labels, train_rows, dtype))

    def part(rows, path):
        if path is not None:
            return file_split(cfg, pre, path, dtype)
        if len(rows) == 0:
            return None
        t = table.take(rows)
        return Split(pre.transform(t, dtype), _targets_of(pre, t, labels, rows, dtype))

    return PreparedData(pre, train, part(val_rows, dcfg.validation), part(test_rows, dcfg.test), table.path)


def _fitted_features(cfg, fitted: Preprocessor, features: list[str]) -> list[str]:
    """The features of a reused preprocessing; data.features, when given, must name the same."""
    if cfg.data.features is not None and list(cfg.data.features) != list(fitted.features):
        raise DataError(f"{cfg.where('data', 'features')}: data.features: the run in model.init_from was trained on "
                        f"{', '.join(fitted.features)}; list the same features in that order, or set "
                        f"model.init_from.preprocessing: refit")
    return list(fitted.features)


def file_split(cfg, pre: Preprocessor, path: str, dtype) -> Split:
    """A separate validation or test file (data.validation, data.test) through the fitted preprocessing."""
    t = load_file(cfg, path)
    return Split(pre.transform(t, dtype), pre.encode_targets(t, dtype))


def _require_columns(cfg, table: Table, wanted: list[tuple[list[str], str]]) -> None:
    """Columns named in the config must be in the data: point at the config's line, suggest a name.

    ``wanted`` pairs column names with their key in data (target, features); every absent column
    is reported at once."""
    from ..config.yamlsource import did_you_mean, dotted

    lines = []
    for names, key in wanted:
        given = getattr(cfg.data, key)
        if given is None:
            table.require(names, "target" if key == "target" else "feature")
            continue
        for i, n in enumerate(names):
            if n in table.columns:
                continue
            path = ("data", key) if isinstance(given, str) else ("data", key, i)
            guess = did_you_mean(n, list(table.columns))
            lines.append(f"{cfg.where(*path)}: {dotted(path)}: no column {n!r} in {table.path}"
                         + (f" — did you mean {guess!r}?" if guess else "") + f" (columns: {', '.join(table.columns)})")
    if lines:
        raise DataError("\n".join(lines))


def _missing_data_file(cfg, path: str, resolved: Path) -> None:
    """A data file named in the config does not exist: point at its key, show the path tried."""
    if resolved.exists():
        return
    key = next((k for k in ("path", "y_path", "validation", "test") if getattr(cfg.data, k) == path), "path")
    how = ""
    if not Path(path).expanduser().is_absolute():
        how = (" (a relative path is resolved against the config file's folder)" if cfg.source_path != "<config>"
               else f" (a relative path is resolved against {cfg.base_dir.resolve()})")
    raise DataError(f"{cfg.where('data', key)}: data.{key}: file not found: {resolved.resolve()}{how}")


def _targets_of(pre, table, labels, rows, dtype):
    if pre.task == "classification":
        return labels[rows]
    return pre.encode_targets(table, dtype)


def _targets(cfg, table: Table) -> list[str]:
    t = cfg.data.target
    if t is None:
        if "y" in table.columns and (table.path.startswith(("<", "generator")) or table.path.endswith((".npz", ".npy"))):
            return ["y"]
        raise DataError(f"{cfg.where('data')}: data.target: name the target column (columns: {', '.join(table.columns)})")
    return [t] if isinstance(t, str) else list(t)


def _arrays_table(X: np.ndarray, y: np.ndarray, path: str, cfg, names: list[str] | None = None) -> Table:
    """Wrap in-memory arrays as a Table so they take the same path as file data."""
    if X.ndim != 2:
        raise DataError(f"{path}: X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if len(y) != len(X):
        raise DataError(f"{path}: X has {len(X)} rows but y has {len(y)}")
    names = names or [f"x{i + 1}" for i in range(X.shape[1])]
    cols = {n: X[:, i] for i, n in enumerate(names)}
    y2 = y.reshape(len(y), -1) if y.ndim > 1 else y[:, None]
    tnames = ["y"] if y2.shape[1] == 1 else [f"y{i + 1}" for i in range(y2.shape[1])]
    if isinstance(cfg.data.target, str) and y2.shape[1] == 1:
        tnames = [cfg.data.target]
    elif isinstance(cfg.data.target, list) and len(cfg.data.target) == y2.shape[1]:
        tnames = list(cfg.data.target)
    for i, n in enumerate(tnames):
        cols[n] = y2[:, i]
    none_missing = np.zeros(len(X), bool)  # arrays have no empty cells: one mask shared by all columns
    missing = {n: none_missing for n in cols}
    return Table(path, cols, missing, np.arange(2, len(X) + 2), X, list(names))


def load_file(cfg, path: str) -> Table:
    """Read a data file named in the config (CSV, .npz or .npy)."""
    resolved = cfg.resolve_path(path)
    _missing_data_file(cfg, path, resolved)
    display = str(path) if Path(path).is_absolute() else str(Path(path))
    if cfg.source_path not in ("<config>",) and not Path(path).is_absolute():
        display = str(resolved)
    suffix = resolved.suffix.lower()
    if suffix in (".npz", ".npy"):
        return _read_numpy(cfg, resolved, display)
    return read_csv(resolved, display)


def read_npz_xy(path: Path, display: str) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Arrays X and y of an .npz data file, and its column names (array 'features', as nncli data
    convert writes it) or None. Shared by training (data.path, validation, test) and evaluate."""
    _check_readable_file(path, display)
    try:
        with np.load(path, allow_pickle=False) as z:
            if "X" not in z.files or "y" not in z.files:
                raise DataError(f"{display}: an .npz data file needs arrays 'X' and 'y' (found: {', '.join(z.files) or 'none'})")
            X, y = z["X"], z["y"]
            features = z["features"] if "features" in z.files else None  # nncli data convert
    except DataError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{display}: not a readable NumPy file ({exc})") from None
    if y.ndim == 0:
        raise DataError(f"{display}: y must hold one target per row of X, got a single value")
    if features is not None and features.ndim != 1:
        raise DataError(f"{display}: 'features' must be a 1-D array of column names, got shape {features.shape}")
    names = None if features is None else [str(n) for n in features]
    if names is not None and X.ndim == 2 and len(names) != X.shape[1]:
        raise DataError(f"{display}: 'features' names {len(names)} columns but X has {X.shape[1]}")
    return X, y, names


def _read_numpy(cfg, path: Path, display: str) -> Table:
    if path.suffix.lower() != ".npz":
        _check_readable_file(path, display)
        # An .npy data.path with data.y_path never gets here (memmap.py maps it); any other .npy has no
        # targets: data.y_path belongs to data.path, never to a validation or test file.
        if cfg.data.y_path is None:
            raise DataError(f"{display}: an .npy file holds only features; set data.y_path to the targets .npy")
        raise DataError(f"{display}: an .npy file holds only features, and data.y_path belongs to data.path; "
                        f"give this file as an .npz with arrays X and y (numpy.savez(path, X=X, y=y)) or a CSV")
    X, y, names = read_npz_xy(path, display)
    if X.dtype.kind not in "fiub":
        raise DataError(f"{display}: X must be numeric, got dtype {X.dtype}")
    return _arrays_table(np.asarray(X) if X.dtype.kind == "f" else np.asarray(X, dtype=np.float64), np.asarray(y), display, cfg, names)


def class_weights(cfg, pre: Preprocessor, y: np.ndarray) -> np.ndarray | None:
    """Per-class weights (n_classes,) from training.class_weight, or None."""
    cw = cfg.training.class_weight
    if cw is None:
        return None
    k = len(pre.classes)
    if cw == "balanced":
        counts = np.bincount(y, minlength=k).astype(np.float64)
        return len(y) / (k * np.maximum(counts, 1))
    weights = np.ones(k)
    keys = {_label_key(c): i for i, c in enumerate(pre.classes)}
    for label, w in cw.items():
        if _label_key(label) not in keys:
            raise DataError(f"{cfg.where('training', 'class_weight', label)}: training.class_weight: no class {label!r} in the data "
                            f"(classes: {', '.join(_label_text(c) for c in pre.classes)})")
        weights[keys[_label_key(label)]] = w
    return weights

