"""nncli data convert IN.csv OUT.npz|OUT.npy: CSV to NumPy files (OUT.npy is memory-mappable)."""

from __future__ import annotations

from typing import Annotated, List, Literal, Optional

import typer

from .common import Command, Group, reporting

data_app = typer.Typer(help="Data files: convert a CSV to .npz, or to .npy for data larger than memory.",
                       no_args_is_help=True, cls=Group)


@data_app.command("convert", cls=Command)
def convert_command(
    src: Annotated[str, typer.Argument(metavar="IN.csv", help="CSV with a header row.", show_default=False)],
    dst: Annotated[str, typer.Argument(metavar="OUT", help="OUT.npz (X, y, features) or OUT.npy (X; y goes to --y-out).",
                                       show_default=False)],
    target: Annotated[str, typer.Option("--target", "-t", metavar="COLUMN", help="The target column.")],
    features: Annotated[Optional[List[str]], typer.Option("--feature", metavar="COLUMN",
                                                          help="A feature column (repeatable; default: all but the target).")] = None,
    y_out: Annotated[Optional[str], typer.Option("--y-out", metavar="FILE",
                                                 help="Targets .npy for an .npy output (default OUT.y.npy).")] = None,
    dtype: Annotated[Literal["float32", "float64"], typer.Option("--dtype", help="Type of X.")] = "float32",
) -> None:
    """Convert a CSV (numeric feature columns) to NumPy files, reading it in chunks."""
    with reporting():
        from ..data.convert import convert

        written = convert(src, dst, target, features or None, y_out, dtype)
        for p in written:
            print(f"wrote {p}")
