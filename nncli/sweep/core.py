"""Sweeps: many ordinary runs over a grid or a random search of config keys.

A sweep names a base config and a search space over dotted config paths (the same paths as
``--set``).  It expands, deterministically, into trials; each trial is the base config plus its
overrides, trained into an ordinary run directory ``<sweep dir>/<trial id>/``.  Trials run
sequentially, in local worker processes, or on a Dask distributed cluster, and give the same
results (metrics and weights) on each, because every trial uses the base config's seed.

Nothing here prints unless given a reporter; ``nncli.cli.sweep`` is the thin command line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nncli.errors import (
    EXIT_FAILURE,
    EXIT_SIGINT,
    ConfigError,
    Interrupted,
    NncliError,
    UsageError,
)

# --------------------------------------------------------------------------------------------
# The sweep file


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
        if v is not None and not _SAFE_NAME.fullmatch(v):
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


_SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|[0-9]+))*")


def load_sweep_spec(path: str | os.PathLike) -> SweepSpec:
    """Read a sweep file; every problem is a ConfigError line with the file's line:column."""
    from nncli.config import yamlsource  # noqa: PLC0415

    source = yamlsource.load_yaml(path)
    try:
        return SweepSpec.model_validate(source.data)
    except ValidationError as e:
        raise ConfigError(yamlsource.format_validation_error(e, source, SweepSpec)) from None


def is_sweep_file(path: str | os.PathLike) -> bool:
    """A YAML file with a ``base:`` key and no ``model:`` is a sweep file; otherwise a run config."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(raw, dict) and "base" in raw and "model" not in raw


# --------------------------------------------------------------------------------------------
# Values on the command line and in overrides


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside [] or {} (so --grid a=[8,8],[16] gives two values)."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_value(text: str) -> Any:
    """A command-line value as YAML, except that 1e-3 is the float it looks like."""
    text = text.strip()
    try:
        v = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        return text
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def parse_grid_option(option: str) -> tuple[str, list[Any]]:
    """``training.optimizer.learning_rate=0.3,0.1`` -> ("training.optimizer.learning_rate", [0.3, 0.1])."""
    key, sep, values = option.partition("=")
    key = key.strip()
    if not sep or not key or not values.strip():
        raise UsageError(f"--grid {option}: expected --grid dotted.path=v1,v2,... (e.g. --grid model.layers.0.units=8,32)")
    if not _DOTTED.fullmatch(key):
        raise UsageError(f"--grid {option}: {key!r} is not a dotted config path")
    vals = [parse_value(v) for v in _split_top_level(values)]
    if any(v == "" for v in vals):
        raise UsageError(f"--grid {option}: an empty value (stray comma?)")
    return key, vals


def format_value(v: Any) -> str:
    """A value as YAML that reads back as the same value (1e-05 becomes 1.0e-05 for YAML 1.1)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        s = repr(v)
        if "e" in s:
            mant, exp = s.split("e")
            if "." not in mant:
                mant += ".0"
            if exp[0] not in "+-":
                exp = "+" + exp
            s = f"{mant}e{exp}"
        return s
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        try:
            if yaml.safe_load(v) == v and "," not in v:
                return v
        except yaml.YAMLError:
            pass
        return json.dumps(v)
    return json.dumps(_jsonable(v), separators=(",", ":"))


