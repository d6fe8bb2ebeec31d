"""nncli train CONFIG: validate, train with live progress, write the run directory."""

from __future__ import annotations

import sys
from contextlib import contextmanager
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
    resume: Annotated[bool, typer.Option("--resume", help="Continue the interrupted run at --out from its "
                                         "checkpoint, with the config and overrides it started with.")] = False,
    allow_data_change: Annotated[bool, typer.Option("--data-changed",
                                                    help="With --resume: continue although the training data "
                                                         "changed since the checkpoint (recorded in metrics.json).")] = False,
    init_from: Annotated[Optional[Path], typer.Option(
        "--init-from", metavar="RUN_DIR", help="Start from this run's weights (model.init_from.run; a path relative "
                                               "to here, not to the config).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Train a network from a YAML config and write its run directory."""
    with reporting(), _interruptible_start() as phase:
        from ..api import train
        from ..config.schema import load_config
        from ..errors import ConfigError, DivergedError, Interrupted, RunDirError, UsageError
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
            if allow_data_change and not resume:
                raise UsageError("--data-changed: only means something with --resume; add --resume or drop it")
            run = train(cfg, out=out, callbacks=[progress] if progress else None, resume=resume,
                        allow_data_change=allow_data_change, handle_signals=True)
        except (Interrupted, DivergedError) as exc:
            if exc.checkpoint is not None:  # a checkpoint was kept: say how to continue from it
                command = resume_command(config, exc.out if exc.out is not None else out)
                exc.message += (f"; continue with: {command}" if isinstance(exc, Interrupted)
                                else f": after the change, continue with: {command}")
            raise
        except RunDirError as exc:  # a bad --init-from run: name the flag as typed
            raise RunDirError(_shorthand(exc.message, shorthand)) from None
        finally:
            if hasattr(progress, "close"):  # the live display lets go before any message is printed
                progress.close()
        phase["done"] = run.path  # published: a signal now is reported once the summary is out
        if not quiet:
            if resume:  # say what this segment continued from and what it changed
                seg = run.metrics["segments"][-1]
                print(f"resumed from epoch {seg['start_epoch']}" + (f", batch {seg['start_batch']}" if seg["start_batch"] else "")
                      + (f"; changed: {'; '.join(seg['changes'])}" if seg["changes"] else "")
                      + ("; the training data changed (allowed by --data-changed)" if seg["data_change_allowed"] else ""),
                      file=sys.stderr)
            print_summary(run)
            if run.replaced:
                print(f"replaced {run.replaced}")
        if phase["signum"] is not None:
            name = "Ctrl-C" if phase["signum"] == 2 else "SIGTERM"
            where = f"; the complete run was published to {run.path}" if run.path else ""
            raise Interrupted(f"interrupted by {name} after training had finished{where}", phase["signum"])


def resume_command(config: Path, out: Optional[Path]) -> str:
    """The command that continues an interrupted training: the config as typed and the run
    directory. The --set/--epochs/--seed given at the start are not repeated: the checkpoint
    holds them, and --resume continues with them."""
    import shlex

    return (f"nncli train {shlex.quote(str(config))} --resume"
            + (f" --out {shlex.quote(str(out))}" if out is not None else ""))


@contextmanager
def _interruptible_start():
    """From the first line of the command, SIGINT/SIGTERM end it with a message and exit
    128 + signal (while the engine is imported and the config read, nothing is written); the
    engine installs its own handlers for training (nncli.run.checkpoint.guarded) and restores these."""
    import signal

    from ..errors import Interrupted
    from ..interrupts import deliver

    phase = {"done": False, "signum": None}  # done: the run is published; signum: a signal after that

    def handler(signum, frame):
        if phase["done"] is not False:  # after training: the run stands; said after the summary
            if phase["signum"] is None:
                phase["signum"] = signum
            return
        name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        deliver(frame, lambda: None if phase["done"] is not False else Interrupted(
            f"interrupted by {name} before training started; nothing was written", signum))

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield phase
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)


def _shorthand(line: str, shorthand: dict[str, str]) -> str:
    """Name the flag the user typed (--epochs 5), not the --set override it became."""
    for long, short in shorthand.items():
        if line.startswith(long + ":"):
            return short + line[len(long):]
    return line
