"""A checkpoint's metadata, validated field by field (strict: no coercion, no unknown keys).

A tampered value (``epoch: 1e30``, ``step_in_epoch: -3``, a history whose columns differ in
length, a random-generator state of the wrong kind) is one RunDirError line naming the field,
never a traceback and never accepted. Checks against the trainer (is the step inside the
epoch, does the history fit) are in resume.py, which knows the data and the config.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import RunDirError

Count = Annotated[int, Field(ge=0, le=2**53)]  # a count JSON keeps exactly


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class PCG64Inner(_Strict):
    state: int = Field(ge=0, lt=2**128)
    inc: int = Field(ge=0, lt=2**128)


class RngState(_Strict):
    """numpy's PCG64 bit-generator state (what seeding.rng makes)."""

    bit_generator: Literal["PCG64"]
    state: PCG64Inner
    has_uint32: int = Field(ge=0, le=1)
    uinteger: int = Field(ge=0, lt=2**32)


class EarlyStopping(_Strict):
    best: Optional[float] = Field(allow_inf_nan=False)
    wait: Count
    best_epoch: Count


class DataFile(_Strict):
    path: str
    size: Count
    mtime_ns: int = Field(ge=0)


class DataFingerprint(_Strict):
    """The files the data came from and a hash of the prepared arrays (None: too large to hash
    for free, e.g. memory-mapped data; then size and mtime decide)."""

    files: dict[str, DataFile]
    arrays: Optional[str] = Field(pattern=r"^[0-9a-f]{64}$")


class Segment(_Strict):
    """One stretch of training: the first starts at epoch 0; each resume adds one."""

    start_epoch: Count
    start_batch: Count
    overrides: list[str]
    changes: list[str]
    data_change_allowed: bool


class CheckpointMeta(_Strict):
    format: Literal[2]
    epoch: Count
    step_in_epoch: Count
    loss_sum: float = Field(allow_inf_nan=False)
    seen: Count
    epoch_seconds: float = Field(ge=0, allow_inf_nan=False)
    seconds: float = Field(ge=0, allow_inf_nan=False)
    shuffle_rng: RngState
    epoch_start_shuffle_rng: Optional[RngState]
    dropout_rng: RngState
    schedule: dict[str, Union[float, int, None]]
    early_stopping: EarlyStopping
    history: dict[str, list[float]]
    config: dict[str, Any]
    overrides: list[str]
    data: DataFingerprint
    segments: list[Segment] = Field(min_length=1)

    @field_validator("schedule")
    @classmethod
    def _finite(cls, v):
        for key, x in v.items():
            if isinstance(x, float) and not math.isfinite(x):
                raise ValueError(f"{key} must be a finite number")
        return v

    @model_validator(mode="after")
    def _consistent(self):
        lengths = {k: len(v) for k, v in self.history.items()}
        if any(n != self.epoch for n in lengths.values()):
            raise ValueError(f"history columns have {sorted(set(lengths.values()))} rows but epoch is "
                             f"{self.epoch} (one row per completed epoch)")
        if self.history and "epoch" not in self.history:
            raise ValueError("history has no epoch column")
        if self.step_in_epoch > 0 and self.epoch_start_shuffle_rng is None:
            raise ValueError("epoch_start_shuffle_rng is missing for a checkpoint inside an epoch")
        return self


def parse_meta(obj: Any, where: str) -> dict:
    """``obj`` (decoded JSON) checked against CheckpointMeta; returns it as plain data. ``where``
    names the file and member in the one-line error."""
    fix = "; the checkpoint is damaged, train without --resume to start over"
    if not isinstance(obj, dict):
        raise RunDirError(f"{where}: expected a JSON object{fix}")
    if obj.get("format") != 2:
        raise RunDirError(f"{where}: format {obj.get('format')!r:.20}, this nncli reads format 2{fix}")
    try:
        CheckpointMeta.model_validate(obj)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        value = repr(err.get("input"))
        value = value if len(value) <= 40 else value[:37] + "..."
        more = exc.error_count() - 1
        msg = err["msg"].removeprefix("Value error, ")
        raise RunDirError(f"{where}: {loc}: {msg} (got {value})"
                          + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "") + fix) from None
    return obj
