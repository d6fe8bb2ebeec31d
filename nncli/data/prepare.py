"""Data for a run: the configured source (a file, a built-in generator, arrays, or a memory-mapped
.npy), its seeded and stratified splits, the class labels and the class weights. ``prepare(cfg)``
returns everything in one PreparedData: the fitted Preprocessor and the train/validation/test
Splits.

Shapes: X is (n_samples, n_features); classification y is integer class indices (n_samples,);
regression y is (n_samples, n_targets). Everything the network sees is float32 unless configured.
Readers live in tables.py, the encoding and scaling in preprocess.py, memory-mapped reading in
memmap.py; this module is the only one of data/ that knows the config.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..seeding import Stream, rng as seeded_rng
from .preprocess import Preprocessor, label_key, label_text, python_label
from .csvread import read_csv
from .tables import (Table, check_readable_file, human_bytes, listing, short, read_npz_xy,
                     table_from_arrays, target_missing)


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


def split_fractions(dcfg) -> list[float]:
    """[validation, test] fractions of data.path's rows: a separate file (data.validation,
    data.test) wins over its fraction."""
    return [0.0 if dcfg.validation else dcfg.validation_split, 0.0 if dcfg.test else dcfg.test_split]


def split_rows(cfg, n: int, labels: np.ndarray | None, display: str) -> list[np.ndarray]:
    """[train, validation, test] row indices (ascending) of n rows, seeded by cfg.seed, stratified
    by ``labels`` (n,) when given; an empty training part is an error naming ``display``."""
    rows = split_indices(n, split_fractions(cfg.data), seeded_rng(cfg.seed, Stream.SPLIT), labels)
    if len(rows[0]) == 0:
        raise DataError(f"{display}: no rows left for training after the validation/test split")
    return rows


# ---------------------------------------------------------------- labels and class weights
def class_labels(values: np.ndarray, subject: str) -> tuple[list[Any], np.ndarray]:
    """The classes of a target column (n,): its distinct values, sorted, as plain Python values,
    and each row's class index (n,) int64. Fewer than two classes is an error; ``subject`` begins
    that message (the file, and the column when there is one)."""
    uniq = np.unique(values)
    if len(uniq) < 2:
        raise DataError(f"{subject} has only one class ({short(label_text(uniq[0]))}); classification needs at least two")
    # searchsorted into the sorted distinct values is the class index; one vectorized pass, no
    # Python loop over the rows (distinct values have distinct label keys, so this agrees with
    # Preprocessor.label_indices)
    return [python_label(v) for v in uniq], np.searchsorted(uniq, values).astype(np.int64)


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
    check_column_lists(cfg)
    if data is not None:
        X, y = data
        table = table_from_arrays(np.asarray(X), np.asarray(y), "<arrays>", dcfg.target)
    elif dcfg.generator is not None:
        from . import generators

        X, y = generators.generate(dcfg.generator, seeded_rng(cfg.seed, Stream.GENERATOR))
        spec = generators.get(dcfg.generator.name)
        table = table_from_arrays(X, y, f"generator {dcfg.generator.name}", dcfg.target, spec.feature_names(dcfg.generator))
    elif dcfg.path is not None:
        if dcfg.y_path is not None and cfg.resolve_path(dcfg.path).suffix.lower() == ".npy":
            return _prepare_memmap(cfg, fitted)  # memory-mapped: X never loaded whole
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
        tmiss = table.missing[targets[0]]
        if tmiss.any():
            raise DataError(missing_label(table, targets[0], int(np.flatnonzero(tmiss)[0]), dcfg.missing))
        pre.classes, labels = class_labels(table.columns[targets[0]], f"{table.path}: target column {targets[0]!r}")
    train_rows, val_rows, test_rows = split_rows(cfg, table.n_rows, labels, table.path)
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
    check_encoded_size(pre, train_t.n_rows, dtype, table.path)
    X_raw = pre.encode_features(train_t)
    if fitted is None:
        pre.fit_scaling(X_raw)
    else:
        pre.offset, pre.scale = list(fitted.offset), list(fitted.scale)
    train = Split(pre.scale_features(X_raw, dtype, train_t), _targets_of(pre, train_t, labels, train_rows, dtype))

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


def check_column_lists(cfg) -> None:
    """data.features and data.target name each column once, and the target is not a feature (a
    label leak: the network would read the answer). One line at the config's place."""
    dcfg = cfg.data
    lists = []
    if isinstance(dcfg.target, list):
        lists.append(("target", dcfg.target))
    if dcfg.features is not None:
        lists.append(("features", dcfg.features))
    for key, names in lists:
        seen: dict[str, int] = {}
        for i, n in enumerate(names):
            if n in seen:
                raise DataError(f"{cfg.where('data', key, i)}: data.{key}: column {n!r} is listed twice (items "
                                f"{seen[n] + 1} and {i + 1}); list each column once")
            seen[n] = i
    if dcfg.features is not None and dcfg.target is not None:
        targets = [dcfg.target] if isinstance(dcfg.target, str) else list(dcfg.target)
        for i, n in enumerate(dcfg.features):
            if n in targets:
                raise DataError(f"{cfg.where('data', 'features', i)}: data.features: {n!r} is the target (data.target); "
                                f"a feature must not be the label the network learns to predict — remove it from "
                                f"data.features")


