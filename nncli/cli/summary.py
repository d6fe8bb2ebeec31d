"""nncli summary CONFIG|RUN_DIR: the network as a table of layers, shapes and parameter counts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List

import typer

from .common import reporting


def summary_command(
    target: Annotated[Path, typer.Argument(metavar="CONFIG|RUN_DIR", help="A YAML config (its data gives the input "
                                           "width) or a run directory.", show_default=False)],
    set_: Annotated[List[str], typer.Option("--set", metavar="KEY=VALUE",
                                            help="Override a key of a config (repeatable).")] = [],
) -> None:
    """Show each layer's input and output shape, activation, dropout and parameters, and the total."""
    with reporting():
        from ..inspect.summary import layer_rows, plain_table, shape_text

        if target.is_dir():
            from ..api import load_run
            from ..errors import UsageError

            if set_:
                raise UsageError(f"{target}: --set applies to a config, not to a trained run directory")
            run = load_run(target)
            cfg, n_inputs, inputs = run.config, run.preprocessor.n_inputs, run.preprocessor.input_names
        else:
            from ..config.validate import validate_config

            cfg, prepared = validate_config(target, set_)
            n_inputs, inputs = prepared.preprocessor.n_inputs, prepared.preprocessor.input_names
        rows = layer_rows(cfg, n_inputs)
        shown = ", ".join(inputs) if len(inputs) <= 8 else ", ".join(inputs[:8]) + ", ..."
        title = f"Model {cfg.name!r}: {n_inputs} input{'s' if n_inputs != 1 else ''} ({shown}), {cfg.task}"
        if not sys.stdout.isatty():
            sys.stdout.write(plain_table(title, rows))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, title_justify="left")
        for name, justify in (("layer", "right"), ("type", "left"), ("input shape", "left"), ("output shape", "left"),
                              ("activation", "left"), ("dropout", "right"), ("params", "right")):
            table.add_column(name, justify=justify)
        for r in rows:
            table.add_row(str(r.index), r.kind, shape_text(r.input_shape), shape_text(r.output_shape), r.activation,
                          f"{r.dropout:g}", f"{r.params:,}")
        total = sum(r.params for r in rows)
        table.caption = (f"Total params: {total:,} ({sum(r.weights for r in rows):,} weights, "
                         f"{sum(r.biases for r in rows):,} biases)")
        table.caption_justify = "left"
        Console().print(table)
