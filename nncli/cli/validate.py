"""nncli validate CONFIG...: every check train runs before training (config and data), no training."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List

import typer

from .common import debug_enabled, error, reporting


def validate_command(
    configs: Annotated[List[Path], typer.Argument(metavar="CONFIG...", help="One or more YAML config files.",
                                                  show_default=False)],
    set_: Annotated[List[str], typer.Option("--set", metavar="KEY=VALUE", help="Override a key in every file, "
                                            "e.g. training.epochs=5 (repeatable).")] = [],
) -> None:
    """Check configs and their data without training: 'ok FILE' per good file, problems on stderr; exit 0 or 2."""
    with reporting():
        from ..errors import EXIT_USAGE, NncliError
        from ..config.validate import validate_config

        failed = False
        for path in configs:
            try:
                cfg, _ = validate_config(path, set_)
            except NncliError as exc:
                if debug_enabled():
                    raise
                error(exc.message)
                failed = True
                continue
            for w in cfg.warnings:
                print(w, file=sys.stderr)
            print(f"ok {path}", flush=True)
    if failed:
        raise typer.Exit(EXIT_USAGE)
