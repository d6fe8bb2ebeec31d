"""Checks of a run directory's metadata files, which may come from anyone: every field of
preprocessing.json and every cell of history.csv is checked for type and consistency with
config.yaml before anything uses it, so a tampered file gives one line naming the file and the
field, never a traceback deep inside prediction."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import RunDirError

PREPROCESSING_KEYS = ("task", "features", "targets", "categories", "scaling", "offset", "scale", "classes", "fill")
SCALINGS = ("standardize", "minmax", "none")
_TYPE_NAMES = {"int", "float", "str", "list[...]", "none", "function-after", "union", "nullable"}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _names(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) and x for x in v) and len(set(v)) == len(v)


_MODEL = None


def _model():
    """The strict pydantic model of preprocessing.json (built once, lazily: pydantic is slow to import)."""
    global _MODEL
    if _MODEL is None:
        from typing import Literal, Optional, Union

        from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt, StrictStr

        Number = Union[StrictInt, StrictFloat]

        class PreprocessingFile(BaseModel):
            model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
            task: Literal["classification", "regression"]
            features: list[StrictStr]
            targets: list[StrictStr]
            categories: dict[StrictStr, list[StrictStr]]
            scaling: Literal["standardize", "minmax", "none"]
            offset: list[Number]
            scale: list[Number]
            classes: Optional[list[Union[StrictStr, StrictInt, StrictFloat]]]
            fill: dict[StrictStr, Number]

        _MODEL = PreprocessingFile
    return _MODEL


def check_preprocessing(obj: dict, path: Path, cfg) -> None:
    """Raise RunDirError naming the first field of preprocessing.json that nncli did not write:
    the fields alone and against each other and config.yaml, then every field's type through a
    strict pydantic model (no coercion, no extra keys, finite numbers)."""

    def bad(field: str, what: str):
        raise RunDirError(f"{path}: {field}: {what}; the file was not written by nncli or was changed "
                          f"(re-train to get a clean run directory)")

    missing = [k for k in PREPROCESSING_KEYS if k not in obj]
    if missing:
        bad(missing[0], f"missing (keys needed: {', '.join(PREPROCESSING_KEYS)})")
    extra = sorted(k for k in obj if k not in PREPROCESSING_KEYS)
    if extra:
        bad(extra[0], "unknown key")
    task = obj["task"]
    if task not in ("classification", "regression"):
        bad("task", f"expected 'classification' or 'regression', got {task!r}")
    if task != cfg.task:
        bad("task", f"{task!r} but config.yaml's loss {cfg.training.loss.name} is for {cfg.task}")
    if not _names(obj["features"]):
        bad("features", "expected a non-empty list of distinct column names")
    if not _names(obj["targets"]):
        bad("targets", "expected a non-empty list of distinct column names")
    features = obj["features"]
    cats = obj["categories"]
    if not isinstance(cats, dict):
        bad("categories", f"expected a mapping column -> list of categories, got {type(cats).__name__}")
    for col, values in cats.items():
        if col not in features:
            bad(f"categories.{col}", "not one of the features")
        if not _names(values):
            bad(f"categories.{col}", "expected a non-empty list of distinct category names")
    if obj["scaling"] not in SCALINGS:
        bad("scaling", f"expected one of {', '.join(SCALINGS)}, got {obj['scaling']!r}")
    n_inputs = sum(len(cats[f]) if f in cats else 1 for f in features)
    for key in ("offset", "scale"):
        v = obj[key]
        if not isinstance(v, list) or len(v) != n_inputs or not all(_is_number(x) for x in v):
            bad(key, f"expected {n_inputs} finite numbers (one per network input)")
    if any(x == 0 for x in obj["scale"]):
        bad("scale", "holds 0, which would divide by zero")
    fill = obj["fill"]
    if not isinstance(fill, dict) or not all(k in features and _is_number(v) for k, v in fill.items()):
        bad("fill", "expected a mapping feature -> finite number")
    classes = obj["classes"]
    units = cfg.model.layers[-1].units
    if task == "classification":
        if (not isinstance(classes, list) or len(classes) < 2
                or not all(isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in classes)):
            bad("classes", "expected a list of at least 2 class labels")
        if len({str(c) for c in classes}) != len(classes):
            bad("classes", "holds a label twice")
        if len(obj["targets"]) != 1:
            bad("targets", "a classification run has one target column")
        want = 2 if cfg.training.loss.name == "binary_crossentropy" else units
        if len(classes) != want:
            bad("classes", f"{len(classes)} classes but config.yaml's output layer is for {want}")
    else:
        if classes is not None:
            bad("classes", "a regression run has no classes (expected null)")
        if len(obj["targets"]) != units:
            bad("targets", f"{len(obj['targets'])} target columns but config.yaml's output layer has {units} units")

    # the field checks above give the descriptive lines; the strict model is the last word on every
    # field's type (no coercion: "1" is not 1, true is not a label, 1e400 is not finite)
    from pydantic import ValidationError

    try:
        _model().model_validate(obj)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        # a Union reports each branch ('offset', 0, 'int'): keep the path into the file, drop the type names
        parts = [str(x) for x in loc if not (isinstance(x, str) and x in _TYPE_NAMES)]
        value = repr(first.get("input"))[:40]
        msg = first["msg"][:80]
        if len(parts) > 1 and parts[0] in ("offset", "scale", "fill"):
            msg = "expected a finite number"
        elif len(parts) > 1 and parts[0] == "classes":
            msg = "expected a class label (text or a number)"
        bad(".".join(parts) if parts else "(top level)", f"{msg} (got {value})")


def parse_history(text: str, path: Path):
    """history.csv -> History, with the line of the first bad cell in the message."""
    from ..training import History

    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise RunDirError(f"{path}:1: no header row; expected epoch,train_loss,...")
    names = lines[0].split(",")
    if names[0] != "epoch" or len(set(names)) != len(names):
        raise RunDirError(f"{path}:1: the header must start with 'epoch' and name each column once")
    h = History()
    h.columns = {n: [] for n in names}
    for i, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != len(names):
            raise RunDirError(f"{path}:{i}: row has {len(cells)} fields but the header has {len(names)}")
        for n, cell in zip(names, cells):
            try:
                h.columns[n].append(int(cell) if n == "epoch" else float(cell))
            except ValueError:
                raise RunDirError(f"{path}:{i}: column {n!r}: {cell[:40]!r} is not a number") from None
    return h
