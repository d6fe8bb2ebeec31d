"""Where trials run: one after another here, in a pool of local processes, or on a Dask cluster.

Each executor has a ``label`` (shown to the user) and ``run(tasks, on_start, on_outcome)``, which
calls ``on_start(task)`` when a trial is handed out and ``on_outcome(task, outcome)`` as each one
finishes (in this process, in the order they finish).  An exception from a callback, a signal or
Ctrl-C leaves ``run`` after stopping what is still running.  Executors never print.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from nncli.errors import EXIT_FAILURE, NncliError, UsageError

from .worker import (
    BLAS_ENV,
    TrialFn,
    TrialOutcome,
    TrialTask,
    dask_payload,
    execute_trial,
    execute_trial_remote,
    one_line,
    process_start_time,
    train_trial,
    worker_init,
)

__all__ = [
    "DaskExecutor",
    "ProcessExecutor",
    "SequentialExecutor",
    "SweepStopped",
    "require_dask",
    "stop_on_signals",
]

OnStart = Callable[[TrialTask], None]
OnOutcome = Callable[[TrialTask, TrialOutcome], None]


class SweepStopped(Exception):
    """Ctrl-C, SIGTERM, or a trial that was interrupted: the sweep stops (``signum`` says why)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C (KeyboardInterrupt) and SIGTERM both stop the sweep cleanly."""

    def on_term(signum: int, frame: Any) -> None:
        raise SweepStopped(signum)

    old = None
    try:
        old = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread
        old = None
    try:
        yield
    except KeyboardInterrupt:
        raise SweepStopped(signal.SIGINT) from None
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


def _drive(tasks: list[TrialTask], submit: Callable[[TrialTask], Any], capacity: Callable[[], int],
           on_start: OnStart, on_outcome: OnOutcome) -> None:
    """Submit at most ``capacity()`` trials at a time; hand outcomes on as their futures finish."""
    queue = list(tasks)
    inflight: dict[Any, TrialTask] = {}
    while queue or inflight:
        while queue and len(inflight) < max(1, capacity()):
            task = queue.pop(0)
            on_start(task)
            inflight[submit(task)] = task
        finished = [f for f in inflight if f.done()]
        if not finished:
            time.sleep(0.02)
            continue
        for f in finished:
            task = inflight.pop(f)
            on_outcome(task, _outcome_of(f, task))


class _Done:
    """An outcome known without running anything, shaped like a finished future."""

    def __init__(self, outcome: TrialOutcome):
        self.outcome = outcome

    def done(self) -> bool:
        return True

    def result(self) -> TrialOutcome:
        return self.outcome


def _outcome_of(fut: Any, task: TrialTask) -> TrialOutcome:
    try:
        return fut.result()
    except Exception as e:  # a worker process died (BrokenProcessPool) or similar
        return TrialOutcome(task.trial_id, "failed", one_line(e))


class SequentialExecutor:
    """One trial after another, in this process."""

    label = "sequential"

    def __init__(self, trial_fn: TrialFn):
        self.trial_fn = trial_fn

    def run(self, tasks: list[TrialTask], on_start: OnStart, on_outcome: OnOutcome) -> None:
        for task in tasks:
            on_start(task)
            on_outcome(task, execute_trial(self.trial_fn, task))

    def close(self) -> None:
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


class ProcessExecutor:
    """``workers`` local processes (forkserver where available, else spawn), one BLAS thread each.

    A worker killed from outside (out of memory, a crash) breaks the pool: its running trials are
    recorded as failed and a fresh pool takes the rest (at most 3 times).
    """

    def __init__(self, trial_fn: TrialFn, workers: int):
        self.trial_fn, self.workers = trial_fn, workers
        self.label = f"{workers} local workers"
        self.pools: list[Any] = []

    def _new_pool(self, method: str) -> Any:
        import multiprocessing  # noqa: PLC0415
        from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

        me = os.getpid()
        pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method),
                                   initializer=worker_init, initargs=(me, process_start_time(me)))
        self.pools.append(pool)
        return pool

    def run(self, tasks: list[TrialTask], on_start: OnStart, on_outcome: OnOutcome) -> None:
        import multiprocessing  # noqa: PLC0415
        from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        if method == "forkserver":
            # The fork server imports NumPy and nncli once (with BLAS_ENV already set, as below);
            # each worker is then a fork of it and starts with them loaded.
            multiprocessing.set_forkserver_preload(["nncli.api", "nncli.sweep.worker"])

        def submit(task: TrialTask) -> Any:
            try:
                return self.pools[-1].submit(execute_trial, self.trial_fn, task)
            except BrokenProcessPool:
                if len(self.pools) > 3:
                    raise NncliError("worker processes keep dying; see the failed trials in the table", exit_code=EXIT_FAILURE) from None
                self.pools[-1].shutdown(wait=False, cancel_futures=True)
                return self._new_pool(method).submit(execute_trial, self.trial_fn, task)

        finished = False
        with _environ(BLAS_ENV):  # the children start with these, before they import numpy
            try:
                self._new_pool(method)
                _drive(tasks, submit, lambda: self.workers, on_start, on_outcome)
                self.pools[-1].shutdown(wait=True)
                finished = True
            finally:
                if not finished:  # stopped early: end the children now rather than wait for their trials
                    self._terminate()

    def _terminate(self) -> None:
        for pool in self.pools:
            procs = list((getattr(pool, "_processes", None) or {}).values())
            for proc in procs:
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in procs:
                proc.join(timeout=5)

    def close(self) -> None:
        pass


def require_dask() -> Any:
    """The ``distributed`` module, or a one-line UsageError saying how to install it."""
    from nncli.extras import require  # noqa: PLC0415

    return require("distributed", "dask", "--scheduler")


class DaskExecutor:
    """Trials on a Dask cluster: ``scheduler`` is an address (tcp://host:8786; the client is ours to
    close) or a ``distributed.Client``.  The real trial gets its resolved config and data files
    shipped with it (the workers may not see this machine's files); run directories travel back as
    bytes.  At most as many trials are in flight as the cluster has threads."""

    def __init__(self, trial_fn: TrialFn, scheduler: str | Any):
        self.trial_fn = trial_fn
        self.own_client = isinstance(scheduler, str)
        if self.own_client:
            distributed = require_dask()
            try:
                self.client = distributed.Client(scheduler, timeout=10)
            except Exception as e:  # OSError / TimeoutError: nothing listening there
                raise UsageError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({one_line(e)})") from None
        else:
            self.client = scheduler
        address = getattr(self.client, "scheduler", None) and self.client.scheduler.address or scheduler
        self.label = f"dask {address}"
        self._blobs: dict[str, Any] = {}  # client path -> bytes
        self._scattered: dict[str, Any] = {}  # client path -> Dask future of the bytes
        self._capacity, self._asked_at = 1, -1.0

    def _submit(self, task: TrialTask, futures: list[Any]) -> Any:
        key = f"nncli-trial-{task.trial_id}-{os.urandom(4).hex()}"
        if self.trial_fn is train_trial:
            try:
                payload = dask_payload(task, self._blobs)
            except NncliError as e:  # an invalid combination: no need for a worker
                return _Done(TrialOutcome(task.trial_id, "failed", one_line(e)))
            files = payload.pop("files")
            for entry in files.values():  # each data file travels to a worker once
                path = entry[0]
                if path not in self._scattered:
                    self._scattered[path] = self.client.scatter(self._blobs[path], hash=True)
                entry[1] = self._scattered[path]
            task = TrialTask(task.trial_id, task.base_path, task.overrides, task.out, payload)
            # files as their own argument: Dask resolves futures in dicts and lists
            f = self.client.submit(execute_trial_remote, self.trial_fn, task, files, pure=False, key=key)
        else:
            f = self.client.submit(execute_trial_remote, self.trial_fn, task, pure=False, key=key)
        futures.append(f)
        return f

    def _threads(self) -> int:
        """The cluster's threads, asked at most once a second."""
        now = time.monotonic()
        if now - self._asked_at > 1.0:
            try:
                self._capacity = max(1, sum(self.client.nthreads().values()))
            except Exception:  # pragma: no cover
                pass
            self._asked_at = now
        return self._capacity

    def run(self, tasks: list[TrialTask], on_start: OnStart, on_outcome: OnOutcome) -> None:
        futures: list[Any] = []
        try:
            _drive(tasks, lambda t: self._submit(t, futures), self._threads, on_start, on_outcome)
        finally:
            pending = [f for f in futures if not f.done()]
            if pending:
                self.client.cancel(pending)

    def close(self) -> None:
        if self.own_client:
            try:
                self.client.close()
            except Exception:  # pragma: no cover
                pass
