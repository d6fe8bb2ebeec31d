"""Predictions out: raw CSV rows in, one prediction per input row out (CSV, JSON or JSON lines).

The input is read in chunks (CHUNK_ROWS rows: read, transform, predict, write, repeat), so memory
does not grow with the input. An error in a later chunk is still one clean line; on stdout the
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

from .data.tables import read_csv_chunks
from .errors import DataError, UsageError

CHUNK_ROWS = 10_000
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


def prediction_rows(run, table, proba: bool):
    """Yield lists of CSV cells, one per input row."""
    classification = run.task == "classification"
    for values in prediction_values(run, table, proba):
        if classification:
            yield [_cell(values[0])] + [f"{v:.6g}" for v in values[1:]]
        else:
            yield [f"{v:.8g}" for v in values]


def prediction_values(run, table, proba: bool):
    """Yield lists of Python values (label or numbers), one per input row, columns as prediction_columns."""
    pre = run.preprocessor
    if pre.task == "classification":
        labels = run.predict(table)
        if proba:
            p = run.predict_proba(table)
            for label, row in zip(labels, p):
                yield [_json_value(label)] + [float(v) for v in row]
        else:
            for label in labels:
                yield [_json_value(label)]
    else:
        for row in run.predict(table):
            yield [float(v) for v in row]


class _Writer:
    """Writes one chunk of predictions at a time in the chosen format."""

    def __init__(self, fh, fmt: str, columns: list[str], keep: list[str] = ()):
        self.fh, self.fmt, self.keep = fh, fmt, list(keep)
        self.columns = self.keep + columns
        self.first = True  # the header (or "[") goes out with the first chunk, once it succeeded

    def chunk(self, run, table, proba: bool) -> None:
        buf = io.StringIO()  # the whole chunk is computed before any of it is written
        if self.keep:
            table.require(self.keep, "--keep", " — name columns of the input")
        kept = [[_kept_value(table, k, r) for k in self.keep] for r in range(table.n_rows)]
        if self.fmt == "csv":
            writer = csv.writer(buf, lineterminator="\n")
            if self.first:
                writer.writerow(self.columns)
                self.first = False
            writer.writerows(k + [str(c) for c in row] if self.keep else row
                             for k, row in zip(kept, prediction_rows(run, table, proba)))
        else:
            for k, values in zip(kept, prediction_values(run, table, proba)):
                text = json.dumps(dict(zip(self.columns, k + values)))
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
                chunk_rows: int = CHUNK_ROWS, keep: list[str] = ()) -> None:
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
        writer = _Writer(sys.stdout, fmt, columns, keep)
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
            writer = _Writer(fh, fmt, columns, keep)
            for table in chunks:
                writer.chunk(run, table, proba)
            writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
