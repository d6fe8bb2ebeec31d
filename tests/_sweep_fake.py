"""A stand-in trial for sweep tests that do not need real training (importable by worker processes)."""

import json
import os
from pathlib import Path

import numpy as np

from nncli.errors import DivergedError


def params_of(overrides):
    """The trial's overrides (parsed: nncli.config.overrides.Override) as dotted path -> value."""
    return {o.key: o.value for o in overrides}


def fake_trial(task):
    p = params_of(task.overrides)
    lr = float(p.get("training.optimizer.learning_rate", 0.1))
    units = int(p.get("model.layers.0.units", 4))
    out = Path(task.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "log.txt").write_text(f"pid {os.getpid()} blas {os.environ.get('OPENBLAS_NUM_THREADS')}\n")
    if lr > 1.0:
        raise DivergedError(f"training diverged at epoch 3 (loss is nan); lower training.optimizer.learning_rate={lr}")
    rng = np.random.default_rng(0)
    w = rng.normal(size=(units, 2)) * lr
    np.savez(out / "weights.npz", w=w)
    loss = (lr - 0.1) ** 2 + 1.0 / units
    (out / "metrics.json").write_text(json.dumps({"train_loss": loss + 0.01, "val_loss": loss, "val_accuracy": 1 - loss}))


def slow_trial(task):
    """Holds its run directory's lock, as a real trial does, and runs for up to two minutes;
    writes its pid to <run dir>/pid so a test can watch the worker."""
    import time

    from nncli.run.files import locked

    out = Path(task.out)
    with locked(out):
        out.mkdir(parents=True, exist_ok=True)
        (out / "pid").write_text(str(os.getpid()))
        for _ in range(1200):
            time.sleep(0.1)


def locking_trial(task):
    """fake_trial inside its run directory's lock, as nncli.train holds it."""
    from nncli.run.files import locked

    with locked(Path(task.out)):
        fake_trial(task)
