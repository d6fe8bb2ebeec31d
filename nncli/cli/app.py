"""The nncli command line: one Typer app, one thin module per command.

Command modules import NumPy and the engine inside their functions, so `nncli --help` and
`nncli --version` start without them.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .. import __version__
from .common import STATE, Command, Group
from .explain import explain_command
from .gradcheck import gradcheck_command
from .plot import plot_command
from .report import report_command
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
    cls=Group,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"nncli {__version__}")
        raise typer.Exit(0)


@app.callback()
def main_options(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors (for bug reports).")] = False,
) -> None:
    STATE["debug"] = debug


app.command("train", cls=Command)(train_command)
app.command("predict", cls=Command)(predict_command)
app.command("validate", cls=Command)(validate_command)
app.command("config", cls=Command)(config_command)
app.command("summary", cls=Command)(summary_command)
app.command("init", cls=Command)(init_command)
app.command("schema", cls=Command)(schema_command)
app.command("explain", cls=Command)(explain_command)
app.command("gradcheck", cls=Command)(gradcheck_command)
app.command("plot", cls=Command)(plot_command)
app.command("report", cls=Command)(report_command)
app.command("weights", cls=Command)(weights_command)
app.command("evaluate", cls=Command)(evaluate_command)
app.add_typer(data_app, name="data")
app.command("sweep", cls=Command)(sweep_command)
app.command("export", cls=Command)(export_command)
app.command("compare", cls=Command)(compare_command)


def main() -> None:
    # The name, not `python -m nncli`: completion scripts and usage lines are for `nncli`.
    app(prog_name="nncli")
