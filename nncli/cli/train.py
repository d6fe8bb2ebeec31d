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
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Train a network from a YAML config and write its run directory."""
    with reporting():
        from ..api import train
        from ..config.schema import load_config
        from ..errors import ConfigError, DivergedError, Interrupted
        from .progress import make_progress, print_summary

        overrides = list(set_)
        if seed is not None:
            overrides.append(f"seed={seed}")
        if epochs is not None:
            overrides.append(f"training.epochs={epochs}")
        try:
            cfg = load_config(config, overrides)
        except ConfigError as exc:  # name the flag the user typed, not the override it became
            shorthand = {f"--set seed={seed}": f"--seed {seed}", f"--set training.epochs={epochs}": f"--epochs {epochs}"}
            lines = []
            for line in exc.messages:
                for long, short in shorthand.items():
                    if line.startswith(long + ":"):
                        line = short + line[len(long):]
                lines.append(line)
            raise ConfigError(lines) from None
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
        if not quiet:
            print_summary(run)
            if run.replaced:
                print(f"replaced {run.replaced}")


def resume_command(config: Path, out: Optional[Path]) -> str:
    """The command that continues an interrupted training: the config as typed, and --out only
    when it was given (otherwise the config's output.dir names the same run)."""
    import shlex

    return (f"nncli train {shlex.quote(str(config))} --resume"
            + (f" --out {shlex.quote(str(out))}" if out is not None else ""))
