"""nncli predict RUN_DIR [INPUT]: predictions for raw CSV rows (streamed in chunks) as CSV, JSON or JSON lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Literal, Optional

import typer

from .common import reporting

#: BLAS thread-count variables a user may have set (then nncli leaves the choice to them).
_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """Run this process's matrix products on one BLAS thread, unless the user chose a number.

    Inference multiplies blocks of a few thousand rows by small weight matrices: a second
    OpenBLAS thread gains little on a quiet machine, and on a busy one its threads spin waiting
    for each other (wide bench predict: 7-8 s of CPU with two threads against 2.9 s with one,
    under load 4.7; README, Performance). OpenBLAS reads the variables once, when NumPy is first
    imported, so this is a no-op where NumPy is already loaded (the CLI called inside a Python
    process, as the tests do)."""
    import os

    if "numpy" in sys.modules or any(os.environ.get(v) for v in _BLAS_VARS):
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"


def predict_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by nncli train.",
                                            show_default=False)],
    input: Annotated[str, typer.Argument(metavar="INPUT", help="CSV file with the feature columns (by name), "
                                         "or - for stdin.")] = "-",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="FILE",
                                                help="Write to this file instead of stdout.")] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Add one probability column per class (proba_<class>); "
                                        "classification runs only.")] = False,
    keep: Annotated[List[str], typer.Option("--keep", metavar="COLUMN", help="Copy this input column into the "
                                            "output, first, to join predictions back by key (repeatable).")] = [],
    fmt: Annotated[Literal["csv", "json", "jsonl"], typer.Option(
        "--format", "-f", help="csv (header + rows), json (one array of objects) or jsonl (one object per line).")] = "csv",
) -> None:
    """Predict with a trained run; feature columns are found by name, other columns ignored.

    Output columns: the --keep columns, then the prediction named after the target (one column per
    target for several), then proba_<class> per class with --proba."""
    one_blas_thread()
    with reporting():
        from ..api import load_run
        from ..predicting import predict_csv

        run = load_run(run_dir)
        if input == "-" and sys.stdin is not None and sys.stdin.isatty():
            # As cat and grep do: a forgotten INPUT on a terminal reads what is typed, so say so
            # rather than wait in silence (piped input stays silent; `-` still works explicitly).
            print("nncli predict: reading CSV rows from standard input (end with Ctrl-D; "
                  "give INPUT to read a file)", file=sys.stderr, flush=True)
        predict_csv(run, input, out, proba=proba, fmt=fmt, keep=keep)
