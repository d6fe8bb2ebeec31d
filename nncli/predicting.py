"""Predictions out: raw CSV rows in, one prediction per input row out (CSV, JSON or JSON lines).

The input is read in blocks of bytes (tables.read_csv_chunks: read, transform, predict, write,
repeat), so memory does not grow with the length or the width of the input. An error in a later chunk is still one clean line; on stdout the
earlier chunks have already been written, but with --out FILE the output goes to a temporary file
renamed into place only when every row succeeded, so nothing half-written remains.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np

from .data.csvread import read_csv_chunks
from .errors import DataError, UsageError

CHUNK_ROWS: int | None = None  # None: blocks of about csvread.CHUNK_BYTES bytes of text, whatever the width
FORMATS = ("csv", "json", "jsonl")


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def _json_value(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    return value


def prediction_columns(run, proba: bool) -> list[str]:
    pre = run.preprocessor
    cols = list(pre.targets)
    if proba and pre.task == "classification":
        cols += [f"proba_{c}" for c in pre.classes]
    return cols


class _Predictor:
    """One forward pass per chunk: class indices and probabilities, or values."""

    def __init__(self, run, proba: bool):
        self.run, self.proba = run, proba
        self.classification = run.task == "classification"
        self.loss = None
        if self.classification and proba:
            from .training import make_loss

            self.loss = make_loss(run.config)

    def __call__(self, table) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(class indices (k,) or None, probabilities (k, n_classes) or values (k, n_targets) float64)."""
        out = self.run.output(table)
        act = self.run.network.output_activation
        if not self.classification:
            return None, out.astype(np.float64)
        from .metrics import predicted_classes

        idx = predicted_classes(out, act)
        p = np.asarray(self.loss.probabilities(out, act), np.float64) if self.proba else None
        return idx, p


def prediction_values(run, table, proba: bool):
    """Yield lists of Python values (label or numbers), one per input row, columns as prediction_columns."""
    idx, values = _Predictor(run, proba)(table)
    if idx is None:
        yield from ([float(v) for v in row] for row in values)
        return
    labels = [_json_value(c) for c in run.preprocessor.classes]
    for i, k in enumerate(idx):
        yield [labels[k]] + ([float(v) for v in values[i]] if values is not None else [])


def _csv_block(values: np.ndarray, fmt: str, first: np.ndarray | None = None) -> str:
    """Rows of CSV text: ``first`` (k,) cells already as text, then ``values`` (k, m) formatted with
    ``fmt``: one %-format of the whole block's cells (C, about 5x faster than np.char.mod's call
    per cell; the same text, as both format each value's Python float)."""
    k = len(first) if first is not None else (len(values) if values is not None else 0)
    m = values.shape[1] if values is not None else 0
    if k == 0 or (first is None and m == 0):
        return ""
    row = ",".join((["%s"] if first is not None else []) + [fmt] * m) + "\n"
    if first is None:
        cells = values.ravel().tolist()
    else:
        table = np.empty((k, m + 1), dtype=object)
        table[:, 0] = first.tolist()
        if m:
            table[:, 1:] = values.tolist()
        cells = table.ravel().tolist()
    return (row * k) % tuple(cells)


