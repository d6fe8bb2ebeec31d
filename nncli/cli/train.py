"""nncli train CONFIG: validate, train with live progress, write the run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .common import reporting


def train_command(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="YAML config file.", show_default=False)],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", metavar="DIR",
                                                help="Run directory (default: output.dir or runs/<name>).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", metavar="N", help="Override the config's seed.")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", metavar="N", help="Override training.epochs.")] = None,
    set_: Annotated[List[str], typer.Option("--set", metavar="KEY=VALUE",
                                            help="Override a config key, e.g. training.epochs=5 (repeatable).")] = [],
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the checkpoint of an interrupted run.")] = False,
    init_from: Annotated[Optional[Path], typer.Option(
        "--init-from", metavar="RUN_DIR", help="Start from this run's weights (model.init_from.run; a path relative "
                                               "to here, not to the config).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Train a network from a YAML config and write its run directory."""
    with reporting():
        from ..api import train
        from ..config.schema import load_config
        from ..errors import ConfigError, DivergedError, Interrupted, RunDirError
        from .progress import make_progress, print_summary

        overrides = list(set_)
        if seed is not None:
            overrides.append(f"seed={seed}")
        if epochs is not None:
            overrides.append(f"training.epochs={epochs}")
        if init_from is not None:  # first, so --set model.init_from.layers=[0] can add to it; a path
            # typed here is relative to the working directory, not to the config
            overrides.insert(0, f"model.init_from.run={init_from.resolve()}")
        shorthand = {f"--set seed={seed}": f"--seed {seed}", f"--set training.epochs={epochs}": f"--epochs {epochs}",
                     f"--set model.init_from.run={init_from and init_from.resolve()}": f"--init-from {init_from}"}
        try:
            cfg = load_config(config, overrides)
        except ConfigError as exc:  # name the flag the user typed, not the override it became
            raise ConfigError([_shorthand(line, shorthand) for line in exc.messages]) from None
        if not quiet:
            for w in cfg.warnings:
                print(w, file=sys.stderr)
        progress = make_progress(quiet)
        try:
            run = train(cfg, out=out, callbacks=[progress] if progress else None, resume=resume,
                        handle_signals=True)
        except (Interrupted, DivergedError) as exc:
            if exc.checkpoint is not None:  # a checkpoint was kept: say how to continue from it
                command = resume_command(config, out)
                exc.message += (f"; continue with: {command}" if isinstance(exc, Interrupted)
                                else f": after the change, continue with: {command}")
            raise
        except RunDirError as exc:  # a bad --init-from run: name the flag as typed
            raise RunDirError(_shorthand(exc.message, shorthand)) from None
        if not quiet:
            print_summary(run)


def resume_command(config: Path, out: Optional[Path]) -> str:
    """The command that continues an interrupted training: the config as typed, and --out only
    when it was given (otherwise the config's output.dir names the same run)."""
    import shlex

    return (f"nncli train {shlex.quote(str(config))} --resume"
            + (f" --out {shlex.quote(str(out))}" if out is not None else ""))


def _shorthand(line: str, shorthand: dict[str, str]) -> str:
    """Name the flag the user typed (--epochs 5), not the --set override it became."""
    for long, short in shorthand.items():
        if line.startswith(long + ":"):
            return short + line[len(long):]
    return line
