"""Running one trial: in this process, in a worker process or on a Dask worker.

A :class:`TrialTask` is what travels to a worker: the base config's path, the trial's overrides
(parsed: dotted path -> value) and the run directory to write.  :func:`execute_trial` turns every
failure into a :class:`TrialOutcome` so one bad trial never stops a sweep.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from nncli.config.overrides import Override
from nncli.errors import EXIT_SIGTERM, Interrupted, NncliError

__all__ = [
    "BLAS_ENV",
    "TrialFn",
    "TrialOutcome",
    "TrialTask",
    "dask_payload",
    "execute_trial",
    "execute_trial_remote",
    "one_line",
    "process_alive",
    "process_start_time",
    "train_trial",
    "worker_init",
]


@dataclass
class TrialTask:
    trial_id: str
    base_path: str
    overrides: list[Override]  # fixed overrides, then one per swept key
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
    config._overrides = tuple(str(o) for o in task.overrides)  # recorded in metrics.json, as a local trial records them
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


def one_line(e: BaseException) -> str:
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
        return TrialOutcome(task.trial_id, "interrupted", one_line(e), time.perf_counter() - start)
    except Exception as e:  # NncliError, or a bug or odd combination the core did not catch: record, go on
        return TrialOutcome(task.trial_id, "failed", one_line(e), time.perf_counter() - start)
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


def worker_init(parent_pid: int | None = None, parent_start: str | None = None) -> None:
    """Set up a pool worker: one BLAS thread, SIGINT ignored, and a watch on the sweep process.

    ``parent_pid``/``parent_start`` name the sweep process (see :func:`process_start_time`): when
    it is gone -- killed with SIGKILL, say, which gives it no chance to stop its workers -- the
    worker stops too instead of running on as an orphan that holds a trial's lock.
    """
    # The pool's children inherit BLAS_ENV from the parent (set before they start, so before numpy
    # loads); this is a second line for anything that imports late.  Ctrl-C is the parent's job:
    # it stops the children itself, so they ignore SIGINT and print no tracebacks.
    for k, v in BLAS_ENV.items():
        os.environ.setdefault(k, v)
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except (ValueError, OSError):  # pragma: no cover
        pass
    if parent_pid is not None:
        threading.Thread(target=_watch_parent, args=(parent_pid, parent_start), daemon=True,
                         name="nncli-sweep-parent-watch").start()


PARENT_POLL_SECONDS = 0.5
ORPHAN_GRACE_SECONDS = 10.0  # a trial stopping on SIGTERM checkpoints first; then the worker exits


def _watch_parent(pid: int, start: str | None) -> None:
    while process_alive(pid, start):
        time.sleep(PARENT_POLL_SECONDS)
    # SIGTERM stops a running trial as `nncli train` stops on it (a clean stop, no half-written
    # run); an idle worker just ends.  Whatever still runs after the grace period is cut off.
    try:
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        time.sleep(ORPHAN_GRACE_SECONDS)
        os._exit(EXIT_SIGTERM)


def process_start_time(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux: field 22 of /proc/PID/stat);
    None when it is not running (or a zombie) or the system has no /proc.  A pid with another
    start time is another process that reuses the number."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # Field 2 (the command name, in parentheses) may hold spaces: count fields after its ')'.
    fields = stat[stat.rindex(b")") + 2:].split()
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):  # a zombie has exited already
        return None
    return fields[19].decode("ascii")


def process_alive(pid: int, start: str | None) -> bool:
    """Is ``pid`` still the process that started at ``start``?  Without a start time (no /proc),
    whether some process has that pid."""
    if start is not None:
        return process_start_time(pid) == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True
