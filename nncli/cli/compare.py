"""nncli compare RUN_DIR... | SWEEP_DIR: runs side by side (differing config keys, final metrics)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .common import reporting


def compare_command(
    runs: Annotated[List[Path], typer.Argument(metavar="RUN_DIR|SWEEP_DIR", help="Run directories, or a sweep folder (its finished trials).",
                                               show_default=False)],
    by: Annotated[Optional[str], typer.Option("--by", metavar="METRIC", help="Sort by this metric, best first: train_loss, "
                                              "val_accuracy, test_r2, ..., epochs or seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object to stdout (for scripts).")] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", metavar="FILE.png", help="Also write the runs' loss curves, overlaid, "
                                                 "to this PNG (needs matplotlib).")] = None,
) -> None:
    """One table of the runs: the config keys that differ between them, final train/validation/test
    metrics, epochs and seconds."""
    with reporting():
        from ..inspect.compare import compare, format_text, plot_losses, table

        report = compare(list(runs), by=by)
        for note in report["notes"]:
            print(note, file=sys.stderr)
        if plot is not None:
            plot_losses(report, plot)
        if as_json:
            import json

            sys.stdout.write(json.dumps(report) + "\n")
        elif sys.stdout.isatty():
            from rich.console import Console
            from rich.table import Table

            header, rows = table(report)
            t = Table(title=f"sorted by {by}" if by else None, title_justify="left")
            for i, h in enumerate(header):
                t.add_column(h, justify="left" if i == 0 else "right")
            for row in rows:
                t.add_row(*row)
            Console().print(t)
        else:
            sys.stdout.write(format_text(report))
        if plot is not None and not as_json:
            print(f"wrote {plot}")
        sys.stdout.flush()