def _jsonable(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


# --------------------------------------------------------------------------------------------
# Expansion into trials


@dataclass(frozen=True)
class Trial:
    id: str
    params: dict[str, Any]  # dotted path -> value, in the sweep's key order
    overrides: tuple[str, ...]  # the sweep's fixed overrides, then one per param

    @property
    def param_overrides(self) -> list[str]:
        return [f"{k}={format_value(v)}" for k, v in self.params.items()]


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


def _short_names(keys: list[str]) -> dict[str, str]:
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
    blob = json.dumps(_jsonable(params), sort_keys=True, separators=(",", ":"))
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
    short = _short_names(keys)
    seen: set[str] = set()
    params_list = []
    for g in grid_points:
        for s in samples:
            params = {k: ({**g, **s})[k] for k in keys}
            h = json.dumps(_jsonable(params), sort_keys=True)
            if h not in seen:
                seen.add(h)
                params_list.append(params)
    ids = [trial_id(p, short) for p in params_list]
    # Last resort against ids equal up to case (case-insensitive filesystems): hash those.
    lowered: dict[str, int] = {}
    for i in ids:
        lowered[i.lower()] = lowered.get(i.lower(), 0) + 1
    ids = [f"{i}-{params_hash(p)}" if lowered[i.lower()] > 1 else i for i, p in zip(ids, params_list)]
    fixed = tuple(spec.overrides)
    trials = []
    for tid, params in zip(ids, params_list):
        t = Trial(tid, params, ())
        trials.append(Trial(tid, params, fixed + tuple(t.param_overrides)))
    return trials


# --------------------------------------------------------------------------------------------
# A prepared sweep


@dataclass
class Sweep:
    spec: SweepSpec
    name: str
    base_path: Path  # absolute
    dir: Path  # runs/<name>
    trials: list[Trial]
    metric: str
    direction: str


def default_direction(metric: str) -> str:
    m = metric.lower()
    if any(w in m for w in ("acc", "f1", "r2", "auc", "precision", "recall")):
        return "maximize"
    return "minimize"


def _base_info(base_path: Path, overrides: list[str]) -> tuple[str | None, bool | None]:
    """The base config's name and whether it holds out validation data (None: unknown)."""
    from nncli.config import load_config  # noqa: PLC0415

    config = load_config(base_path, overrides=overrides)
    return config.name, bool(config.data.validation_split or config.data.validation)


def prepare_sweep(
    spec: SweepSpec,
    *,
    spec_dir: str | os.PathLike = ".",
    name: str | None = None,
    out: str | os.PathLike | None = None,
    metric: str | None = None,
    direction: str | None = None,
    check_base: bool = True,
) -> Sweep:
    """Resolve the base config (relative to the sweep file), the name, the output folder and the metric."""
    base_path = (Path(spec_dir) / spec.base).resolve()
    if not base_path.is_file():
        raise UsageError(f"base: {spec.base}: no such config file (looked at {base_path})")
    # Loading the base config once here reports a bad base config before any trial starts.
    config_name, has_val = _base_info(base_path, list(spec.overrides)) if check_base else (None, None)
    name = name or spec.name or f"{config_name or base_path.stem}-sweep"
    if not _SAFE_NAME.fullmatch(name):
        raise UsageError(f"sweep name {name!r}: use letters, digits, '.', '_' and '-'")
    metric = metric or spec.metric or ("train_loss" if has_val is False else "val_loss")
    direction = direction or spec.direction or default_direction(metric)
    if direction not in ("minimize", "maximize"):
        raise UsageError(f"direction {direction!r}: use minimize or maximize")
    sweep_dir = Path(out) if out is not None else Path("runs") / name
    return Sweep(spec, name, base_path, sweep_dir, expand(spec), metric, direction)


def sweep_from_config(config_path: str | os.PathLike, grid: list[str], **spec_fields: Any) -> SweepSpec:
    """A sweep without a file: a config plus ``--grid key=v1,v2`` options."""
    parsed = dict(parse_grid_option(g) for g in grid)
    if not parsed and not spec_fields.get("space"):
        raise UsageError("nncli sweep CONFIG needs at least one --grid dotted.path=v1,v2,...")
    fields = {"base": str(Path(config_path).resolve()), "grid": parsed, **spec_fields}
    try:
        return SweepSpec.model_validate(fields)
    except ValidationError as e:
        from nncli.config import yamlsource  # noqa: PLC0415

        raise UsageError("; ".join(yamlsource.format_validation_error(e, yamlsource.source_from_data(fields, "--grid"), SweepSpec))) from None


# --------------------------------------------------------------------------------------------
# Running one trial (in this process, a worker process or a Dask worker)


@dataclass
class TrialTask:
    trial_id: str
    base_path: str
    overrides: list[str]
    out: str
    payload: Any = None  # executor-specific extras (e.g. data shipped to a Dask worker)


@dataclass
class TrialOutcome:
    trial_id: str
    status: str  # done | failed | interrupted
    error: str = ""
    seconds: float = 0.0
    files: dict[str, bytes] | None = None  # Dask: the run directory, travelling back to the client


TrialFn = Callable[[TrialTask], Any]


DATA_FILE_KEYS = ("path", "y_path", "validation", "test")


def train_trial(task: TrialTask) -> None:
    """The real trial: base config + overrides, trained into ``task.out`` with nncli.train.

    With a ``payload`` (Dask: the worker may not see the client's files), the config comes
    resolved from the client and its data files as bytes; see :func:`_shipped_config`.
    """
    import nncli  # noqa: PLC0415  (imported here: workers set BLAS threads before numpy loads)
    from nncli.config import load_config  # noqa: PLC0415

    if task.payload is None:
        config = load_config(task.base_path, overrides=task.overrides)
        nncli.train(config, out=task.out, quiet=True)
        return
    config, local_to_client = _shipped_config(task)
    nncli.train(config, out=task.out, quiet=True)
    # config.yaml records absolute data paths: put back the client's, so the run directory is the
    # one a local trial would have written (and evaluate/plot on the client find the data).
    cfg_file = Path(task.out) / "config.yaml"
    if local_to_client and cfg_file.is_file():
        data = yaml.safe_load(cfg_file.read_text(encoding="utf-8"))
        for key in DATA_FILE_KEYS:
            value = data.get("data", {}).get(key)
            if value in local_to_client:
                data["data"][key] = local_to_client[value]
        cfg_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _shipped_config(task: TrialTask) -> tuple[Any, dict[str, str]]:
    """The trial's config on a worker, with its data files written into the trial's temp folder."""
    from nncli.config import config_from_dict  # noqa: PLC0415

    payload = task.payload
    resolved = json.loads(json.dumps(payload["config"]))
    folder = Path(task.out).parent / "data"
    local_to_client = {}
    for key, (client_path, blob) in (payload.get("files") or {}).items():
        local = folder / key / Path(client_path).name
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(blob)
        resolved["data"][key] = str(local)
        local_to_client[str(local)] = client_path
    config = config_from_dict(resolved, base_dir=folder, display=payload["display"])
    config._overrides = tuple(task.overrides)  # recorded in metrics.json, as a local trial records them
    return config, local_to_client


def dask_payload(task: TrialTask, blobs: dict[str, Any]) -> dict[str, Any]:
    """On the client: the trial's resolved config and its data files (from ``blobs``: client path ->
    bytes or a scattered Dask future of them).  Raises ConfigError for an invalid combination."""
    from nncli.config import load_config  # noqa: PLC0415

    config = load_config(task.base_path, overrides=task.overrides)
    resolved = config.resolved()
    files = {}
    for key in DATA_FILE_KEYS:
        value = resolved["data"].get(key)
        if value:
            path = str(config.resolve_path(value).resolve())
            if path not in blobs:
                try:
                    blobs[path] = Path(path).read_bytes()
                except OSError:
                    continue  # the worker reports the missing file as a run would
            files[key] = [path, blobs[path]]
    return {"config": resolved, "files": files, "display": config.source_path}


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(e, NncliError):
        return first + (f" (+{len(text) - 1} more)" if len(text) > 1 else "")
    return f"{type(e).__name__}: {first}" if first else type(e).__name__


def execute_trial(trial_fn: TrialFn, task: TrialTask) -> TrialOutcome:
    """Run one trial; failures become an outcome, never an exception (except a KeyboardInterrupt)."""
    start = time.perf_counter()
    try:
        trial_fn(task)
    except Interrupted as e:
        return TrialOutcome(task.trial_id, "interrupted", _one_line(e), time.perf_counter() - start)
    except Exception as e:  # NncliError, or a bug or odd combination the core did not catch: record, go on
        return TrialOutcome(task.trial_id, "failed", _one_line(e), time.perf_counter() - start)
    return TrialOutcome(task.trial_id, "done", "", time.perf_counter() - start)


def execute_trial_remote(trial_fn: TrialFn, task: TrialTask, files: dict | None = None) -> TrialOutcome:
    """On a Dask worker: run in a temp dir, return the run directory's files as bytes."""
    payload = task.payload if files is None else {**task.payload, "files": files}
    with tempfile.TemporaryDirectory(prefix="nncli-trial-") as tmp:
        out = Path(tmp) / task.trial_id
        local = TrialTask(task.trial_id, task.base_path, list(task.overrides), str(out), payload)
        outcome = execute_trial(trial_fn, local)
        files: dict[str, bytes] = {}
        if out.is_dir():
            for p in sorted(out.rglob("*")):
                if p.is_file():
                    files[p.relative_to(out).as_posix()] = p.read_bytes()
        outcome.files = files
        return outcome


BLAS_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


def _worker_init() -> None:
    # The pool's children inherit BLAS_ENV from the parent (set before they start, so before numpy
    # loads); this is a second line for anything that imports late.  Ctrl-C is the parent's job:
    # it stops the children itself, so they ignore SIGINT and print no tracebacks.
    for k, v in BLAS_ENV.items():
        os.environ.setdefault(k, v)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):  # pragma: no cover
        pass


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --------------------------------------------------------------------------------------------
# Run directories and metrics