def missing_label(table: Table, column: str, r: int, missing: str) -> str:
    """The message for a class label with no value at row ``r``, saying how data.missing treats it."""
    cell = table.columns[column][r]
    shown = f"{short(cell)!r}" if isinstance(cell, str) and cell.strip() else "empty or NaN"
    why = " (data.missing: mean fills features only)" if missing == "mean" else ""
    return (f"{table.place(r)}: target column {column!r} is empty: no class label ({shown}; empty, NA, None, null, "
            f"nan and ? count as missing){why} — fill it in, or set data.missing: drop to leave such rows out")


def check_encoded_size(pre: Preprocessor, n_rows: int, dtype, display: str) -> None:
    """Refuse, before allocating, an encoded training matrix larger than the memory available
    (one-hot of a column with 100,000 categories): one line with the estimate and the column."""
    from .csvread import available_memory

    width = pre.n_inputs
    need = n_rows * width * (8 + np.dtype(dtype).itemsize)  # float64 encoding, then the network's copy
    avail = available_memory()
    if avail is None or need <= avail:
        return
    widest = max(pre.categories, key=lambda f: len(pre.categories[f]), default=None)
    cause = (f"; column {widest!r} alone has {len(pre.categories[widest])} categories — leave it out with "
             f"data.features or encode it yourself" if widest else "")
    raise DataError(f"{display}: the encoded data ({n_rows} rows × {width} inputs) needs {human_bytes(need)}, more "
                    f"than the {human_bytes(avail)} of memory available{cause}")


def file_split(cfg, pre: Preprocessor, path: str, dtype) -> Split:
    """A separate validation or test file (data.validation, data.test) through the fitted preprocessing."""
    t = load_file(cfg, path)
    return Split(pre.transform(t, dtype), pre.encode_targets(t, dtype))


def _require_columns(cfg, table: Table, wanted: list[tuple[list[str], str]]) -> None:
    """Columns named in the config must be in the data: point at the config's line, suggest a name.

    ``wanted`` pairs column names with their key in data (target, features); every absent column
    is reported at once."""
    from ..config.messages import did_you_mean, dotted

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
            # a column the config already uses is never the one it meant (petal_width -> sepal_width)
            taken = {c for ns, k in wanted if getattr(cfg.data, k) is not None for c in ns}
            guess = did_you_mean(n, [c for c in table.columns if c not in taken])
            lines.append(f"{cfg.where(*path)}: {dotted(path)}: no column {n!r} in {table.path}"
                         + (f" — did you mean {guess!r}?" if guess else "") + f" (columns: {listing(table.columns)})")
    if lines:
        raise DataError("\n".join(lines))


def _missing_data_file(cfg, path: str, resolved: Path) -> None:
    """A data file named in the config does not exist: point at its key, show the path tried."""
    key = next((k for k in ("path", "y_path", "validation", "test") if getattr(cfg.data, k) == path), "path")
    try:
        os.stat(resolved)
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataError(f"{cfg.where('data', key)}: data.{key}: {resolved}: too many levels of symbolic links "
                            f"(a link loop?); fix the link or give the real path") from None
    except ValueError:
        raise DataError(f"{cfg.where('data', key)}: data.{key}: the path holds a NUL byte; give a path without it") from None
    if path.startswith("~") and os.path.expanduser(path) == path:
        user = path[1:].split("/", 1)[0]
        raise DataError(f"{cfg.where('data', key)}: data.{key}: no user {user!r} to expand ~{user} for; give the path "
                        f"in full")
    how = ""
    if not Path(os.path.expanduser(path)).is_absolute():
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
        if table.path.endswith(".npz") and table.matrix_names is not None:  # the target name data convert kept
            return [c for c in table.columns if c not in table.matrix_names]
        raise DataError(f"{cfg.where('data')}: data.target: name the target column (columns: {listing(table.columns)})")
    return [t] if isinstance(t, str) else list(t)

