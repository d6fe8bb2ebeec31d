"""nncli schema: the JSON Schema of the config, for editors with a YAML language server."""

from __future__ import annotations

import sys

from .common import reporting


def schema_command() -> None:
    """Print the config's JSON Schema (save it, then point the yaml-language-server modeline at it)."""
    with reporting():
        from ..config.docs import schema_text

        sys.stdout.write(schema_text())