class _Writer:
    """Writes one chunk of predictions at a time in the chosen format."""

    def __init__(self, fh, fmt: str, columns: list[str], run=None, proba: bool = False, keep: list[str] = ()):
        self.fh, self.fmt, self.keep = fh, fmt, list(keep)
        self.columns = self.keep + list(columns)
        self.first = True  # the header (or "[") goes out with the first chunk, once it succeeded
        self.predictor = _Predictor(run, proba) if run is not None else None
        self.label_cells = None
        if run is not None and run.task == "classification":
            cells = io.StringIO()  # each class label as a CSV cell once (quoted if it needs it)
            w = csv.writer(cells, lineterminator="\n")
            for c in run.preprocessor.classes:
                w.writerow([_cell(_json_value(c))])
            self.label_cells = np.array(cells.getvalue().split("\n")[:-1], dtype=str)

    def chunk(self, run, table, proba: bool) -> None:
        buf = io.StringIO()  # the whole chunk is computed before any of it is written
        if self.keep:
            table.require(self.keep, "--keep", " — name columns of the input")
        kept = [[_kept_value(table, k, r) for k in self.keep] for r in range(table.n_rows)] if self.keep else None
        if self.fmt == "csv":
            if self.first:
                csv.writer(buf, lineterminator="\n").writerow(self.columns)
                self.first = False
            idx, values = self.predictor(table)
            if idx is None:
                block = _csv_block(values, "%.8g")
            else:
                block = _csv_block(values, "%.6g", self.label_cells[idx])
            if kept is not None:  # the kept cells, CSV-quoted, in front of each prediction line
                cells = io.StringIO()
                w = csv.writer(cells, lineterminator="\n")
                lines = block.split("\n")
                for k, line in zip(kept, lines):
                    w.writerow(k + [None])
                    cells.seek(cells.tell() - 1)  # drop the newline: the prediction line follows
                    cells.write(line + "\n")
                block = cells.getvalue()
            buf.write(block)
        else:
            for i, values in enumerate(prediction_values(run, table, proba)):
                text = json.dumps(dict(zip(self.columns, (kept[i] if kept else []) + values)))
                if self.fmt == "jsonl":
                    buf.write(text + "\n")
                else:
                    buf.write(("[\n" if self.first else ",\n") + text)
                    self.first = False
        self.fh.write(buf.getvalue())

    def close(self) -> None:
        if self.fmt == "json":
            self.fh.write("[]\n" if self.first else "\n]\n")


def _kept_value(table, column: str, row: int):
    """A --keep cell as the input had it: text as text, an empty cell as "" (null in JSON)."""
    if table.missing[column][row]:
        return None
    value = table.columns[column][row]
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    return str(value)


def _stdin_text():
    """stdin as UTF-8 text whatever the locale; bad bytes surface as UnicodeDecodeError."""
    if hasattr(sys.stdin, "buffer"):
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    return sys.stdin


def _decoded(chunks, display: str):
    try:
        yield from chunks
    except UnicodeDecodeError as exc:
        raise DataError(f"{display}: not UTF-8 text ({exc.reason} at byte {exc.start}); is it a CSV?") from None


def predict_csv(run, input: str, out: Path | None, proba: bool = False, fmt: str = "csv",
                chunk_rows: int | None = CHUNK_ROWS, keep: list[str] = ()) -> None:
    """Predict every row of the CSV ``input`` (a path or "-"), writing ``keep`` input columns (for
    joining back by key) then prediction_columns to ``out`` (stdout when None)."""
    columns = prediction_columns(run, proba)
    keep = list(dict.fromkeys(keep))
    clash = [k for k in keep if k in columns]
    if clash:
        raise UsageError(f"--keep {clash[0]}: the output already has a column {clash[0]!r} (the prediction); "
                         f"rename that input column to keep it")
    if proba and run.preprocessor.task != "classification":
        raise UsageError(f"--proba: this run is a regression (target {', '.join(run.preprocessor.targets)}); "
                         f"probabilities exist only for classification runs — drop --proba")
    source = _stdin_text() if input == "-" else input
    display = "<stdin>" if input == "-" else input
    # kept columns that are not features stay text, exactly as typed (an id 007 stays 007)
    text = set(run.preprocessor.categories) | (set(keep) - set(run.preprocessor.features))
    chunks = _decoded(read_csv_chunks(source, display, chunk_rows, text_columns=text), display)
    if out is None:
        writer = _Writer(sys.stdout, fmt, columns, run, proba, keep)
        for table in chunks:
            writer.chunk(run, table, proba)
            sys.stdout.flush()
        writer.close()
        sys.stdout.flush()
        return
    out = Path(out)
    if out.is_dir():
        raise UsageError(f"{out}: is a directory; give --out a file name")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        try:
            fh = open(tmp, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(f"{out}: cannot write ({exc.strerror}); check the folder exists and is writable") from None
        with fh:
            writer = _Writer(fh, fmt, columns, run, proba, keep)
            for table in chunks:
                writer.chunk(run, table, proba)
            writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
