"""The nncli command line: one Typer app, one thin module per command.

Command modules import NumPy and the engine inside their functions, so `nncli --help` and
`nncli --version` start without them.
"""

from __future__ import annotations

from typing import Optional

import typer

from .. import __version__
from .common import STATE
from .explain import explain_command
from .gradcheck import gradcheck_command
from .plot import plot_command
from .data import data_app
from .evaluate import evaluate_command
from .export import export_command
from .compare import compare_command
from .predict import predict_command
from .sweep import sweep_command
from .train import train_command
from .validate import validate_command
from .config_cmd import config_command
from .summary import summary_command
from .init import init_command
from .schema import schema_command
from .weights import weights_command

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
app.command("validate")(validate_command)
app.command("config")(config_command)
app.command("summary")(summary_command)
app.command("init")(init_command)
app.command("schema")(schema_command)
app.command("explain")(explain_command)
app.command("gradcheck")(gradcheck_command)
app.command("plot")(plot_command)
app.command("weights")(weights_command)
app.command("evaluate")(evaluate_command)
app.add_typer(data_app, name="data")
app.command("sweep")(sweep_command)
app.command("export")(export_command)
app.command("compare")(compare_command)


def main() -> None:
    app()
