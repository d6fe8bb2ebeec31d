"""nncli predict RUN_DIR [INPUT]: predictions for raw CSV rows (streamed in chunks) as CSV, JSON or JSON lines."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import reporting


def predict_command(
    run_dir: Path = typer.Argument(..., help="Run directory written by nncli train.", show_default=False),
    input: str = typer.Argument("-", help="CSV file with the feature columns (by name), or - for stdin."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    proba: bool = typer.Option(False, "--proba", help="Add one probability column per class."),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv (header + rows), json (one array of objects) "
                                                          "or jsonl (one object per line)."),
) -> None:
    """Predict with a trained run; feature columns are found by name, other columns ignored."""
    with reporting():
        from ..api import load_run
        from ..errors import UsageError
        from ..predicting import FORMATS, predict_csv

        if fmt not in FORMATS:
            raise UsageError(f"--format: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        run = load_run(run_dir)
        predict_csv(run, input, out, proba=proba, fmt=fmt)
