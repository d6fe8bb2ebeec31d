"""Never lose a run: signals, checkpoints, bit-exact resume, the lock, SIGKILL, divergence.

The signal tests run `python -m nncli train` as a user would, wait until training is under way
(the first checkpoint exists), send the signal, and then check the exit code, the message, the
checkpoint, that the previous run at that path is intact, and that `--resume` ends with weights
bit-identical to an uninterrupted run of the same config and seed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

import nncli
from nncli.run import checkpoint, files as rundir

ROOT = Path(__file__).resolve().parent.parent

# Long enough to interrupt (about 1200 batches per epoch), small enough to finish in seconds.
# Dropout, a plateau schedule and early stopping all carry state across the interruption.
SPIRALS = {
    "name": "sp",
    "seed": 3,
    "data": {"generator": {"name": "spirals", "n_samples": 5000, "classes": 3, "noise": 0.3},
             "validation_split": 0.2},
    "model": {"layers": [{"units": 16, "activation": "tanh", "dropout": 0.2},
                         {"units": 3, "activation": "softmax"}]},
    "training": {"epochs": 40, "batch_size": 4, "loss": "cross_entropy",
                 "optimizer": {"name": "adam", "learning_rate": 0.02},
                 "schedule": {"name": "reduce_on_plateau", "patience": 1, "factor": 0.5},
                 "early_stopping": {"monitor": "val_loss", "patience": 3}},
}


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NNCLI_DEBUG", None)
    return env


def start_train(cfg: Path, out: Path, *extra, tmp: Path) -> subprocess.Popen:
    log = tmp / f"train-{time.monotonic_ns()}"
    with open(f"{log}.out", "w") as so, open(f"{log}.err", "w") as se:
        proc = subprocess.Popen([sys.executable, "-m", "nncli", "train", str(cfg), "--out", str(out),
                                 *map(str, extra)], stdout=so, stderr=se, env=_env(), cwd=tmp)
    proc.log = log
    return proc


def stderr_of(proc: subprocess.Popen) -> str:
    return Path(f"{proc.log}.err").read_text()


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training ended (exit {proc.returncode}) before {path} appeared: {stderr_of(proc)}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"{path} did not appear within {timeout} s")
        time.sleep(0.02)


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def history_without_seconds(run_dir: Path) -> list[str]:
    lines = (run_dir / "history.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[-1] == "seconds"
    return [",".join(line.split(",")[:-1]) for line in lines]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run of SPIRALS (through the Python API: the same code the CLI calls)."""
    d = tmp_path_factory.mktemp("reference")
    cfg = write_config(d / "sp.yaml", SPIRALS)
    nncli.train(cfg, out=d / "run")
    metrics = json.loads((d / "run/metrics.json").read_text())
    assert metrics["stopped_early"] is True  # the config exercises early stopping
    return d / "run"