def is_complete(run_dir: Path) -> bool:
    return (run_dir / "metrics.json").is_file()


def write_run_files(target: Path, files: dict[str, bytes]) -> None:
    """Write a run directory that came back from a worker: into a temp dir, then rename into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for rel, data in files.items():
            p = (tmp / rel).resolve()
            if tmp.resolve() not in p.parents:
                raise NncliError(f"{target.name}: refusing a file outside the run directory: {rel}")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        _remove_stale(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _remove_stale(run_dir: Path) -> None:
    """A trial folder without metrics.json is left from a failed or interrupted attempt: start afresh."""
    if run_dir.is_symlink() or run_dir.is_file():
        run_dir.unlink()
    elif run_dir.is_dir():
        shutil.rmtree(run_dir)


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class TrialResult:
    trial: Trial
    status: str = "pending"  # pending | running | done | failed | skipped (done earlier)
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float | None = None
    error: str = ""
    path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("done", "skipped")


@dataclass
class SweepResult:
    sweep: Sweep
    results: list[TrialResult]
    best: TrialResult | None
    results_csv: Path
    best_json: Path | None

    @property
    def n_done(self) -> int:
        return sum(r.status == "done" for r in self.results)

    @property
    def n_skipped(self) -> int:
        return sum(r.status == "skipped" for r in self.results)

    @property
    def n_failed(self) -> int:
        return sum(r.status == "failed" for r in self.results)


def metric_value(r: TrialResult, metric: str) -> float | None:
    v = r.metrics.get(metric)
    return v if v is not None and math.isfinite(v) else None


def pick_best(results: list[TrialResult], metric: str, direction: str) -> TrialResult | None:
    scored = [(metric_value(r, metric), i, r) for i, r in enumerate(results) if r.ok]
    scored = [s for s in scored if s[0] is not None]
    if not scored:
        return None
    sign = 1.0 if direction == "minimize" else -1.0
    return min(scored, key=lambda s: (sign * s[0], s[1]))[2]


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, dict, bool)):
        return format_value(v)
    return str(v)


def results_csv_text(sweep: Sweep, results: list[TrialResult]) -> str:
    param_keys = list(sweep.trials[0].params) if sweep.trials else []
    metric_keys = sorted({k for r in results for k in r.metrics})
    if sweep.metric in metric_keys:
        metric_keys.remove(sweep.metric)
        metric_keys.insert(0, sweep.metric)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["trial", "status", *param_keys, *metric_keys, "seconds", "error", "path"])
    for r in results:
        w.writerow(
            [
                r.trial.id,
                "done" if r.status == "skipped" else r.status,
                *(_csv_cell(r.trial.params[k]) for k in param_keys),
                *(_csv_cell(r.metrics.get(k)) for k in metric_keys),
                "" if r.seconds is None else f"{r.seconds:.3f}",
                r.error,
                (sweep.dir / r.trial.id).as_posix(),
            ]
        )
    return buf.getvalue()


def _previous_seconds(csv_path: Path) -> dict[str, float]:
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            return {
                row["trial"]: float(row["seconds"])
                for row in csv.DictReader(f)
                if row.get("status") == "done" and row.get("seconds")
            }
    except (OSError, ValueError, KeyError, csv.Error):
        return {}


# --------------------------------------------------------------------------------------------
# Progress reporting


class Reporter:
    """Silent.  Subclasses show progress; run_sweep calls these hooks."""

    def start(self, sweep: Sweep, results: list[TrialResult], executor: str) -> None: ...

    def update(self, result: TrialResult) -> None: ...

    def stop(self) -> None: ...


class LineReporter(Reporter):
    """One plain line per finished trial (for logs and pipes)."""

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stdout
        self.total = 0
        self.finished = 0

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def start(self, sweep: Sweep, results: list[TrialResult], executor: str) -> None:
        self.sweep = sweep
        self.total = len(results)
        skipped = sum(r.status == "skipped" for r in results)
        self.finished = skipped
        extra = f", {skipped} already complete" if skipped else ""
        self._print(f"sweep {sweep.name}: {self.total} trials{extra}; {executor}; -> {sweep.dir}")

    def update(self, result: TrialResult) -> None:
        if result.status not in ("done", "failed"):
            return
        self.finished += 1
        head = f"[{self.finished}/{self.total}] {result.trial.id} {result.status}"
        if result.status == "failed":
            self._print(f"{head}: {result.error}")
        else:
            v = metric_value(result, self.sweep.metric)
            m = f" {self.sweep.metric}={v:.6g}" if v is not None else ""
            self._print(f"{head}{m} ({result.seconds or 0:.1f}s)")


class LiveReporter(Reporter):
    """A live Rich table of trials (on a terminal)."""

    MAX_ROWS = 30

    def __init__(self, console: Any = None):
        from rich.console import Console  # noqa: PLC0415

        self.console = console or Console()
        self.live = None

    def start(self, sweep: Sweep, results: list[TrialResult], executor: str) -> None:
        from rich.live import Live  # noqa: PLC0415

        self.sweep, self.results, self.executor = sweep, results, executor
        self.live = Live(self._render(), console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def _render(self) -> Any:
        from rich.table import Table  # noqa: PLC0415

        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        table = Table(title=f"sweep {self.sweep.name} ({self.executor}): {summary}", title_justify="left")
        table.add_column("trial")
        table.add_column("status")
        table.add_column(self.sweep.metric, justify="right")
        table.add_column("seconds", justify="right")
        table.add_column("error", overflow="ellipsis", max_width=60)
        style = {"running": "cyan", "done": "green", "skipped": "green dim", "failed": "red", "pending": "dim"}
        rows = self.results
        if len(rows) > self.MAX_ROWS:  # the running and failed ones first, then recent
            rank = {"running": 0, "failed": 1, "done": 2, "skipped": 3, "pending": 4}
            rows = sorted(rows, key=lambda r: rank.get(r.status, 5))[: self.MAX_ROWS]
        for r in rows:
            v = metric_value(r, self.sweep.metric)
            table.add_row(
                r.trial.id,
                f"[{style.get(r.status, '')}]{r.status}[/]",
                "" if v is None else f"{v:.6g}",
                "" if r.seconds is None else f"{r.seconds:.1f}",
                r.error,
            )
        if len(self.results) > len(rows):
            table.caption = f"... {len(self.results) - len(rows)} more"
        return table

    def update(self, result: TrialResult) -> None:
        if self.live is not None:
            self.live.update(self._render())

    def stop(self) -> None:
        if self.live is not None:
            self.live.update(self._render())
            self.live.stop()
            self.live = None


def make_reporter(quiet: bool = False, console: Any = None) -> Reporter:
    if quiet:
        return Reporter()
    if console is None:
        from rich.console import Console  # noqa: PLC0415

        console = Console()
    if console.is_terminal:
        return LiveReporter(console)
    return LineReporter(console.file)


# --------------------------------------------------------------------------------------------
# Executors


class _SweepStopped(Exception):
    def __init__(self, signum: int):
        self.signum = signum


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Ctrl-C (KeyboardInterrupt) and SIGTERM both stop the sweep cleanly."""

    def on_term(signum: int, frame: Any) -> None:
        raise _SweepStopped(signum)

    old = None
    try:
        old = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread
        old = None
    try:
        yield
    except KeyboardInterrupt:
        raise _SweepStopped(signal.SIGINT) from None
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


