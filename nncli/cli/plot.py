"""nncli plot RUN_DIR: loss curves, decision regions or the learned curve, as PNGs in the run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import reporting


def plot_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by nncli train.",
                                            show_default=False)],
    network: Annotated[bool, typer.Option("--network", help="Draw the network instead: network.png (every neuron "
                                                             "and weight).")] = False,
    evolution: Annotated[bool, typer.Option("--evolution", help="Draw the boundary or fit at each snapshot instead: "
                                            "evolution.png and evolution.gif (needs training.snapshots).")] = False,
) -> None:
    """Write loss.png (and decision.png for 2-input classification, fit.png for 1-input regression) into RUN_DIR;
    with --network and/or --evolution, those pictures instead."""
    with reporting():
        from ..inspect.plot import plot_run

        for path in plot_run(run_dir, network=network, evolution=evolution):
            print(f"wrote {path}")
