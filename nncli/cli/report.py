"""nncli report DIR: one self-contained HTML page (report.html) for a run or a sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import reporting


def report_command(
    target: Annotated[Path, typer.Argument(metavar="DIR", help="A run directory (nncli train) or a sweep folder "
                                                                "(nncli sweep).", show_default=False)],
) -> None:
    """Write report.html into DIR: config, network, curves, pictures, evaluation and provenance of a run,
    or the sortable results table and the best trial's curves of a sweep. One file, no network access."""
    with reporting():
        from ..inspect.report import report

        print(f"wrote {report(target)}")
