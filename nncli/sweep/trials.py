"""Trials and their ids: a trial is a parameter set (dotted path -> value) and the overrides that
make it; its id is a readable, filesystem-safe name built from the parameters alone
(``lr0.1-units8``), so a rerun finds the trials it already finished."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from nncli.config.overrides import Override, format_value, jsonable

__all__ = ["Trial", "params_hash", "short_names", "trial_id"]


@dataclass(frozen=True)
class Trial:
    id: str
    params: dict[str, Any]  # dotted path -> value, in the sweep's key order
    overrides: tuple[Override, ...]  # the sweep's fixed overrides, then one per param

    @property
    def override_texts(self) -> list[str]:
        """The overrides as ``key=value`` text (what sweep.json, best.json and metrics.json record)."""
        return [o.text for o in self.overrides]


_ABBREV = {
    "learning_rate": "lr",
    "activation": "act",
    "batch_size": "bs",
    "epochs": "ep",
    "momentum": "mom",
    "dropout": "drop",
    "weight_decay": "wd",
    "initializer": "init",
    "clip_norm": "clip",
    "validation_split": "val",
    "n_samples": "n",
    "optimizer": "opt",
    "schedule": "sched",
    "scaling": "scale",
    "nesterov": "nest",
    "patience": "pat",
}
# A '-' inside a value must be followed by a digit (1e-05, -0.5): '-' + letter separates parameters.
_ID_VALUE_OK = re.compile(r"(?:[A-Za-z0-9._+]|-(?=[0-9]))+")
_ID_MAX = 80


def short_names(keys: list[str]) -> dict[str, str]:
    """Short, distinct labels for the swept keys: lr, units, act; l0units/l1units when two layers."""

    def base(key: str) -> str:
        parts = key.split(".")
        words = [p for p in parts if not p.isdigit()]
        last = words[-1]
        if last in ("name", "kind", "type") and len(words) > 1:
            last = words[-2]
        return _ABBREV.get(last, last)

    def indexed(key: str) -> str:
        idx = "".join(f"l{p}" for p in key.split(".") if p.isdigit())
        return idx + base(key)

    names = {k: base(k) for k in keys}
    for fn in (indexed, lambda k: re.sub(r"[^A-Za-z0-9]+", "_", k)):
        counts: dict[str, int] = {}
        for n in names.values():
            counts[n.lower()] = counts.get(n.lower(), 0) + 1
        if all(c == 1 for c in counts.values()):
            break
        names = {k: (fn(k) if counts[n.lower()] > 1 else n) for k, n in names.items()}
    return names


def _id_value(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)  # shortest round-trip form: 0.1, 1e-05, -0.5
    if isinstance(v, bool) or v is None:
        return format_value(v)
    if isinstance(v, (list, tuple)):
        return "_".join(_id_value(x) for x in v)
    if isinstance(v, dict):
        return "_".join(f"{k}{_id_value(x)}" for k, x in v.items())
    return str(v)


def params_hash(params: dict[str, Any]) -> str:
    blob = json.dumps(jsonable(params), sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(blob.encode()).hexdigest()[:8]


def trial_id(params: dict[str, Any], short: dict[str, str]) -> str:
    """Readable id from the parameters alone (``lr0.1-units8``); a hash is appended when the readable
    form had to drop characters or is too long, so distinct parameters always get distinct ids."""
    parts, lossy = [], False
    for k, v in params.items():
        text = _id_value(v)
        if not _ID_VALUE_OK.fullmatch(text):
            lossy = True
            text = re.sub(r"[^A-Za-z0-9._+]+", "_", text).strip("_") or "_"
        parts.append(f"{short[k]}{text}")
    readable = "-".join(parts)
    if len(readable) > _ID_MAX:
        return f"{readable[:_ID_MAX - 12].rstrip('-._')}-{params_hash(params)}"
    if lossy:
        return f"{readable}-{params_hash(params)}"
    return readable
