"""nncli config CONFIG: the config training will use, every default written out, as YAML on stdout."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, List

import typer

from .common import reporting


def config_command(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="YAML config file.", show_default=False)],
    set_: Annotated[List[str], typer.Option("--set", metavar="KEY=VALUE",
                                            help="Override a config key, e.g. training.epochs=5 (repeatable).")] = [],
) -> None:
    """Print the config with every default it will use written out (after --set overrides), as YAML; unset keys are left out."""
    with reporting():
        import yaml

        from ..config.schema import load_config

        cfg = load_config(config, list(set_))
        for w in cfg.warnings:
            print(w, file=sys.stderr)
        sys.stdout.write(yaml.safe_dump(cfg.effective(), sort_keys=False, allow_unicode=True))
