"""nncli weights RUN_DIR: each layer's W and b; for one linear neuron, learned vs generating values."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import reporting


def weights_command(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="Run directory written by nncli train.",
                                            show_default=False)],
) -> None:
    """Print what the network learned: W (inputs × units) and b of every layer."""
    with reporting():
        from ..api import load_run
        from ..inspect.weights import weights_report
        from .render import Out, num

        r = weights_report(load_run(run_dir))
        out = Out()
        out.title(f"weights of {r.name} ({run_dir})")
        out.note(f"inputs: {', '.join(r.input_names)}", indent=0)
        for i, (act, fan_in, units, W, b) in enumerate(r.layers):  # 0-based, as weights.npz's layers.0
            out.section(f"layer {i}: {fan_in} → {units}, {act}")
            out.value("W", W)
            out.value("b", b)
        if r.coefficients:
            out.section("one linear neuron: ŷ = Σ wᵢ·xᵢ + b, in the data's units")
            if r.source:
                out.note(f"true values from the {r.source}")
            has_true = any(c.true is not None for c in r.coefficients)
            headers = ["parameter", "learned"] + (["true", "difference"] if has_true else [])
            rows = []
            for c in r.coefficients:
                row = [c.name, num(c.learned)]
                if has_true:
                    row += ["" if c.true is None else num(c.true),
                            "" if c.true is None else f"{c.learned - c.true:+.3g}"]
                rows.append(row)
            out.table(headers, rows)