def interrupt_and_resume(tmp_path, reference, sig, previous: bool):
    cfg = write_config(tmp_path / "sp.yaml", SPIRALS)
    out = tmp_path / "runs" / "sp"
    if previous:  # a completed run already at that path must survive the interruption
        nncli.train(ROOT / "configs/xor.yaml", out=out, overrides=["training.epochs=5"])
        before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = start_train(cfg, out, tmp=tmp_path)
    staging = rundir.staging_dir(out)
    wait_for(staging / rundir.CHECKPOINT_ARRAYS, proc)  # written after the first epoch
    time.sleep(0.3)
    proc.send_signal(sig)
    rc = proc.wait(timeout=60)
    err = stderr_of(proc)
    assert rc == 128 + sig, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    name = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    m = re.fullmatch(rf"interrupted by {name} at epoch (\d+), batch (\d+); checkpoint saved in (\S+); "
                     rf"continue with: nncli train (\S+) --resume --out (\S+)", lines[0])
    assert m, lines[0]  # "epoch E, batch B": stopped in the middle of an epoch
    assert Path(m.group(3)) == staging and Path(m.group(5)) == out
    _, meta = checkpoint.load(staging)
    assert meta["epoch"] == int(m.group(1)) - 1 and meta["step_in_epoch"] == int(m.group(2)) > 0
    assert (staging / rundir.CHECKPOINT_ARRAYS).is_file()
    if previous:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    else:
        assert not out.exists()
    assert not rundir.lock_path(out).exists()

    r = subprocess.run([sys.executable, "-m", "nncli", "train", str(cfg), "--resume", "--out", str(out), "--quiet"],
                       capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (out / "weights.npz").read_bytes() == (reference / "weights.npz").read_bytes()
    assert history_without_seconds(out) == history_without_seconds(reference)
    got, want = (json.loads((d / "metrics.json").read_text()) for d in (out, reference))
    assert got.pop("resumed_from_epoch") == int(m.group(1)) - 1
    segments = got.pop("segments")
    assert [(g["start_epoch"], g["start_batch"] > 0, g["changes"]) for g in segments] == [
        (0, False, []), (int(m.group(1)) - 1, True, [])]
    for k in ("training_seconds",):
        got.pop(k), want.pop(k)
    assert got == want
    assert not staging.exists() and not rundir.lock_path(out).exists()


def test_sigint_mid_epoch_checkpoints_and_resumes_bit_exact(tmp_path, reference):
    interrupt_and_resume(tmp_path, reference, signal.SIGINT, previous=False)


def test_sigterm_keeps_previous_run_and_resumes_bit_exact(tmp_path, reference):
    interrupt_and_resume(tmp_path, reference, signal.SIGTERM, previous=True)


def test_sigkill_leaves_previous_run_usable_and_resume_from_last_checkpoint(tmp_path, reference, cli):
    cfg = write_config(tmp_path / "sp.yaml", SPIRALS)
    out = tmp_path / "runs" / "sp"
    nncli.train(ROOT / "configs/xor.yaml", out=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = start_train(cfg, out, tmp=tmp_path)
    wait_for(rundir.staging_dir(out) / rundir.CHECKPOINT_ARRAYS, proc)
    time.sleep(0.2)
    proc.kill()
    assert proc.wait(timeout=30) == -signal.SIGKILL
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    p = cli("predict", out, ROOT / "datasets/xor.csv")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["y", "0", "1", "1", "0"]
    # the lock died with the process; the checkpoint (end of epoch 1) is resumable, bit-exactly
    r = cli("train", cfg, "--resume", "--out", out, "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (out / "weights.npz").read_bytes() == (reference / "weights.npz").read_bytes()
    assert json.loads((out / "metrics.json").read_text())["resumed_from_epoch"] == 1


def test_second_training_on_same_output_refuses_at_once(tmp_path, cli):
    # Long enough that the first training is still running however slow the two CLI calls below
    # are (with early stopping it could end within a second of its first checkpoint).
    long_run = {**SPIRALS, "training": {k: v for k, v in SPIRALS["training"].items() if k != "early_stopping"}}
    long_run["training"]["epochs"] = 10_000
    cfg = write_config(tmp_path / "sp.yaml", long_run)
    out = tmp_path / "runs" / "sp"
    first = start_train(cfg, out, tmp=tmp_path)
    try:
        wait_for(rundir.staging_dir(out) / rundir.CHECKPOINT_ARRAYS, first)
        r = cli("train", cfg, "--out", out, cwd=tmp_path)
        assert r.returncode == 4, r.stderr
        assert r.stderr.strip() == (f"{out}: another nncli process (pid {first.pid}) is writing this run directory; "
                                    f"wait for it, or choose another output with --out")
        assert rundir.lock_path(out).exists()  # the loser did not remove the winner's lock
        r = cli("train", cfg, "--out", out, "--resume", cwd=tmp_path)
        assert r.returncode == 4
        assert first.poll() is None  # the first one goes on undisturbed
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 143


def test_resume_while_another_trains_before_its_first_checkpoint_is_locked(cli, root, tmp_path):
    """No checkpoint yet because another process is still in its first epoch: exit 4 naming it,
    not "no checkpoint to resume from"."""
    out = tmp_path / "runs" / "x"
    out.parent.mkdir()
    with rundir.locked(out):  # held as a writer holds it (flock: conflicts within one process too)
        r = cli("train", root / "configs/xor.yaml", "--out", out, "--resume", cwd=tmp_path)
    assert r.returncode == 4, r.stderr
    assert r.stderr.strip() == (f"{out}: another nncli process (pid {os.getpid()}) is writing this run directory; "
                                f"wait for it, or choose another output with --out")
    r = cli("train", root / "configs/xor.yaml", "--out", out, "--resume", cwd=tmp_path)  # lock gone
    assert r.returncode == 2 and "no checkpoint to resume from" in r.stderr


# ---------------------------------------------------------------- resume refused
def _interrupted(tmp_path, cfg_dict=None, stop_after_epoch=2):
    """A checkpoint made in-process: a callback asks to stop at the end of an epoch."""
    from nncli.errors import Interrupted
    from nncli.training import Callback

    class Stop(Callback):
        def on_epoch_end(self, trainer, row):
            if trainer.epoch == stop_after_epoch:
                trainer.stop_signal = signal.SIGINT

    cfg_dict = cfg_dict or {**SPIRALS, "data": {**SPIRALS["data"], "generator": {"name": "spirals", "n_samples": 300}}}
    cfg = write_config(tmp_path / "sp.yaml", cfg_dict)
    out = tmp_path / "runs/sp"
    with pytest.raises(Interrupted) as exc:
        nncli.train(cfg, out=out, callbacks=[Stop()])
    assert exc.value.exit_code == 130 and "after epoch 2" in exc.value.message
    return cfg, out


def test_resume_refuses_changed_architecture_naming_it(tmp_path, cli):
    cfg, out = _interrupted(tmp_path)
    r = cli("train", cfg, "--resume", "--out", out, "--set", "model.layers.0.units=8", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "cannot resume" in r.stderr and "model.layers" in r.stderr and "16" in r.stderr and "8" in r.stderr
    assert not out.exists() and (rundir.staging_dir(out) / rundir.CHECKPOINT_ARRAYS).exists()


def test_resume_refuses_changed_data_and_seed(tmp_path, cli):
    cfg, out = _interrupted(tmp_path)
    r = cli("train", cfg, "--resume", "--out", out, "--set", "data.generator.n_samples=400", cwd=tmp_path)
    assert r.returncode == 2 and "data.generator.n_samples (300 -> 400)" in r.stderr, r.stderr
    r = cli("train", cfg, "--resume", "--out", out, "--seed", "4", cwd=tmp_path)
    assert r.returncode == 2 and "seed (3 -> 4)" in r.stderr, r.stderr


def test_resume_allows_more_epochs(tmp_path, cli):
    cfg, out = _interrupted(tmp_path)
    r = cli("train", cfg, "--resume", "--out", out, "--epochs", "5", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    m = json.loads((out / "metrics.json").read_text())
    assert m["resumed_from_epoch"] == 2 and m["epochs_run"] <= 5


def test_resume_without_checkpoint_is_a_clean_error(tmp_path, cli):
    cfg = write_config(tmp_path / "sp.yaml", SPIRALS)
    r = cli("train", cfg, "--resume", "--out", tmp_path / "runs/sp", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"{tmp_path / 'runs/sp'}: no checkpoint to resume from (looked in {tmp_path / 'runs/.sp.partial'}); "
        f"train without --resume to start over"]
    assert not (tmp_path / "runs/sp").exists() and not (tmp_path / "runs/.sp.partial").exists()


@pytest.mark.parametrize("damage", ["truncate", "meta", "params", "best_params", "partial_preds"])
def test_resume_from_damaged_checkpoint_is_a_clean_error(tmp_path, cli, damage):
    cfg, out = _interrupted(tmp_path)
    staging = rundir.staging_dir(out)
    if damage == "truncate":
        data = (staging / rundir.CHECKPOINT_ARRAYS).read_bytes()
        (staging / rundir.CHECKPOINT_ARRAYS).write_bytes(data[: len(data) // 2])
    elif damage == "meta":  # re-signed, so the field check (not the checksum) refuses it
        arrays, meta = checkpoint.load(staging)
        del meta["shuffle_rng"]
        (staging / rundir.CHECKPOINT_ARRAYS).write_bytes(checkpoint.encode(arrays, meta))
    else:
        arrays, meta = checkpoint.load(staging)
        if damage == "params":
            arrays["params"] = arrays["params"][:-1]
        elif damage == "best_params":  # early stopping's best weights, one short
            arrays["best_params"] = arrays["params"][:-1]
        else:  # outputs of the interrupted epoch's batches for a network with 2 outputs, not 3
            arrays["partial_preds"] = np.zeros((3, 2), arrays["params"].dtype)
        (staging / rundir.CHECKPOINT_ARRAYS).write_bytes(checkpoint.encode(arrays, meta))
    r = cli("train", cfg, "--resume", "--out", out, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert "checkpoint" in r.stderr and "without --resume" in r.stderr
    assert not out.exists()


# ---------------------------------------------------------------- divergence
LINE = {
    "name": "line",
    "data": {"generator": {"name": "line", "n_samples": 200}},
    "model": {"layers": [{"units": 8, "activation": "relu"}, {"units": 1, "activation": "linear"}]},
    "training": {"epochs": 30, "batch_size": 10, "loss": "mse", "optimizer": {"name": "sgd", "learning_rate": 1000},
                 "checkpoint_every": 1},
}


def test_divergence_exits_3_naming_epoch_and_batch_and_writes_nothing(tmp_path, cli):
    cfg = write_config(tmp_path / "line.yaml", LINE)
    r = cli("train", cfg, "--out", tmp_path / "runs/line", cwd=tmp_path)
    assert r.returncode == 3
    assert "Traceback" not in r.stderr and "Warning" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert re.match(r"training diverged: the loss became (inf|nan) at epoch 1, batch \d+ of 20; "
                    r"lower training.optimizer.learning_rate \(now 1000\) or set training.clip_norm", lines[0]), lines[0]
    assert lines[0].endswith("no checkpoint had been written, nothing was kept")
    assert list((tmp_path / "runs").iterdir()) == []


def test_divergence_keeps_last_good_checkpoint_and_previous_run(tmp_path, cli):
    # a warmup schedule raises the learning rate until it diverges after a few good epochs
    spec = {**LINE, "training": {**LINE["training"], "optimizer": {"name": "sgd", "learning_rate": 5},
                                 "schedule": {"name": "cosine", "warmup_epochs": 20}}}
    cfg = write_config(tmp_path / "line.yaml", spec)
    out = tmp_path / "runs/line"
    nncli.train(ROOT / "configs/line.yaml", out=out, overrides=["training.epochs=3"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    r = cli("train", cfg, "--out", out, cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    m = re.search(r"at epoch (\d+), batch \d+ of 20; .*the last good checkpoint \(epoch (\d+)\) is kept in (\S+): "
                  r"after the change, continue with: nncli train \S+ --resume --out \S+$", lines[0])
    assert m, lines[0]
    assert int(m.group(2)) == int(m.group(1)) - 1 > 1
    assert Path(m.group(3)) == rundir.staging_dir(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the advice works: a lower learning rate resumes from the last good epoch and finishes
    r = cli("train", cfg, "--out", out, "--resume", "--quiet", "--set", "training.optimizer.learning_rate=0.5",
            cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] == int(m.group(2)) and metrics["epochs_run"] == 30


def test_weights_overflow_on_the_last_step_is_divergence(tmp_path):
    """A loss that was finite before the step that broke the weights: caught at the epoch's end."""
    from nncli.errors import DivergedError

    spec = {**LINE, "training": {**LINE["training"], "epochs": 1, "batch_size": "full",
                                 "optimizer": {"name": "sgd", "learning_rate": 1e38}}}
    with pytest.raises(DivergedError, match=r"the weights became NaN or infinite at epoch 1, batch 1 of 1"):
        nncli.train(spec, out=tmp_path / "runs/line")
    assert list((tmp_path / "runs").iterdir()) == []


def test_a_kill_inside_the_final_rename_never_loses_the_previous_run(tmp_path):
    """commit() moves the previous run aside, then the new one in; killed in between, the next
    training (holding the lock) puts the previous run back before anything else."""
    out = tmp_path / "runs/xor"
    nncli.train(ROOT / "configs/xor.yaml", out=out, overrides=["training.epochs=3"])
    before = (out / "weights.npz").read_bytes()
    aside = out.parent / ".xor.old-12345"
    os.rename(out, aside)  # as a process killed between the two renames leaves it
    with rundir.locked(out):
        from nncli.run import place; place.recover(out)
    assert (out / "weights.npz").read_bytes() == before and not aside.exists()
    # leftovers of a process killed while removing the old run are cleaned up by the next one
    shutil.copytree(out, aside)
    nncli.train(ROOT / "configs/xor.yaml", out=out, overrides=["training.epochs=4"])
    assert not aside.exists() and json.loads((out / "metrics.json").read_text())["epochs_run"] == 4
