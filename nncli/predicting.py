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
    ``fmt``, in C (np.char.mod) rather than a Python call per cell."""
    cols = [first] if first is not None else []
    cols += [np.char.mod(fmt, values[:, j]) for j in range(values.shape[1])] if values is not None else []
    if not cols or len(cols[0]) == 0:
        return ""
    line = cols[0]
    for c in cols[1:]:
        line = np.char.add(np.char.add(line, ","), c)
    return "\n".join(line.tolist()) + "\n"


class _Writer:
    """Writes one chunk of predictions at a time in the chosen format."""

    def __init__(self, fh, fmt: str, columns: list[str], run=None, proba: bool = False):
        self.fh, self.fmt, self.columns = fh, fmt, columns
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
        if self.fmt == "csv":
            if self.first:
                csv.writer(buf, lineterminator="\n").writerow(self.columns)
                self.first = False
            idx, values = self.predictor(table)
            if idx is None:
                buf.write(_csv_block(values, "%.8g"))
            else:
                buf.write(_csv_block(values, "%.6g", self.label_cells[idx]))
        else:
            for values in prediction_values(run, table, proba):
                text = json.dumps(dict(zip(self.columns, values)))
                if self.fmt == "jsonl":
                    buf.write(text + "\n")
                else:
                    buf.write(("[\n" if self.first else ",\n") + text)
                    self.first = False
        self.fh.write(buf.getvalue())

    def close(self) -> None:
        if self.fmt == "json":
            self.fh.write("[]\n" if self.first else "\n]\n")


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
                chunk_rows: int | None = CHUNK_ROWS) -> None:
    source = _stdin_text() if input == "-" else input
    display = "<stdin>" if input == "-" else input
    chunks = _decoded(read_csv_chunks(source, display, chunk_rows, text_columns=set(run.preprocessor.categories)), display)
    columns = prediction_columns(run, proba)
    if out is None:
        writer = _Writer(sys.stdout, fmt, columns, run, proba)
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
            writer = _Writer(fh, fmt, columns, run, proba)
            for table in chunks:
                writer.chunk(run, table, proba)
            writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
