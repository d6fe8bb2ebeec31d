"""nncli data convert IN.csv OUT.npz|OUT.npy: CSV to NumPy files (OUT.npy is memory-mappable)."""

from __future__ import annotations

from typing import List, Optional

import typer

from .common import reporting

data_app = typer.Typer(help="Data files: convert a CSV to .npz, or to .npy for data larger than memory.",
                       no_args_is_help=True)


@data_app.command("convert")
def convert_command(
    src: str = typer.Argument(..., help="CSV with a header row.", show_default=False),
    dst: str = typer.Argument(..., help="OUT.npz (X, y, features) or OUT.npy (X; y goes to --y-out).", show_default=False),
    target: str = typer.Option(..., "--target", "-t", help="The target column."),
    features: Optional[List[str]] = typer.Option(None, "--feature", help="A feature column (repeatable; default: all but the target)."),
    y_out: Optional[str] = typer.Option(None, "--y-out", help="Targets .npy for an .npy output (default OUT.y.npy)."),
    dtype: str = typer.Option("float32", "--dtype", help="float32 or float64 for X."),
) -> None:
    """Convert a CSV (numeric feature columns) to NumPy files, reading it in chunks."""
    with reporting():
        from ..data.convert import convert
        from ..errors import UsageError

        if dtype not in ("float32", "float64"):
            raise UsageError(f"--dtype: {dtype!r} is not float32 or float64")
        written = convert(src, dst, target, features or None, y_out, dtype)
        for p in written:
            print(f"wrote {p}")
