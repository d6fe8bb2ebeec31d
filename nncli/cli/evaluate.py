"""nncli evaluate RUN_DIR DATA [--json]: how well a trained run does on labelled raw data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import reporting
from .predict import one_blas_thread


def evaluate_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by nncli train.",
                                            show_default=False)],
    data: Annotated[str, typer.Argument(metavar="DATA", help="Labelled data: a CSV with the feature and target columns "
                                        "(by name), or an .npz with arrays X and y.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout (for jq and Makefiles).")] = False,
) -> None:
    """Loss and metrics of a run on labelled data: accuracy, per-class precision/recall/F1 and the \
confusion matrix (classification), or MSE, MAE and R² (regression)."""
    one_blas_thread()  # as predict: small products per block, the other core reads the next one
    with reporting():
        from ..api import load_run
        from ..inspect.evaluation import evaluate_run, format_text, report_tables

        run = load_run(run_dir)
        report = evaluate_run(run, data)
        if as_json:
            import json

            sys.stdout.write(json.dumps(report) + "\n")
        elif sys.stdout.isatty():
            from rich.console import Console
            from rich.table import Table

            console = Console()
            console.print(f"[bold]{report['task']}[/bold] on {report['data']} ({report['n_samples']} rows), "
                          f"run {report['run']}")
            for title, header, rows in report_tables(report):
                table = Table(title=title, title_justify="left")
                for i, h in enumerate(header):
                    table.add_column(h, justify="left" if i == 0 else "right")
                for row in rows:
                    table.add_row(*row)
                console.print(table)
        else:
            sys.stdout.write(format_text(report))
        sys.stdout.flush()
