"""Predictions out: raw CSV rows in, CSV (header + one row per input row) out."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

from .data import read_csv, read_csv_stream


def _cell(value) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)


def prediction_columns(run, proba: bool) -> list[str]:
    pre = run.preprocessor
    cols = list(pre.targets)
    if proba and pre.task == "classification":
        cols += [f"proba_{c}" for c in pre.classes]
    return cols


def prediction_rows(run, table, proba: bool):
    """Yield lists of cells, one per input row."""
    pre = run.preprocessor
    if pre.task == "classification":
        labels = run.predict(table)
        if proba:
            p = run.predict_proba(table)
            for label, row in zip(labels, p):
                yield [_cell(label)] + [f"{v:.6g}" for v in row]
        else:
            for label in labels:
                yield [_cell(label)]
    else:
        values = run.predict(table)
        for row in values:
            yield [f"{v:.8g}" for v in row]


def predict_csv(run, input: str, out: Path | None, proba: bool = False) -> None:
    if input == "-":
        text = sys.stdin.read()
        table = read_csv_stream(io.StringIO(text), "<stdin>")
    else:
        table = read_csv(input)
    rows = list(prediction_rows(run, table, proba))  # compute everything before writing anything
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(prediction_columns(run, proba))
    writer.writerows(rows)
    if out is None:
        sys.stdout.write(buf.getvalue())
        sys.stdout.flush()
    else:
        from .rundir import write_text_atomic

        write_text_atomic(Path(out), buf.getvalue())