class _Driver:
    """Submits at most ``capacity()`` trials at a time and handles outcomes as they arrive."""

    def __init__(self, sweep: Sweep, on_start: Callable, on_outcome: Callable):
        self.sweep, self.on_start, self.on_outcome = sweep, on_start, on_outcome

    def run(self, tasks: list[TrialTask], submit: Callable, capacity: Callable[[], int], outcome_of: Callable) -> None:
        queue = list(tasks)
        inflight: dict[Any, TrialTask] = {}
        while queue or inflight:
            while queue and len(inflight) < max(1, capacity()):
                task = queue.pop(0)
                self.on_start(task)
                inflight[submit(task)] = task
            finished = [f for f in inflight if f.done()]
            if not finished:
                time.sleep(0.02)
                continue
            for f in finished:
                task = inflight.pop(f)
                self.on_outcome(task, outcome_of(f, task))


class _Done:
    """An outcome known without running anything, shaped like a finished future."""

    def __init__(self, outcome: TrialOutcome):
        self.outcome = outcome

    def done(self) -> bool:
        return True

    def result(self) -> TrialOutcome:
        return self.outcome


def _local_outcome(fut: Any, task: TrialTask) -> TrialOutcome:
    try:
        return fut.result()
    except Exception as e:  # a worker process died (BrokenProcessPool) or similar
        return TrialOutcome(task.trial_id, "failed", _one_line(e))


