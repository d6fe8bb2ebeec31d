"""nncli predict RUN_DIR [INPUT]: predictions for raw CSV rows, as CSV on stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .common import reporting


def predict_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by nncli train.", show_default=False),
    input: str = typer.Argument("-", help="CSV file with the feature columns (by name), or - for stdin."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    proba: bool = typer.Option(False, "--proba", help="Add one probability column per class."),
) -> None:
    """Predict with a trained run; feature columns are found by name, other columns ignored."""
    with reporting():
        from ..api import load_run
        from ..predict_io import predict_csv

        run = load_run(run_dir)
        predict_csv(run, input, out, proba=proba)
