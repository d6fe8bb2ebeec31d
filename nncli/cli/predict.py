"""nncli predict RUN_DIR [INPUT]: predictions for raw CSV rows (streamed in chunks) as CSV, JSON or JSON lines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from .common import reporting


def predict_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by nncli train.",
                                            show_default=False)],
    input: Annotated[str, typer.Argument(metavar="INPUT", help="CSV file with the feature columns (by name), "
                                         "or - for stdin.")] = "-",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="FILE",
                                                help="Write to this file instead of stdout.")] = None,
    proba: Annotated[bool, typer.Option("--proba", help="Add one probability column per class.")] = False,
    fmt: Annotated[Literal["csv", "json", "jsonl"], typer.Option(
        "--format", "-f", help="csv (header + rows), json (one array of objects) or jsonl (one object per line).")] = "csv",
) -> None:
    """Predict with a trained run; feature columns are found by name, other columns ignored."""
    with reporting():
        from ..api import load_run
        from ..predicting import predict_csv

        run = load_run(run_dir)
        predict_csv(run, input, out, proba=proba, fmt=fmt)
