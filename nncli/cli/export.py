"""nncli export RUN_DIR OUT.onnx: the whole prediction path (preprocessing + network) as ONNX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import reporting


def export_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by nncli train.",
                                            show_default=False)],
    out: Annotated[Path, typer.Argument(metavar="OUT.onnx", help="The .onnx file to write.", show_default=False)],
) -> None:
    """Write an ONNX model that takes the raw feature columns and returns what nncli predict does
    (needs the onnx package)."""
    with reporting():
        from ..onnx_export import export_run

        info = export_run(run_dir, out)
        inputs = ", ".join(info["inputs"])
        print(f"wrote {info['path']} ({info['bytes']} bytes): inputs {inputs}; outputs {', '.join(info['outputs'])}")
        if info["numeric_columns"]:
            print(f"numeric columns, in order: {', '.join(info['numeric_columns'])}")
