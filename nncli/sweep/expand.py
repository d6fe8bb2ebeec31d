"""Expansion of a sweep spec into its trials, deterministically: grid points (last key fastest)
times random samples, each key's samples from its own seeded stream."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

from nncli.config.overrides import Override, jsonable, parse_override

from .spec import Distribution, SweepSpec
from .trials import Trial, params_hash, short_names, trial_id

__all__ = ["expand", "sample_space"]


def sample_space(space: dict[str, Distribution], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random points.  Each key has its own stream seeded by (seed, key), so adding a key does
    not change the values drawn for the others; only ``random.random()`` is used (stable across
    Python versions)."""
    streams = {k: random.Random(f"nncli-sweep:{seed}:{k}") for k in space}
    return [{k: dist.sample(streams[k].random()) for k, dist in space.items()} for _ in range(n)]


def expand(spec: SweepSpec) -> list[Trial]:
    """The sweep's trials, in a fixed order: grid points (last key fastest) x random samples.
    Identical parameter sets (e.g. a random ``choice`` drawn twice) are kept once."""
    grid_points = [dict(zip(spec.grid, combo)) for combo in itertools.product(*spec.grid.values())]
    samples = sample_space(spec.space, spec.trials, spec.seed) if spec.space else [{}]
    keys = [*spec.grid, *spec.space]
    short = short_names(keys)
    seen: set[str] = set()
    params_list = []
    for g in grid_points:
        for s in samples:
            params = {k: ({**g, **s})[k] for k in keys}
            h = json.dumps(jsonable(params), sort_keys=True)
            if h not in seen:
                seen.add(h)
                params_list.append(params)
    ids = [trial_id(p, short) for p in params_list]
    # Last resort against ids equal up to case (case-insensitive filesystems): hash those.
    lowered: dict[str, int] = {}
    for i in ids:
        lowered[i.lower()] = lowered.get(i.lower(), 0) + 1
    ids = [f"{i}-{params_hash(p)}" if lowered[i.lower()] > 1 else i for i, p in zip(ids, params_list)]
    # Trials carry parsed overrides (path -> value): the values reach the config as they are, never
    # written out as text and parsed again.  A bad fixed override is reported here, as --set ITEM.
    fixed = tuple(parse_override(o) for o in spec.overrides)
    return [Trial(tid, params, fixed + tuple(Override(k, v) for k, v in params.items()))
            for tid, params in zip(ids, params_list)]
