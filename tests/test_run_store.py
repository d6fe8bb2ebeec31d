"""nncli/run/ is the one owner of the run directory; api.py is the pipeline over it.

These tests pin the seams of issue 12: the Python API speaks in facts (Interrupted.checkpoint,
DivergedError.checkpoint), the CLI turns them into the command to type; store.read_metrics is the
one reader of metrics.json (sweeps use it); data.checks.prepare_checked is the one data-stage call;
checkpoint save/load/resume continue a training bit-exactly in-process.
"""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import nncli
from nncli.errors import DataError, DivergedError, Interrupted, RunDirError, UsageError
from nncli.run import checkpoint, files, resume, store
from nncli.training import Callback

ROOT = Path(__file__).resolve().parent.parent

MOONS = {
    "name": "moons",
    "seed": 5,
    "data": {"generator": {"name": "moons", "n_samples": 200, "noise": 0.2}, "validation_split": 0.25},
    "model": {"layers": [{"units": 8, "activation": "tanh", "dropout": 0.1},
                         {"units": 2, "activation": "softmax"}]},
    "training": {"epochs": 6, "batch_size": 16, "loss": "cross_entropy",
                 "optimizer": {"name": "adam", "learning_rate": 0.01}, "checkpoint_every": 1},
}


class StopAt(Callback):
    """Asks the loop to stop at the end of epoch ``epoch``, as a Ctrl-C there would."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, trainer, row):
        if trainer.epoch == self.epoch:
            trainer.stop_signal = signal.SIGINT


def _weights(run_dir: Path) -> dict[str, bytes]:
    with np.load(run_dir / "weights.npz", allow_pickle=False) as z:
        return {k: z[k].tobytes() for k in z.files}


# ---------------------------------------------------------------- api speaks in facts
def test_api_source_has_no_command_line_words():
    text = (ROOT / "nncli/api.py").read_text()
    for word in ("--out", "--resume", "nncli train", "shlex", "print("):
        assert word not in text, word
    assert len(text.splitlines()) <= 220


def test_run_modules_stay_small():
    for p in sorted((ROOT / "nncli/run").glob("*.py")) + [ROOT / "nncli/data/checks.py"]:
        assert len(p.read_text().splitlines()) < 600, p


def test_interrupted_carries_the_checkpoint_and_resumes_bit_exactly(tmp_path):
    out = tmp_path / "runs/moons"
    with pytest.raises(Interrupted) as exc:
        nncli.train(MOONS, out=out, callbacks=[StopAt(2)])
    err = exc.value
    assert err.exit_code == 130 and err.signum == signal.SIGINT
    assert err.checkpoint == files.staging_dir(out) and err.out == out
    assert err.message == f"interrupted by Ctrl-C after epoch 2; checkpoint saved in {files.staging_dir(out)}"
    assert checkpoint.saved_epoch(err.checkpoint) == "2" and not out.exists()

    run = nncli.train(MOONS, out=out, resume=True)
    assert run.metrics["resumed_from_epoch"] == 2 and run.metrics["epochs_run"] == 6
    assert not files.staging_dir(out).exists() and not files.lock_path(out).exists()
    nncli.train(MOONS, out=tmp_path / "runs/straight")
    assert _weights(out) == _weights(tmp_path / "runs/straight")


def test_interrupted_in_memory_has_no_checkpoint(tmp_path):
    with pytest.raises(Interrupted) as exc:
        nncli.train(MOONS, out=False, callbacks=[StopAt(1)])
    assert exc.value.checkpoint is None and "nothing was being written" in exc.value.message


def test_divergence_without_checkpoint_carries_none(tmp_path):
    spec = {**MOONS, "model": {"layers": [{"units": 4, "activation": "relu"}, {"units": 1, "activation": "linear"}]},
            "data": {"generator": {"name": "line", "n_samples": 100}},
            "training": {"epochs": 3, "batch_size": 10, "loss": "mse",
                         "optimizer": {"name": "sgd", "learning_rate": 1e6}}}
    with pytest.raises(DivergedError) as exc:
        nncli.train(spec, out=tmp_path / "runs/line")
    assert exc.value.checkpoint is None and exc.value.message.endswith("nothing was kept")
    assert "--resume" not in exc.value.message
    assert list((tmp_path / "runs").iterdir()) == []


@pytest.mark.parametrize("out_given", [True, False])
def test_cli_formats_the_resume_command_from_the_facts(tmp_path, monkeypatch, out_given):
    from nncli.cli.app import app
    import nncli.api

    cfg = tmp_path / "my config.yaml"
    cfg.write_text(yaml.safe_dump(MOONS, sort_keys=False))
    staging = tmp_path / ".x.partial"

    def fake_train(*args, **kwargs):
        raise Interrupted(f"interrupted by SIGTERM after epoch 1; checkpoint saved in {staging}", signal.SIGTERM,
                          checkpoint=staging, out=tmp_path / "x")

    monkeypatch.setattr(nncli.api, "train", fake_train)
    args = ["train", str(cfg), "--quiet"] + (["--out", str(tmp_path / "x")] if out_given else [])
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 143
    want = f"continue with: nncli train '{cfg}' --resume" + (f" --out {tmp_path / 'x'}" if out_given else "")
    assert result.output.strip().endswith(want), result.output


def test_cli_adds_nothing_when_no_checkpoint_was_kept(tmp_path, monkeypatch):
    from nncli.cli.app import app
    import nncli.api

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(MOONS, sort_keys=False))

    def fake_train(*args, **kwargs):
        raise DivergedError("training diverged: the loss became inf; no checkpoint had been written, nothing was kept")

    monkeypatch.setattr(nncli.api, "train", fake_train)
    result = CliRunner().invoke(app, ["train", str(cfg), "--quiet"])
    assert result.exit_code == 3
    assert result.output.strip().endswith("nothing was kept")


# ---------------------------------------------------------------- resume checks
def test_config_differences_names_each_leaf():
    old = {"seed": 1, "training": {"epochs": 5, "optimizer": {"name": "sgd", "learning_rate": 0.1}}}
    new = {"seed": 2, "training": {"epochs": 9, "optimizer": {"name": "adam", "learning_rate": 0.1}}}
    assert resume.config_differences(old, new) == [
        "seed (1 -> 2)", "training.epochs (5 -> 9)", "training.optimizer.name ('sgd' -> 'adam')"]


def test_check_config_allows_only_the_listed_keys(tmp_path):
    old = {"seed": 1, "training": {"epochs": 5, "clip_norm": None, "optimizer": {"learning_rate": 0.1}}}
    allowed = {"seed": 1, "training": {"epochs": 50, "clip_norm": 1.0, "optimizer": {"learning_rate": 0.01}}}
    resume.check_config(old, allowed, tmp_path)  # no error
    with pytest.raises(UsageError, match=r"cannot resume: the config changed since the checkpoint: seed \(1 -> 2\)"):
        resume.check_config(old, {**allowed, "seed": 2}, tmp_path)


def test_resume_without_checkpoint_names_where_it_looked(tmp_path):
    out = tmp_path / "runs/moons"
    with pytest.raises(UsageError) as exc:
        nncli.train(MOONS, out=out, resume=True)
    assert exc.value.message.startswith(f"{out}: no checkpoint to resume from (looked in {files.staging_dir(out)})")
    assert not out.exists() and not files.staging_dir(out).exists()


def test_damaged_checkpoint_is_a_run_dir_error(tmp_path):
    out = tmp_path / "runs/moons"
    with pytest.raises(Interrupted):
        nncli.train(MOONS, out=out, callbacks=[StopAt(1)])
    staging = files.staging_dir(out)
    arrays, meta = checkpoint.load(staging)
    arrays["params"] = arrays["params"][:-1]
    (staging / files.CHECKPOINT_ARRAYS).write_bytes(files.npz_bytes(arrays))
    with pytest.raises(RunDirError, match=r"checkpoint.npz: params is float32 \(\d+,\), the network needs"):
        nncli.train(MOONS, out=out, resume=True)
    assert checkpoint.exists(staging)  # refused, nothing removed


# ---------------------------------------------------------------- loading and metrics
def test_load_matches_what_train_returned(tmp_path):
    out = tmp_path / "runs/moons"
    run = nncli.train(MOONS, out=out)
    loaded = nncli.load_run(out)
    assert loaded.metrics == json.loads(json.dumps(run.metrics))
    assert loaded.history.columns.keys() == run.history.columns.keys()
    X = np.random.default_rng(0).normal(size=(7, 2))
    assert np.array_equal(loaded.predict_proba(X), run.predict_proba(X))


def test_read_weights_refuses_a_mismatch_before_reading_arrays(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(files.npz_bytes({"layers.0.weight": np.zeros((2, 3), np.float32)}))
    with pytest.raises(RunDirError, match=r"layers.0.weight has shape \(2, 3\), config.yaml says \(2, 4\)"):
        store.read_weights(path, {"layers.0.weight": np.zeros((2, 4), np.float32)})
    with pytest.raises(RunDirError, match=r"missing array 'layers.0.bias'"):
        store.read_weights(path, {"layers.0.weight": np.zeros((2, 3), np.float32),
                                  "layers.0.bias": np.zeros(3, np.float32)})
    with pytest.raises(RunDirError, match=r"dtype float32, config.yaml says float64"):
        store.read_weights(path, {"layers.0.weight": np.zeros((2, 3), np.float64)})


def test_read_metrics_flattens_splits_and_keeps_run_facts(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({
        "task": "classification", "epochs_run": 4, "best_epoch": 3, "training_seconds": 1.5, "stopped_early": True,
        "train": {"loss": 0.5, "accuracy": 0.9}, "validation": {"loss": 0.6, "note": "x"}, "seed": 3}))
    assert store.read_metrics(tmp_path) == {"epochs_run": 4, "best_epoch": 3, "training_seconds": 1.5,
                                            "train_loss": 0.5, "train_accuracy": 0.9, "val_loss": 0.6}
    (tmp_path / "metrics.json").write_text("[1, 2]")
    assert store.read_metrics(tmp_path) == {}
    assert store.read_metrics(tmp_path / "nowhere") == {}


def test_sweep_reads_metrics_through_the_store():
    texts = {p.name: p.read_text() for p in (ROOT / "nncli/sweep").glob("*.py")}
    assert not [name for name, text in texts.items() if "def read_metrics" in text]
    assert "from ..run.store import read_metrics" in texts["runner.py"]


# ---------------------------------------------------------------- the data stage
def test_prepare_checked_returns_everything_training_needs():
    from nncli.api import as_config
    from nncli.data.checks import prepare_checked

    cfg = as_config({**MOONS, "training": {**MOONS["training"], "class_weight": "balanced"}})
    checked = prepare_checked(cfg)
    assert checked.n_classes == 2 and checked.class_weights.shape == (2,)
    assert checked.train.X.shape == (150, 2) and checked.validation.X.shape == (50, 2)
    assert list(checked.splits) == ["train", "validation", "test"] and checked.test is None


def test_prepare_checked_reports_every_data_problem_at_once():
    from nncli.api import as_config
    from nncli.data.checks import prepare_checked

    spec = {**MOONS, "model": {"layers": [{"units": 3, "activation": "softmax"}]},
            "training": {**MOONS["training"], "batch_size": 1000}}
    with pytest.raises(DataError) as exc:
        prepare_checked(as_config(spec))
    lines = exc.value.message.splitlines()
    assert len(lines) == 2
    assert re.search(r"the output layer has 3 units but the data has 2 classes", lines[0])
    assert re.search(r"training.batch_size: 1000 is larger than the training set \(150 rows\)", lines[1])