def require_dask() -> Any:
    """The ``distributed`` module, or a one-line UsageError saying how to install it."""
    from ..extras import require  # noqa: PLC0415

    return require("distributed", "dask", "--scheduler")


def _dask_client(scheduler: str) -> Any:
    distributed = require_dask()
    try:
        return distributed.Client(scheduler, timeout=10)
    except Exception as e:  # OSError / TimeoutError: nothing listening there
        raise UsageError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({_one_line(e)})") from None


def run_sweep(
    sweep: Sweep,
    *,
    workers: int | None = None,
    scheduler: str | Any | None = None,
    reporter: Reporter | None = None,
    trial_fn: TrialFn | None = None,
) -> SweepResult:
    """See :func:`_run_sweep`; a second sweep into the same folder fails at once (LockedError, exit 4)."""
    from nncli.run import files as rundir  # noqa: PLC0415

    with rundir.locked(sweep.dir):
        return _run_sweep(sweep, workers=workers, scheduler=scheduler, reporter=reporter, trial_fn=trial_fn)


def _run_sweep(
    sweep: Sweep,
    *,
    workers: int | None = None,
    scheduler: str | Any | None = None,
    reporter: Reporter | None = None,
    trial_fn: TrialFn | None = None,
) -> SweepResult:
    """Run every trial not already complete; write results.csv and best.json; return the results.

    ``workers`` 1 runs trials one after another in this process; N > 1 in N processes (default: the
    spec's ``workers``, else the number of cores).  ``scheduler`` (an address like tcp://host:8786,
    or a ``distributed.Client``) sends trials to a Dask cluster instead.  ``trial_fn`` replaces the
    real trial (tests); it must be importable by name for worker processes.

    Raises ``Interrupted`` (exit 130/143) on Ctrl-C/SIGTERM after stopping the workers, and
    ``NncliError`` (exit 1) when no trial succeeded.
    """
    from nncli.run.files import write_text_atomic  # noqa: PLC0415
    from nncli.run.store import read_metrics  # noqa: PLC0415  (the one reader of metrics.json)

    trial_fn = trial_fn or train_trial
    reporter = reporter or Reporter()
    sweep.dir.mkdir(parents=True, exist_ok=True)
    csv_path = sweep.dir / "results.csv"
    best_path = sweep.dir / "best.json"
    prev_seconds = _previous_seconds(csv_path)

    results = [TrialResult(t, path=sweep.dir / t.id) for t in sweep.trials]
    by_id = {r.trial.id: r for r in results}
    todo: list[TrialTask] = []
    for r in results:
        if is_complete(r.path):
            r.status = "skipped"
            r.metrics = read_metrics(r.path)
            r.seconds = prev_seconds.get(r.trial.id, r.metrics.get("training_seconds"))
        else:
            todo.append(TrialTask(r.trial.id, str(sweep.base_path), list(r.trial.overrides), str(r.path.resolve())))

    write_text_atomic(
        sweep.dir / "sweep.json",
        json.dumps(
            {
                "name": sweep.name,
                "base": str(sweep.base_path),
                "metric": sweep.metric,
                "direction": sweep.direction,
                "trials": [{"id": t.id, "params": _jsonable(t.params), "overrides": list(t.overrides)} for t in sweep.trials],
            },
            indent=2,
        )
        + "\n",
    )

    if workers is None:
        workers = sweep.spec.workers or os.cpu_count() or 1
    client = None
    own_client = False
    if scheduler is not None:
        if isinstance(scheduler, str):
            client = _dask_client(scheduler)
            own_client = True
        else:
            client = scheduler
        executor = f"dask {getattr(client, 'scheduler', None) and client.scheduler.address or scheduler}"
    elif not todo:
        executor = "nothing left to run"
    elif workers <= 1:
        executor = "sequential"
    else:
        workers = min(workers, max(1, len(todo)))
        executor = f"{workers} local workers"

    def on_start(task: TrialTask) -> None:
        r = by_id[task.trial_id]
        r.status = "running"
        reporter.update(r)

    def on_outcome(task: TrialTask, outcome: TrialOutcome) -> None:
        r = by_id[task.trial_id]
        if outcome.status == "interrupted":
            raise _SweepStopped(signal.SIGINT)
        if outcome.files:  # (a failed trial sends nothing back, as a local one leaves no folder)
            write_run_files(r.path, outcome.files)
        r.seconds = outcome.seconds
        if outcome.status == "done":
            r.metrics = read_metrics(r.path)
            if not is_complete(r.path):
                outcome = TrialOutcome(task.trial_id, "failed", "the run wrote no metrics.json", outcome.seconds)
        r.status = outcome.status
        r.error = outcome.error
        reporter.update(r)

    driver = _Driver(sweep, on_start, on_outcome)
    reporter.start(sweep, results, executor)
    stopped: _SweepStopped | None = None
    pool = None
    try:
        with _stop_on_signals():
            for task in todo:  # leftovers of failed or interrupted attempts
                _remove_stale(Path(task.out))
            if client is not None:
                futures: list[Any] = []

                blobs: dict[str, Any] = {}
                scattered: dict[str, Any] = {}

                def submit_dask(task: TrialTask) -> Any:
                    key = f"nncli-trial-{task.trial_id}-{os.urandom(4).hex()}"
                    if trial_fn is train_trial:
                        try:
                            payload = dask_payload(task, blobs)
                        except NncliError as e:  # an invalid combination: no need for a worker
                            return _Done(TrialOutcome(task.trial_id, "failed", _one_line(e)))
                        files = payload.pop("files")
                        for entry in files.values():  # each data file travels to a worker once
                            path = entry[0]
                            if path not in scattered:
                                scattered[path] = client.scatter(blobs[path], hash=True)
                            entry[1] = scattered[path]
                        task = TrialTask(task.trial_id, task.base_path, task.overrides, task.out, payload)
                        # files as their own argument: Dask resolves futures in dicts and lists
                        f = client.submit(execute_trial_remote, trial_fn, task, files, pure=False, key=key)
                    else:
                        f = client.submit(execute_trial_remote, trial_fn, task, pure=False, key=key)
                    futures.append(f)
                    return f

                cap = {"n": 1, "at": -1.0}

                def dask_capacity() -> int:  # the cluster's threads, asked at most once a second
                    now = time.monotonic()
                    if now - cap["at"] > 1.0:
                        try:
                            cap["n"] = max(1, sum(client.nthreads().values()))
                        except Exception:  # pragma: no cover
                            pass
                        cap["at"] = now
                    return cap["n"]

                try:
                    driver.run(todo, submit_dask, dask_capacity, _local_outcome)
                finally:
                    pending = [f for f in futures if not f.done()]
                    if pending:
                        client.cancel(pending)
            elif workers <= 1:
                for task in todo:
                    on_start(task)
                    on_outcome(task, execute_trial(trial_fn, task))
            else:
                import multiprocessing  # noqa: PLC0415
                from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

                from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

                method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
                if method == "forkserver":
                    # The fork server imports NumPy and nncli once (with BLAS_ENV already set, as
                    # below); each worker is then a fork of it and starts with them loaded.
                    multiprocessing.set_forkserver_preload(["nncli.api", "nncli.sweep.core"])
                pools: list[Any] = []

                def new_pool() -> Any:
                    p = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method), initializer=_worker_init)
                    pools.append(p)
                    return p

                def submit_local(task: TrialTask) -> Any:
                    # A worker killed from outside (out of memory, a crash) breaks the pool: its
                    # running trials are recorded as failed and a fresh pool takes the rest.
                    try:
                        return pools[-1].submit(execute_trial, trial_fn, task)
                    except BrokenProcessPool:
                        if len(pools) > 3:
                            raise NncliError("worker processes keep dying; see the failed trials in the table", exit_code=EXIT_FAILURE) from None
                        pools[-1].shutdown(wait=False, cancel_futures=True)
                        return new_pool().submit(execute_trial, trial_fn, task)

                with _environ(BLAS_ENV):  # the children start with these, before they import numpy
                    new_pool()
                    pool = pools
                    driver.run(todo, submit_local, lambda: workers, _local_outcome)
                    pools[-1].shutdown(wait=True)
                    pool = None
    except _SweepStopped as e:
        stopped = e
    finally:
        if pool is not None:  # stopped early: end the children now rather than wait for their trials
            for p_ in pool:
                procs = list((getattr(p_, "_processes", None) or {}).values())
                for proc in procs:
                    proc.terminate()
                p_.shutdown(wait=False, cancel_futures=True)
                for proc in procs:
                    proc.join(timeout=5)
        for r in results:
            if r.status == "running":
                r.status = "pending"
        reporter.stop()
        if own_client:
            try:
                client.close()
            except Exception:  # pragma: no cover
                pass

    if stopped is not None:  # what a stopped trial left behind is cleaned up by the next run
        done = sum(r.ok for r in results)
        raise Interrupted(
            f"sweep {sweep.name} stopped: {done}/{len(results)} trials complete; run the same command again to continue",
            stopped.signum,
        )

    best = pick_best(results, sweep.metric, sweep.direction)
    write_text_atomic(csv_path, results_csv_text(sweep, results))
    best_json = None
    if best is not None:
        best_json = best_path
        write_text_atomic(
            best_path,
            json.dumps(
                {
                    "sweep": sweep.name,
                    "trial": best.trial.id,
                    "path": best.path.as_posix(),
                    "params": _jsonable(best.trial.params),
                    "overrides": list(best.trial.overrides),
                    "metric": sweep.metric,
                    "direction": sweep.direction,
                    "value": metric_value(best, sweep.metric),
                    "metrics": best.metrics,
                },
                indent=2,
            )
            + "\n",
        )
    elif best_path.exists():
        best_path.unlink()
    result = SweepResult(sweep, results, best, csv_path, best_json)
    if not any(r.ok for r in results):
        raise NncliError(
            f"sweep {sweep.name}: all {len(results)} trials failed (first: {results[0].error}); see {csv_path}",
            exit_code=EXIT_FAILURE,
        )
    if best is None:
        available = sorted({k for r in results for k in r.metrics})
        raise UsageError(f"metric {sweep.metric!r}: no trial has it; available: {', '.join(available) or 'none'}")
    return result


