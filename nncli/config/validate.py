"""Everything `nncli train` checks before training, without training: the config (every field,
every cross-field rule) and then the data it names (files, columns, output width, batch size).

Used by `nncli validate` and `nncli summary`; raises the same ConfigError / DataError lines that
`nncli train` prints, so a config that validates is one that starts training.
"""

from __future__ import annotations

from pathlib import Path

from ..data.checks import CheckedData, prepare_checked
from .schema import Config, load_config


def validate_config(path: str | Path, overrides=()) -> tuple[Config, CheckedData]:
    """Load and check a config, then load its data and run the checks that need it."""
    cfg = load_config(path, list(overrides))
    return cfg, prepare_checked(cfg)
