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
    from . import starting

    starting.uninstall()  # parsed: each command handles signals itself from here


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


def _help_renderer_without_markdown() -> None:
    """Import typer's help renderer (typer.rich_utils) without rich.markdown and rich.traceback.

    It imports both at module level — markdown-it and pygments, about 80 ms of the 0.35 s that
    `nncli --help` may take — for Markdown help text and pretty tracebacks, which nncli never
    uses (rich_markup_mode "rich", pretty_exceptions_enable=False). Stand-in classes take their
    place while it loads; each imports the real class if it is ever called. The stand-in modules
    leave sys.modules at once, so any later `import rich.markdown` gets the real one."""
    import sys
    import types

    if "typer.rich_utils" in sys.modules:
        return

    class Markdown:
        def __new__(cls, *args, **kwargs):
            from rich.markdown import Markdown as real
            return real(*args, **kwargs)

    class Traceback:
        def __new__(cls, *args, **kwargs):
            from rich.traceback import Traceback as real
            return real(*args, **kwargs)

        @classmethod
        def from_exception(cls, *args, **kwargs):
            from rich.traceback import Traceback as real
            return real.from_exception(*args, **kwargs)

    stand_ins = {}
    for name, cls in (("rich.markdown", Markdown), ("rich.traceback", Traceback)):
        if name not in sys.modules:
            module = types.ModuleType(name)
            setattr(module, cls.__name__, cls)
            stand_ins[name] = sys.modules[name] = module
    try:
        import typer.rich_utils  # noqa: F401
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def main() -> None:
    import sys

    if len(sys.argv) < 2 or not {"-h", "--help"}.isdisjoint(sys.argv[1:]):
        _help_renderer_without_markdown()
    # The name, not `python -m nncli`: completion scripts and usage lines are for `nncli`.
    app(prog_name="nncli")
