"""What every command shares: turning NncliError into one line on stderr and an exit code.

Only this layer prints errors and exits. With --debug (or NNCLI_DEBUG=1) the traceback is shown.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import typer

STATE = {"debug": False}


def debug_enabled() -> bool:
    return STATE["debug"] or os.environ.get("NNCLI_DEBUG", "") not in ("", "0")


def error(message: str) -> None:
    """Messages already name their file and place (compiler style: FILE:LINE:COL: ...)."""
    from ..config.messages import cap_line  # every line capped (a 5000-class list is elided)

    for line in message.splitlines() or [""]:
        print(cap_line(line), file=sys.stderr)


@contextmanager
def reporting():
    """Run a command body; NncliError -> one line per problem on stderr + its exit code."""
    from ..errors import NncliError

    try:
        yield
    except NncliError as exc:
        if debug_enabled():
            raise
        error(exc.message)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        if debug_enabled():
            raise
        print("interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    except BrokenPipeError:
        # `nncli predict ... | head`: the reader left; not an error worth a traceback.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        raise typer.Exit(0) from None


# --------------------------------------------------------------------------------------------
# How --help shows the parameters, and usage errors as one line.
#
# Typer labels every parameter with its Python type (`<bool>`, `<str>`, `<list[str]>`) and
# writes required arguments as `{config}`. nncli's help follows the usual convention instead: a
# flag shows nothing after its name, a choice lists its values (`[csv | json | jsonl]`, from the
# Enum or Literal annotation, so the list is the one the parser checks), any other option shows its
# metavar (`--set KEY=VALUE`) and arguments appear as `CONFIG`, `[INPUT]`, `CONFIGS...`. The command
# and group classes below give their parameters these subclasses; nothing else changes.

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption  # noqa: E402


class _Option(TyperOption):
    def display_type_rich(self, ctx):
        if self.is_flag:
            return None  # a flag takes no value
        if self.metavar is None and self.type_descriptor.is_choice:
            from enum import Enum

            values = (c.value if isinstance(c, Enum) else c for c in self.type_descriptor.choices or ())
            # Spaces around the bars let a narrow terminal wrap a long list between two values
            # instead of cutting a value in two.
            return "[" + " | ".join(map(str, values)) + "]"
        return super().display_type_rich(ctx)


class _Argument(TyperArgument):
    def display_type_rich(self, ctx):
        return None  # the metavar (CONFIG, RUN_DIR) says what to give

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if self.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name if self.required else f"[{name}]"


def _restyle(param) -> None:
    if type(param) is TyperOption:
        param.__class__ = _Option  # same state, a subclass that only changes two display methods
    elif type(param) is TyperArgument:
        param.__class__ = _Argument
        if param.metavar is None:
            param.metavar = param.name.upper()


@contextmanager
def _usage_errors_in_one_line():
    """Click's usage errors (unknown option, bad choice, missing argument) as one line, exit 2."""
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    try:
        yield
    except NoArgsIsHelpError:
        raise  # `nncli` alone prints the help
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "nncli"
        message = " ".join(exc.format_message().replace("Value error, ", "").split()).rstrip(".")
        print(f"{where}: {message} — see '{where} --help'", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from None


class Command(TyperCommand):
    def get_params(self, ctx):
        params = super().get_params(ctx)  # with --help, and --install-completion on the group
        for p in params:
            _restyle(p)
        return params

    def make_context(self, *args, **kwargs):
        with _usage_errors_in_one_line():
            return super().make_context(*args, **kwargs)


class Group(TyperGroup):
    def get_params(self, ctx):
        params = super().get_params(ctx)  # with --help, and --install-completion on the group
        for p in params:
            _restyle(p)
        return params

    def make_context(self, *args, **kwargs):
        with _usage_errors_in_one_line():
            return super().make_context(*args, **kwargs)

    def resolve_command(self, ctx, args):
        with _usage_errors_in_one_line():
            return super().resolve_command(ctx, args)
