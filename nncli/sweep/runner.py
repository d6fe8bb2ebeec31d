"""Running a sweep: resolve it (base config, name, folder, metric), then run every trial not
already complete on an executor and write sweep.json, results.csv and best.json.

Progress goes to a :class:`SweepEvents` (silent here); ``nncli.cli.sweep_progress`` renders it.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nncli.config.overrides import jsonable
from nncli.errors import EXIT_FAILURE, Interrupted, NncliError, UsageError

from ..run.store import read_metrics  # the one reader of metrics.json
from .executors import DaskExecutor, ProcessExecutor, SequentialExecutor, SweepStopped, stop_on_signals
from .expand import expand
from .results import (
    SweepResult,
    TrialResult,
    best_json_data,
    is_complete,
    pick_best,
    previous_seconds,
    remove_stale,
    results_csv_text,
    write_run_files,
)
from .spec import SAFE_NAME, SweepSpec
from .trials import Trial
from .worker import ORPHAN_GRACE_SECONDS, TrialFn, TrialOutcome, TrialTask, train_trial

__all__ = ["Sweep", "SweepEvents", "default_direction", "prepare_sweep", "run_sweep"]


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
    if not SAFE_NAME.fullmatch(name):
        raise UsageError(f"sweep name {name!r}: use letters, digits, '.', '_' and '-'")
    metric = metric or spec.metric or ("train_loss" if has_val is False else "val_loss")
    direction = direction or spec.direction or default_direction(metric)
    if direction not in ("minimize", "maximize"):
        raise UsageError(f"direction {direction!r}: use minimize or maximize")
    sweep_dir = Path(out) if out is not None else Path("runs") / name
    return Sweep(spec, name, base_path, sweep_dir, expand(spec), metric, direction)


class SweepEvents:
    """What a sweep tells its watcher; silent.  The CLI's reporters subclass it.

    ``start`` once (``results`` is the live list, updated in place; ``executor`` is a label such
    as "sequential" or "4 local workers"), ``update`` each time a trial starts or finishes, and
    ``stop`` once at the end, also when the sweep is stopped or fails.
    """

    def start(self, sweep: Sweep, results: list[TrialResult], executor: str) -> None: ...

    def update(self, result: TrialResult) -> None: ...

    def stop(self) -> None: ...


def run_sweep(
    sweep: Sweep,
    *,
    workers: int | None = None,
    scheduler: str | Any | None = None,
    reporter: SweepEvents | None = None,
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
    reporter: SweepEvents | None = None,
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

    trial_fn = trial_fn or train_trial
    events = reporter or SweepEvents()
    sweep.dir.mkdir(parents=True, exist_ok=True)
    csv_path = sweep.dir / "results.csv"
    best_path = sweep.dir / "best.json"
    results, todo = _results_so_far(sweep, previous_seconds(csv_path))
    by_id = {r.trial.id: r for r in results}
    write_text_atomic(sweep.dir / "sweep.json", json.dumps(_sweep_json(sweep), indent=2) + "\n")

    if workers is None:
        workers = sweep.spec.workers or os.cpu_count() or 1
    if scheduler is not None:
        executor: Any = DaskExecutor(trial_fn, scheduler)
    elif not todo:
        executor = SequentialExecutor(trial_fn)
        executor.label = "nothing left to run"
    elif workers <= 1:
        executor = SequentialExecutor(trial_fn)
    else:
        executor = ProcessExecutor(trial_fn, min(workers, max(1, len(todo))))

    def on_start(task: TrialTask) -> None:
        r = by_id[task.trial_id]
        r.status = "running"
        events.update(r)

    def on_outcome(task: TrialTask, outcome: TrialOutcome) -> None:
        _record(by_id[task.trial_id], outcome)
        events.update(by_id[task.trial_id])

    events.start(sweep, results, executor.label)
    stopped: SweepStopped | None = None
    try:
        with stop_on_signals():
            _wait_for_orphans(todo, ORPHAN_GRACE_SECONDS + 5.0)
            for task in todo:  # leftovers of failed or interrupted attempts
                remove_stale(Path(task.out))
            executor.run(todo, on_start, on_outcome)
    except SweepStopped as e:
        stopped = e
    finally:
        for r in results:
            if r.status == "running":
                r.status = "pending"
        events.stop()
        executor.close()

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
        write_text_atomic(best_path, json.dumps(best_json_data(sweep, best), indent=2) + "\n")
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


def _results_so_far(sweep: Sweep, prev_seconds: dict[str, float]) -> tuple[list[TrialResult], list[TrialTask]]:
    """Every trial's result (complete ones read back from their folders) and the tasks still to run."""
    results = [TrialResult(t, path=sweep.dir / t.id) for t in sweep.trials]
    todo: list[TrialTask] = []
    for r in results:
        if is_complete(r.path):
            r.status = "skipped"
            r.metrics = read_metrics(r.path)
            r.seconds = prev_seconds.get(r.trial.id, r.metrics.get("training_seconds"))
        else:
            todo.append(TrialTask(r.trial.id, str(sweep.base_path), list(r.trial.overrides), str(r.path.resolve())))
    return results, todo


def _sweep_json(sweep: Sweep) -> dict[str, Any]:
    return {
        "name": sweep.name,
        "base": str(sweep.base_path),
        "metric": sweep.metric,
        "direction": sweep.direction,
        "trials": [{"id": t.id, "params": jsonable(t.params), "overrides": t.override_texts} for t in sweep.trials],
    }


def _record(r: TrialResult, outcome: TrialOutcome) -> None:
    """Put a finished trial's outcome (and, from Dask, its run directory) in place."""
    if outcome.status == "interrupted":
        raise SweepStopped(signal.SIGINT)
    if outcome.files:  # (a failed trial sends nothing back, as a local one leaves no folder)
        write_run_files(r.path, outcome.files)
    r.seconds = outcome.seconds
    if outcome.status == "done":
        r.metrics = read_metrics(r.path)
        if not is_complete(r.path):
            outcome = TrialOutcome(outcome.trial_id, "failed", "the run wrote no metrics.json", outcome.seconds)
    r.status = outcome.status
    r.error = outcome.error


def _wait_for_orphans(tasks: list[TrialTask], timeout: float) -> None:
    """Wait (at most ``timeout`` seconds in all) until no process holds a lock on a trial to run.

    This process holds the sweep's lock, so a trial lock still held is a worker of an earlier
    sweep that was killed (SIGKILL): it notices within a second and stops (see
    :func:`nncli.sweep.worker.worker_init`).  Waiting for it means a rerun right after a crash does
    not record that trial as failed ("another nncli process is writing this run directory").
    A lock whose holder has died needs no waiting: the kernel releases it with the process.
    """
    import fcntl  # noqa: PLC0415

    from nncli.run.files import lock_path  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    for task in tasks:
        path = lock_path(Path(task.out))
        while path.exists():
            try:
                fh = open(path, "rb")
            except OSError:
                break
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)  # a probe, released at once
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break  # held by a live process after all: the trial reports it
                time.sleep(0.1)
                continue
            finally:
                fh.close()
            break
