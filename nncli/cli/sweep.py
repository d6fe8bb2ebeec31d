"""``nncli sweep``: many runs over a grid or random search, sequentially, on local workers or on Dask.

Thin: parse the options, call :func:`nncli.sweep.run_sweep`, print the summary, exit with the
NncliError's code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from nncli.errors import NncliError


def _fail(e: NncliError) -> None:
    for line in str(e).splitlines() or [type(e).__name__]:
        print(f"error: {line}", file=sys.stderr)
    raise typer.Exit(e.exit_code) from None


def sweep_command(
    target: Annotated[Path, typer.Argument(help="A sweep file (YAML with base: and grid:/space:), or a run config used with --grid.", show_default=False)],
    grid: Annotated[Optional[list[str]], typer.Option("--grid", "-g", help="dotted.path=v1,v2,... (repeatable; adds to or replaces the sweep file's grid).", show_default=False)] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="dotted.path=value applied to every trial (repeatable).", show_default=False)] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", "-j", min=1, help="Local worker processes; 1 runs trials one after another. [default: the sweep file's workers, else the number of cores]", show_default=False)] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run the trials on a Dask cluster, e.g. tcp://host:8786 (needs nncli[dask]).", show_default=False)] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Sweep name. [default: the sweep file's name, else <config name>-sweep]", show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Sweep folder. [default: runs/<sweep name>]", show_default=False)] = None,
    metric: Annotated[Optional[str], typer.Option("--metric", help="Metric that picks the best trial, e.g. val_loss, val_accuracy. [default: val_loss with validation, else train_loss]", show_default=False)] = None,
    direction: Annotated[Optional[str], typer.Option("--direction", help="minimize or maximize. [default: maximize for accuracy-like metrics, else minimize]", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Train many runs over a grid or random search of config keys; write results.csv and best.json."""
    from nncli import sweep as sw  # noqa: PLC0415

    try:
        if scheduler is not None:
            sw.require_dask()
        if sw.is_sweep_file(target):
            spec = sw.load_sweep_spec(target)
            spec_dir = target.parent
            extra = dict(sw.parse_grid_option(g) for g in grid or [])
            if extra or set_:
                spec = spec.model_copy(update={"grid": {**spec.grid, **extra}, "overrides": [*spec.overrides, *(set_ or [])]})
        else:
            if not target.is_file():
                raise sw.UsageError(f"{target}: no such file")
            spec = sw.sweep_from_config(target, grid or [], overrides=list(set_ or []))
            spec_dir = Path(".")
        sweep = sw.prepare_sweep(spec, spec_dir=spec_dir, name=name, out=out, metric=metric, direction=direction)
        result = sw.run_sweep(sweep, workers=workers, scheduler=scheduler, reporter=sw.make_reporter(quiet))
    except NncliError as e:
        _fail(e)
    if not quiet:
        for line in sw.summary_lines(result):
            print(line)
