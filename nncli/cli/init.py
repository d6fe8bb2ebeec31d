"""nncli init PATH: write a commented starter config that validates as written."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .common import reporting


class Template(str, Enum):
    xor = "xor"
    regression = "regression"
    classification = "classification"


def init_command(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Where to write the config, e.g. configs/mine.yaml.",
                                         show_default=False)],
    template: Annotated[Template, typer.Option("--template", "-t", help="Starting point.")] = Template.xor,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter config (data from a built-in generator, so it runs anywhere)."""
    with reporting():
        from ..errors import UsageError
        from ..run.files import write_text_atomic
        from ..config.templates import render

        if path.is_dir():
            raise UsageError(f"{path}: is a directory; give a file name, e.g. {path / 'config.yaml'}")
        if path.exists() and not force:
            raise UsageError(f"{path}: already exists; choose another path, or add --force to overwrite it")
        name = re.sub(r"[^A-Za-z0-9_.-]", "-", path.stem).lstrip("-_.") or "run"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, render(template.value, str(path), name))
        print(f"wrote {path} ({template.value}); next: nncli validate {path} && nncli train {path}")
