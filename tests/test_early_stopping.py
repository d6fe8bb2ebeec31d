"""Early stopping: stops after `patience` epochs without improvement and, by default, keeps the
weights of the best epoch (not the last)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nncli
from nncli.training import Callback

MOONS = {
    "name": "es",
    "seed": 1,
    "data": {"generator": {"name": "moons", "n_samples": 200, "noise": 0.3}, "validation_split": 0.3},
    "model": {"layers": [{"units": 32, "activation": "relu"}, {"units": 2, "activation": "softmax"}]},
    "training": {"epochs": 300, "batch_size": 16, "loss": "cross_entropy",
                 "optimizer": {"name": "adam", "learning_rate": 0.05},
                 "early_stopping": {"monitor": "val_loss", "patience": 5}},
}


class Recorder(Callback):
    """The parameters at the end of every epoch (index e-1 for epoch e)."""

    def __init__(self):
        self.params = []

    def on_epoch_end(self, trainer, row):
        self.params.append(trainer.network.params.copy())


def with_early_stopping(**es):
    return {**MOONS, "training": {**MOONS["training"], "early_stopping": {**MOONS["training"]["early_stopping"], **es}}}


def test_stops_after_patience_and_restores_the_best_weights(tmp_path):
    rec = Recorder()
    run = nncli.train(MOONS, out=tmp_path / "es", callbacks=[rec])
    val = run.history.val_loss
    best = int(np.argmin(val)) + 1
    assert len(val) < 300  # it did stop early
    assert len(val) == best + 5  # five epochs without improvement after the best one
    assert all(v >= val[best - 1] for v in val[best:])
    np.testing.assert_array_equal(run.network.params, rec.params[best - 1])
    assert not np.array_equal(rec.params[-1], rec.params[best - 1])
    m = json.loads((tmp_path / "es/metrics.json").read_text())
    assert m["stopped_early"] is True and m["best_epoch"] == best and m["epochs_run"] == best + 5
    # the saved weights are the best epoch's: their validation loss is the best one in the history
    assert m["validation"]["loss"] == pytest.approx(val[best - 1], rel=1e-6)
    loaded = nncli.load_run(tmp_path / "es")
    np.testing.assert_array_equal(loaded.network.params, rec.params[best - 1])


def test_restore_best_false_keeps_the_last_weights():
    rec = Recorder()
    run = nncli.train(with_early_stopping(restore_best=False), out=False, callbacks=[rec])
    assert run.metrics["stopped_early"] is True
    np.testing.assert_array_equal(run.network.params, rec.params[-1])


def test_min_delta_too_large_to_beat_stops_after_first_epoch_plus_patience():
    rec = Recorder()
    run = nncli.train(with_early_stopping(monitor="train_loss", min_delta=100.0, patience=3), out=False, callbacks=[rec])
    assert run.metrics["epochs_run"] == 4 and run.metrics["best_epoch"] == 1
    np.testing.assert_array_equal(run.network.params, rec.params[0])


def test_accuracy_is_maximized():
    run = nncli.train(with_early_stopping(monitor="val_accuracy", patience=4), out=False)
    acc = run.history.columns["val_accuracy"]
    best = int(np.argmax(acc)) + 1  # the first epoch reaching the maximum
    assert run.metrics["stopped_early"] is True
    assert run.metrics["best_epoch"] == best and len(acc) == best + 4


def test_no_early_stopping_runs_every_epoch():
    spec = {**MOONS, "training": {**MOONS["training"], "epochs": 7}}
    del spec["training"]["early_stopping"]
    run = nncli.train(spec, out=False)
    assert run.metrics["epochs_run"] == 7 and run.metrics["stopped_early"] is False and "best_epoch" not in run.metrics


def test_the_early_stopped_epoch_leaves_no_resumable_checkpoint(tmp_path):
    # A checkpoint written after the stopping epoch would not know training had stopped: a run
    # killed before its commit would, resumed, train on past the early stop.
    from nncli.run import files as rundir

    seen = {}

    class Probe(Callback):
        def on_train_end(self, trainer):
            from nncli.run import checkpoint

            _, meta = checkpoint.load(rundir.staging_dir(tmp_path / "run"))
            seen.update(checkpoint=meta["epoch"], stopped=trainer.epoch, early=trainer.stopped_early)

    cfg = {**MOONS, "training": {**MOONS["training"], "checkpoint_every": 1}}
    nncli.train(cfg, out=tmp_path / "run", callbacks=[Probe()])
    assert seen["early"] and seen["checkpoint"] == seen["stopped"] - 1
