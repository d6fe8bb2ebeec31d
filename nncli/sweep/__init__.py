"""Sweeps: many ordinary runs over a grid or a random search of config keys.

A sweep names a base config and a search space over dotted config paths (the same paths as
``--set``).  It expands, deterministically, into trials; each trial is the base config plus its
overrides (parsed values, never text parsed twice), trained into an ordinary run directory
``<sweep dir>/<trial id>/``.  Trials run sequentially, in local worker processes, or on a Dask
distributed cluster, and give the same results (metrics and weights) on each, because every trial
uses the base config's seed.

    spec.py       the sweep file (SweepSpec, Distribution), --grid options
    trials.py     a trial and its readable id
    expand.py     spec -> trials (grid x random samples)
    worker.py     running one trial (locally, in a worker process, on a Dask worker)
    executors.py  sequential, local processes, Dask
    results.py    trial results, results.csv, best.json, reading a trial's metrics
    runner.py     prepare_sweep, run_sweep and the SweepEvents progress hooks

Nothing here prints: ``nncli.cli.sweep`` and ``nncli.cli.sweep_progress`` show progress.
"""

from .executors import require_dask
from .expand import expand
from .results import SweepResult, TrialResult, write_run_files
from .runner import Sweep, SweepEvents, default_direction, prepare_sweep, run_sweep
from .spec import Distribution, SweepSpec, is_sweep_file, load_sweep_spec, parse_grid_option, sweep_from_config
from .trials import Trial
from .worker import TrialOutcome, TrialTask, dask_payload, execute_trial, execute_trial_remote, train_trial

__all__ = [
    "Distribution",
    "Sweep",
    "SweepEvents",
    "SweepResult",
    "SweepSpec",
    "Trial",
    "TrialOutcome",
    "TrialResult",
    "TrialTask",
    "dask_payload",
    "default_direction",
    "execute_trial",
    "execute_trial_remote",
    "expand",
    "is_sweep_file",
    "load_sweep_spec",
    "parse_grid_option",
    "prepare_sweep",
    "require_dask",
    "run_sweep",
    "sweep_from_config",
    "train_trial",
    "write_run_files",
]
