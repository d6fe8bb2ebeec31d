"""nncli config CONFIG: the resolved config, every default filled in, as YAML on stdout."""

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
    """Print the config with every default filled in (after --set overrides), as YAML."""
    with reporting():
        import yaml

        from ..config.schema import load_config

        cfg = load_config(config, list(set_))
        for w in cfg.warnings:
            print(w, file=sys.stderr)
        sys.stdout.write(yaml.safe_dump(cfg.resolved(), sort_keys=False, allow_unicode=True))