def summary_lines(res: SweepResult) -> list[str]:
    s = res.sweep
    parts = [f"{len(res.results)} trials: {res.n_done + res.n_skipped} done"]
    if res.n_skipped:
        parts[0] += f" ({res.n_skipped} already complete)"
    if res.n_failed:
        parts.append(f"{res.n_failed} failed")
    lines = [f"sweep {s.name}: " + ", ".join(parts)]
    if res.best is not None:
        params = " ".join(f"{k}={format_value(v)}" for k, v in res.best.trial.params.items())
        lines.append(f"best: {res.best.trial.id} {s.metric}={metric_value(res.best, s.metric):.6g} ({s.direction}) {params}")
        lines.append(f"      {res.best.path}")
    for r in res.results:
        if r.status == "failed":
            lines.append(f"failed: {r.trial.id}: {r.error}")
    lines.append(f"results: {res.results_csv}" + (f", {res.best_json}" if res.best_json else ""))
    return lines


__all__ = [
    "Distribution",
    "SweepSpec",
    "Sweep",
    "Trial",
    "TrialTask",
    "TrialOutcome",
    "TrialResult",
    "SweepResult",
    "load_sweep_spec",
    "is_sweep_file",
    "sweep_from_config",
    "parse_grid_option",
    "format_value",
    "expand",
    "prepare_sweep",
    "run_sweep",
    "train_trial",
    "execute_trial",
    "execute_trial_remote",
    "make_reporter",
    "summary_lines",
    "EXIT_SIGINT",
]
