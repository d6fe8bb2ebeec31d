"""``nncli sweep``: many runs over a grid or random search, sequentially, on local workers or on Dask.

Thin: parse the options, call :func:`nncli.sweep.run_sweep`, print the summary; errors become one
line and their exit code through ``reporting()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Literal, Optional

import typer

from .common import reporting


def sweep_command(
    target: Annotated[Path, typer.Argument(metavar="SWEEP|CONFIG", help="A sweep file (YAML with base: and grid: or "
                                           "trials:/space:), or a run config used with --grid.", show_default=False)],
    grid: Annotated[List[str], typer.Option("--grid", "-g", metavar="KEY=V1,V2", help="Values of a config key to try "
                                            "(repeatable; adds to or replaces keys of the sweep file's grid).")] = [],
    set_: Annotated[List[str], typer.Option("--set", metavar="KEY=VALUE",
                                            help="A config key set in every trial (repeatable).")] = [],
    workers: Annotated[Optional[int], typer.Option("--workers", "-j", metavar="N", min=1, show_default=False,
                                                   help="Local worker processes; 1 runs the trials one after another "
                                                        "here. (default: the sweep file's workers, else the number of "
                                                        "cores)")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", metavar="ADDRESS", show_default=False,
                                                     help="Run the trials on a Dask cluster, e.g. tcp://host:8786 "
                                                          "(needs nncli\\[dask]).")] = None,
    name: Annotated[Optional[str], typer.Option("--name", metavar="NAME", show_default=False,
                                                help="Sweep name. (default: the sweep file's name, else "
                                                     "<config name>-sweep)")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR", show_default=False,
                                                help="Sweep folder. (default: runs/<sweep name>)")] = None,
    metric: Annotated[Optional[str], typer.Option("--metric", metavar="METRIC", show_default=False,
                                                  help="Picks the best trial: val_loss, val_accuracy, train_loss, ... "
                                                       "(default: val_loss with validation data, else train_loss)")] = None,
    direction: Annotated[Optional[Literal["minimize", "maximize"]], typer.Option(
        "--direction", show_default=False,
        help="(default: maximize for accuracy-like metrics, else minimize)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Train many runs over a grid or random search of config keys; write results.csv and best.json."""
    with reporting():
        from .. import sweep as sw
        from .sweep_progress import make_reporter, summary_lines
        from ..errors import UsageError

        if scheduler is not None:
            sw.require_dask()
        if sw.is_sweep_file(target):
            spec = sw.load_sweep_spec(target)
            spec_dir = target.parent
            extra = dict(sw.parse_grid_option(g) for g in grid)
            if extra or set_:
                spec = spec.model_copy(update={"grid": {**spec.grid, **extra}, "overrides": [*spec.overrides, *set_]})
        else:
            if target.is_dir():
                raise UsageError(f"{target}: is a directory; give a sweep file or a config with --grid")
            if not target.is_file():
                raise UsageError(f"{target}: no such file; give a sweep file or a config with --grid")
            if not grid:
                from ..config.load import load_yaml

                load_yaml(target)  # a file that is not YAML (or is empty) says so, not "needs --grid"
            spec = sw.sweep_from_config(target, grid, overrides=list(set_))
            spec_dir = Path(".")
        sweep = sw.prepare_sweep(spec, spec_dir=spec_dir, name=name, out=out, metric=metric, direction=direction)
        result = sw.run_sweep(sweep, workers=workers, scheduler=scheduler, reporter=make_reporter(quiet))
        if not quiet:
            for line in summary_lines(result):
                print(line)
