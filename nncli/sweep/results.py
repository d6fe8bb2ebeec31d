"""Sweep results: what each trial gave, the best one, results.csv and best.json.

A trial's folder is an ordinary run directory; it is complete when it has metrics.json.
"""

from __future__ import annotations

import csv
import io
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nncli.config.overrides import format_value, jsonable
from nncli.errors import NncliError

from .trials import Trial

if TYPE_CHECKING:  # annotations only: runner.py imports this module
    from .runner import Sweep

__all__ = [
    "SweepResult",
    "TrialResult",
    "best_json_data",
    "is_complete",
    "metric_value",
    "pick_best",
    "previous_seconds",
    "remove_stale",
    "results_csv_text",
    "write_run_files",
]


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
        remove_stale(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_stale(run_dir: Path) -> None:
    """A trial folder without metrics.json is left from a failed or interrupted attempt: start afresh."""
    if run_dir.is_symlink() or run_dir.is_file():
        run_dir.unlink()
    elif run_dir.is_dir():
        shutil.rmtree(run_dir)


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


def previous_seconds(csv_path: Path) -> dict[str, float]:
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            return {
                row["trial"]: float(row["seconds"])
                for row in csv.DictReader(f)
                if row.get("status") == "done" and row.get("seconds")
            }
    except (OSError, ValueError, KeyError, csv.Error):
        return {}


def best_json_data(sweep: Sweep, best: TrialResult) -> dict[str, Any]:
    """What best.json holds: the best trial, its parameters, overrides and metrics."""
    return {
        "sweep": sweep.name,
        "trial": best.trial.id,
        "path": best.path.as_posix(),
        "params": jsonable(best.trial.params),
        "overrides": best.trial.override_texts,
        "metric": sweep.metric,
        "direction": sweep.direction,
        "value": metric_value(best, sweep.metric),
        "metrics": best.metrics,
    }
