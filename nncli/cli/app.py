"""The nncli command line: one Typer app, one thin module per command.

Command modules import NumPy and the engine inside their functions, so `nncli --help` and
`nncli --version` start without them.
"""

from __future__ import annotations

from typing import Optional

import typer

from .. import __version__
from .common import STATE
from .predict import predict_command
from .train import train_command

app = typer.Typer(
    name="nncli",
    help="Train dense neural networks from YAML configs, on NumPy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"nncli {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors (for bug reports)."),
) -> None:
    STATE["debug"] = debug


app.command("train")(train_command)
app.command("predict")(predict_command)


def main() -> None:
    app()
