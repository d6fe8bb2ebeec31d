"""The sweep file: a base config and a search space over dotted config paths.

A sweep names a base config and a search space over dotted config paths (the same paths as
``--set``): a ``grid`` of values, and/or ``trials`` random points of a ``space`` of distributions.
``--grid key=v1,v2`` builds the same thing from the command line.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nncli.errors import ConfigError, UsageError

__all__ = [
    "Distribution",
    "SweepSpec",
    "SAFE_NAME",
    "is_sweep_file",
    "load_sweep_spec",
    "parse_grid_option",
    "sweep_from_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Distribution(_Strict):
    """One random-search dimension: exactly one of choice, uniform, loguniform, int."""

    choice: list[Any] | None = None
    uniform: tuple[float, float] | None = None
    loguniform: tuple[float, float] | None = None
    int_: tuple[int, int] | None = Field(default=None, alias="int")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _exactly_one(self) -> "Distribution":
        given = [k for k in ("choice", "uniform", "loguniform", "int_") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of choice: [...], uniform: [lo, hi], loguniform: [lo, hi], int: [lo, hi]")
        if self.choice is not None and not self.choice:
            raise ValueError("choice needs at least one value")
        for kind in ("uniform", "loguniform", "int_"):
            rng = getattr(self, kind)
            if rng is not None and rng[0] > rng[1]:
                raise ValueError(f"{kind.rstrip('_')}: [lo, hi] needs lo <= hi, got {list(rng)}")
        if self.loguniform is not None and self.loguniform[0] <= 0:
            raise ValueError("loguniform: [lo, hi] needs 0 < lo")
        return self

    def sample(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1).  Floats are rounded to 4 significant digits."""
        if self.choice is not None:
            return self.choice[min(int(u * len(self.choice)), len(self.choice) - 1)]
        if self.int_ is not None:
            lo, hi = self.int_
            return min(lo + int(u * (hi - lo + 1)), hi)
        if self.uniform is not None:
            lo, hi = self.uniform
            return _round_sig(lo + u * (hi - lo))
        lo, hi = self.loguniform  # type: ignore[misc]
        return _round_sig(math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))))


def _round_sig(x: float, digits: int = 4) -> float:
    return float(f"{x:.{digits}g}")


Metric = str


class SweepSpec(_Strict):
    """A sweep file (YAML)."""

    name: str | None = None
    base: str
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    trials: int | None = Field(default=None, ge=1)
    space: dict[str, Distribution] = Field(default_factory=dict)
    seed: int = 0
    metric: Metric | None = None
    direction: Literal["minimize", "maximize"] | None = None
    workers: int | None = Field(default=None, ge=1)
    overrides: list[str] = Field(default_factory=list)  # fixed `--set`s applied to every trial

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, v: str | None) -> str | None:
        if v is not None and not SAFE_NAME.fullmatch(v):
            raise ValueError("use letters, digits, '.', '_' and '-' (it names the folder runs/<name>)")
        return v

    @field_validator("grid")
    @classmethod
    def _grid_values(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ValueError(f"{key}: needs at least one value")
        return v

    @model_validator(mode="after")
    def _shape(self) -> "SweepSpec":
        if self.space and self.trials is None:
            raise ValueError("space: random search needs trials: N")
        if self.trials is not None and not self.space:
            raise ValueError("trials: random search needs a space: {dotted.path: {uniform: [lo, hi]}, ...}")
        if not self.grid and not self.space:
            raise ValueError("nothing to search: give grid: {dotted.path: [values]} and/or trials + space")
        both = sorted(set(self.grid) & set(self.space))
        if both:
            raise ValueError(f"{', '.join(both)}: in both grid and space; keep it in one")
        for key in [*self.grid, *self.space]:
            if not _DOTTED.fullmatch(key):
                raise ValueError(f"{key!r}: not a dotted config path like training.optimizer.learning_rate")
        return self


SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*")


def load_sweep_spec(path: str | os.PathLike) -> SweepSpec:
    """Read a sweep file; every problem is a ConfigError line with the file's line:column."""
    from nncli.config.load import load_yaml  # noqa: PLC0415
    from nncli.config.messages import format_validation_error  # noqa: PLC0415

    source = load_yaml(path)
    try:
        return SweepSpec.model_validate(source.data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, source, SweepSpec)) from None


def is_sweep_file(path: str | os.PathLike) -> bool:
    """A YAML file with a ``base:`` key and no ``model:`` is a sweep file; otherwise a run config."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and "base" in raw and "model" not in raw


def parse_grid_option(option: str) -> tuple[str, list[Any]]:
    """``training.optimizer.learning_rate=0.3,0.1`` -> ("training.optimizer.learning_rate", [0.3, 0.1]).

    Each value is read by the one command-line value parser (:func:`nncli.config.overrides.parse_value`)."""
    from nncli.config.overrides import parse_value, split_top_level  # noqa: PLC0415

    key, sep, values = option.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise UsageError(f"--grid {option}: expected --grid dotted.path=v1,v2,... (e.g. --grid model.layers.0.units=8,32)")
    if not _DOTTED.fullmatch(key):
        raise UsageError(f"--grid {option}: {key!r} is not a dotted config path")
    parts = split_top_level(values)
    if any(not p.strip() for p in parts):
        raise UsageError(f"--grid {option}: an empty value (stray comma?)")
    return key, [parse_value(p, f"--grid {option}", tuple(key.split("."))) for p in parts]


def sweep_from_config(config_path: str | os.PathLike, grid: list[str], **spec_fields: Any) -> SweepSpec:
    """A sweep without a file: a config plus ``--grid key=v1,v2`` options."""
    parsed = dict(parse_grid_option(g) for g in grid)
    if not parsed and not spec_fields.get("space"):
        raise UsageError("nncli sweep CONFIG needs at least one --grid dotted.path=v1,v2,...")
    fields = {"base": str(Path(config_path).resolve()), "grid": parsed, **spec_fields}
    try:
        return SweepSpec.model_validate(fields)
    except ValidationError as e:
        from nncli.config.load import source_from_data  # noqa: PLC0415
        from nncli.config.messages import format_validation_error  # noqa: PLC0415

        raise UsageError("; ".join(format_validation_error(e, source_from_data(fields, "--grid"), SweepSpec))) from None