def _prepare_memmap(cfg, fitted: Preprocessor | None = None) -> PreparedData:
    """``prepare`` for an .npy X with data.y_path: the same splits, labels and Preprocessor, but the
    training features stay on disk (a memmap.LazyRows) and the scaling is fitted from statistics
    streamed over the training rows."""
    from .memmap import LazyRows, MappedNpy, column_stats, read_npy

    dcfg = cfg.data
    dtype = np.dtype(cfg.training.dtype)
    path = cfg.resolve_path(dcfg.path)
    display = str(path) if cfg.source_path != "<config>" else str(dcfg.path)
    check_readable_file(path, display)
    source = MappedNpy(path, display)
    n, width = source.shape
    ypath = cfg.resolve_path(dcfg.y_path)
    ydisplay = str(ypath)
    check_readable_file(ypath, ydisplay)
    y = read_npy(ypath, ydisplay)
    if len(y) != n:
        raise DataError(f"{ydisplay}: has {len(y)} rows but {display} has {n}; they must match row for row")

    from .convert import stored_names  # the names nncli data convert kept beside the .npy

    kept, kept_target = stored_names(path, width)
    names = kept or [f"x{i + 1}" for i in range(width)]
    target = dcfg.target if isinstance(dcfg.target, str) else (kept_target or "y")
    cols = None
    features = names
    if dcfg.features is not None:
        unknown = [f for f in dcfg.features if f not in names]
        if unknown:
            raise DataError(f"{cfg.where('data', 'features')}: data.features: {listing(map(repr, unknown))} not in "
                            f"{display} (columns: {', '.join(names)})")
        features = list(dcfg.features)
        cols = np.array([names.index(f) for f in features])

    if fitted is not None:  # model.init_from reuses a run's features and scaling
        features = _fitted_features(cfg, fitted, features)
        if any(f not in names for f in features):
            raise DataError(f"{display}: the run in model.init_from was trained on columns {', '.join(features)}; an "
                            f".npy has columns x1..x{width}; set model.init_from.preprocessing: refit")
        cols = np.array([names.index(f) for f in features])
    pre = Preprocessor(task=cfg.task, features=features, targets=[target], scaling=dcfg.scaling)
    labels = None
    if pre.task == "classification":
        if y.ndim != 1:
            raise DataError(f"{ydisplay}: class labels must be 1-D, got shape {y.shape}")
        miss = target_missing(y)
        if miss.any():
            r = int(np.flatnonzero(miss)[0])
            raise DataError(f"{ydisplay}: row {r} (counting from 0) has no class label ({y[r]!r}; NaN, empty, NA, "
                            f"None count as missing); an .npy pair cannot leave rows out — fill the label in or remove "
                            f"the row from both files")
        pre.classes, labels = class_labels(y, f"{ydisplay}:")
        targets = labels
    else:
        if y.dtype.kind not in "fiub":
            raise DataError(f"{ydisplay}: holds text ({y.dtype}) but a regression loss needs numbers; for class "
                            f"labels use cross_entropy or binary_crossentropy")
        y2 = np.asarray(y, np.float64).reshape(n, -1)
        if not np.all(np.isfinite(y2)):
            r = int(np.flatnonzero(~np.all(np.isfinite(y2), axis=1))[0])
            raise DataError(f"{ydisplay}: row {r} (counting from 0) is not a finite number")
        if y2.shape[1] > 1:
            pre.targets = list(dcfg.target) if isinstance(dcfg.target, list) else [f"y{i + 1}" for i in range(y2.shape[1])]
        targets = np.ascontiguousarray(y2, dtype=dtype)

    train_rows, val_rows, test_rows = split_rows(cfg, n, labels, display)
    if fitted is None:
        pre.fit_scaling_from(column_stats(source, train_rows, cols, features))
    else:
        pre.scaling, pre.offset, pre.scale = fitted.scaling, list(fitted.offset), list(fitted.scale)
    offset, scale = np.asarray(pre.offset, np.float64), np.asarray(pre.scale, np.float64)
    train = Split(LazyRows(source, train_rows, cols, offset, scale, dtype), targets[train_rows])

    def part(rows, file):
        if file is not None:
            return file_split(cfg, pre, file, dtype)
        if len(rows) == 0:
            return None
        return Split(LazyRows(source, rows, cols, offset, scale, dtype).to_array(), targets[rows])

    return PreparedData(pre, train, part(val_rows, dcfg.validation), part(test_rows, dcfg.test), display)


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


def _read_numpy(cfg, path: Path, display: str) -> Table:
    if path.suffix.lower() != ".npz":
        check_readable_file(path, display)
        # An .npy data.path with data.y_path never gets here (_prepare_memmap maps it); any other .npy has no
        # targets: data.y_path belongs to data.path, never to a validation or test file.
        if cfg.data.y_path is None:
            raise DataError(f"{display}: an .npy file holds only features; set data.y_path to the targets .npy")
        raise DataError(f"{display}: an .npy file holds only features, and data.y_path belongs to data.path; "
                        f"give this file as an .npz with arrays X and y (numpy.savez(path, X=X, y=y)) or a CSV")
    from .convert import stored_names

    X, y, names = read_npz_xy(path, display)
    if X.dtype.kind not in "fiub":
        raise DataError(f"{display}: X must be numeric, got dtype {X.dtype}")
    target = cfg.data.target if cfg.data.target is not None else stored_names(path)[1]  # as data convert kept it
    return table_from_arrays(np.asarray(X) if X.dtype.kind == "f" else np.asarray(X, dtype=np.float64), np.asarray(y), display,
                             target, names)


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
    keys = {label_key(c): i for i, c in enumerate(pre.classes)}
    for label, w in cw.items():
        if label_key(label) not in keys:
            raise DataError(f"{cfg.where('training', 'class_weight', label)}: training.class_weight: no class {label!r} in the data "
                            f"(classes: {listing(label_text(c) for c in pre.classes)})")
        weights[keys[label_key(label)]] = w
    return weights
