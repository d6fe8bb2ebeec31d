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


# errno -> what to do about it, for the one line an operating-system error becomes
_OS_FIXES = {
    "ENOSPC": "the disk is full; free some space or write elsewhere",
    "EDQUOT": "the disk quota is used up; free some space or write elsewhere",
    "EACCES": "permission denied; check the permissions, or use another path",
    "EPERM": "operation not permitted; check the permissions, or use another path",
    "EROFS": "the file system is read-only; write elsewhere",
    "EBUSY": "the path is busy (in use, or a mount point); use another path",
    "ENAMETOOLONG": "the name is too long; use a shorter path",
    "ELOOP": "too many levels of symbolic links (a link loop?); fix the link or give the real path",
    "ENOENT": "no such file or folder; check the path",
    "ENOTDIR": "a part of the path is a file, not a folder; check the path",
    "EISDIR": "is a folder where a file is expected; give a file",
    "EEXIST": "already exists; remove it or use another path",
    "ENOTEMPTY": "the folder is not empty; use another path",
    "EXDEV": "crosses file systems; keep the output on one file system",
    "EMFILE": "too many open files; raise the limit (ulimit -n)",
    "EIO": "an input/output error; check the disk",
    "EINVAL": "not a valid path or operation here; use another path",
}


def os_error_line(exc: OSError) -> str:
    """'PATH: what happened — the fix' for any OSError (ENOSPC, EACCES, ENAMETOOLONG, ...)."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    what = exc.strerror or str(exc) or exc.__class__.__name__
    fix = _OS_FIXES.get(name, "check the path and the disk")
    where = exc.filename if exc.filename is not None else "nncli"
    if exc.filename2 is not None:
        where = f"{exc.filename} -> {exc.filename2}"
    return f"{where}: {what}{f' [{name}]' if name else ''} — {fix}"


def _tolerant_streams() -> None:
    """A terminal or pipe that cannot encode a character (PYTHONIOENCODING=ascii) gets an escape
    instead of a UnicodeEncodeError in the middle of a message."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if getattr(stream, "errors", "strict") == "strict":
                stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def error(message: str) -> None:
    """Messages already name their file and place (compiler style: FILE:LINE:COL: ...)."""
    from ..config.messages import cap_line  # every line capped (a 5000-class list is elided)

    for line in _escaped_arguments(message).splitlines() or [""]:
        print(cap_line(line), file=sys.stderr)


def _escaped_arguments(message: str) -> str:
    """A message holds one line per problem; a path typed on the command line with a line break or
    another control character in it (`nncli predict RUN $'a\\nb'`) is shown escaped (a\\nb), so
    it stays on its problem's line."""
    for arg in sorted(set(sys.argv[1:]), key=len, reverse=True):
        if arg and not arg.isprintable() and arg in message:
            shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in arg)
            message = message.replace(arg, shown)
    return message


@contextmanager
def reporting():
    """Run a command body; NncliError -> one line per problem on stderr + its exit code."""
    from ..errors import EXIT_USAGE, NncliError

    from .starting import enter, finish

    _tolerant_streams()
    enter()
    try:
        try:
            yield
        finally:
            finish()  # the outcome is settled: a signal from here on cannot change it (cli/starting.py)
    except NncliError as exc:
        if debug_enabled():
            raise
        error(exc.message)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt as exc:
        if debug_enabled():
            raise
        from .starting import Terminated

        terminated = isinstance(exc, Terminated)
        print(f"interrupted by {'SIGTERM' if terminated else 'Ctrl-C'}", file=sys.stderr)
        raise typer.Exit(143 if terminated else 130) from None
    except BrokenPipeError:
        _left_pipe()
    except OSError as exc:  # the operating system refused a file operation: one line, exit 2
        if debug_enabled():
            raise
        error(os_error_line(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except RuntimeError as exc:  # pathlib's resolve() on a symbolic link loop (Python < 3.13)
        if not str(exc).startswith("Symlink loop from ") or debug_enabled():
            raise
        path = str(exc)[len("Symlink loop from "):].strip("'\"")
        error(f"{path}: {_OS_FIXES['ELOOP']}")
        raise typer.Exit(EXIT_USAGE) from None
    except MemoryError as exc:  # an allocation nncli could not estimate beforehand
        if debug_enabled():
            raise
        why = f" ({exc})" if str(exc) else ""
        error(f"nncli: out of memory{why} — the data or the network does not fit in the memory available "
              f"(see ulimit -v); use less data, fewer units or a smaller batch_size")
        raise typer.Exit(EXIT_USAGE) from None
    except ValueError as exc:
        if "null byte" not in str(exc) or debug_enabled():
            raise
        error("nncli: a path holds a NUL byte; give paths without it")
        raise typer.Exit(EXIT_USAGE) from None


def _left_pipe() -> None:
    """`nncli predict ... | head`: the reader left; not an error worth a traceback."""
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

    _tolerant_streams()
    try:
        yield
    except NoArgsIsHelpError:
        raise  # `nncli` alone prints the help
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "nncli"
        message = " ".join(exc.format_message().replace("Value error, ", "").split()).rstrip(".")
        print(f"{where}: {message} — see '{where} --help'", file=sys.stderr)
        raise typer.Exit(exc.exit_code) from None


class _Restyled:
    """What nncli's commands and groups share: restyled help parameters, one-line usage errors."""

    def get_params(self, ctx):
        params = super().get_params(ctx)  # with --help, and --install-completion on the group
        for p in params:
            _restyle(p)
        return params

    def make_context(self, *args, **kwargs):
        with _usage_errors_in_one_line():
            return super().make_context(*args, **kwargs)


class Command(_Restyled, TyperCommand):
    pass


class Group(_Restyled, TyperGroup):
    def resolve_command(self, ctx, args):
        with _usage_errors_in_one_line():
            return super().resolve_command(ctx, args)
