"""Crash testing of writing and publishing a run, the way SQLite tests crashes: one training is
traced (NNCLI_FAULT_AT_TRACE lists every write/rename/fsync step), then repeated with a failure at
each step k in turn (NNCLI_FAULT_AT="k:kill" in a subprocess, "k:raise" in this process). After
each: the path holds the previous run or the new one, complete and loadable (`nncli predict`
works); the next call recovers; a finished training leaves nothing beside the run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import nncli
from conftest import ROOT, run_cli_subprocess
from nncli.errors import RunDirError, UsageError
from nncli.run import files, place

OLD, NEW = ["training.epochs=2"], ["training.epochs=3"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A project with the old run at runs/x (pristine copy kept), the new run's weights, and the
    trace of the steps that replace one by the other."""
    proj = tmp_path_factory.mktemp("faults")
    (proj / "configs").mkdir()
    (proj / "datasets").mkdir()
    shutil.copy(ROOT / "configs/xor.yaml", proj / "configs/xor.yaml")
    shutil.copy(ROOT / "datasets/xor.csv", proj / "datasets/xor.csv")
    nncli.train(proj / "configs/xor.yaml", out=proj / "pristine/x", overrides=OLD)
    nncli.train(proj / "configs/xor.yaml", out=proj / "reference/x", overrides=NEW)
    weights = {"old": (proj / "pristine/x/weights.npz").read_bytes(),
               "new": (proj / "reference/x/weights.npz").read_bytes()}
    assert weights["old"] != weights["new"]
    reset(proj)
    trace = proj / "trace"
    r = _train_subprocess(proj, {"NNCLI_FAULT_AT_TRACE": str(trace)})
    assert r.returncode == 0, r.stderr
    steps = [line.split(" ", 1)[1] for line in trace.read_text().splitlines()]
    return proj, weights, steps


def reset(proj: Path) -> None:
    shutil.rmtree(proj / "runs", ignore_errors=True)
    (proj / "runs").mkdir()
    shutil.copytree(proj / "pristine/x", proj / "runs/x")


def _train_subprocess(proj: Path, env: dict, fallback: bool = False):
    """The new training, as a process of its own; ``fallback``: as on a system without RENAME_EXCHANGE."""
    code = ("import sys, nncli\n"
            "from nncli.run import place\n"
            + ("place.exchange = lambda a, b: False\n" if fallback else "")
            + "nncli.train('configs/xor.yaml', out='runs/x', overrides=['training.epochs=3'])\n")
    full = dict(os.environ, PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-c", code], cwd=proj, env=full, capture_output=True, text=True, timeout=120)


def has_checkpoint(staging: Path) -> bool:
    """The staging folder holds checkpoint files (their consistency is checkpoint.py's business)."""
    return any((staging / n).exists() for n in (files.CHECKPOINT_ARRAYS, files.CHECKPOINT_META))


def state(proj: Path, weights: dict) -> str:
    """'old' or 'new': which complete run is at runs/x (asserting it is one of them)."""
    out = proj / "runs/x"
    assert files.read_marker(out) is not None, sorted(os.listdir(proj / "runs"))
    assert all((out / f).is_file() for f in files.RUN_FILES)
    w = (out / "weights.npz").read_bytes()
    assert w in weights.values()
    return "old" if w == weights["old"] else "new"


def check_after_the_fault(proj: Path, weights: dict, k: int, step: str, fallback: bool, predict: bool) -> str:
    runs, out = proj / "runs", proj / "runs/x"
    if fallback and not out.exists():  # the one window of the fallback: a complete run beside it
        assert any(files.read_marker(p) is not None for p in (files.old_dir(out), files.new_dir(out))), (k, step)
    else:
        state(proj, weights)
    if predict:  # the command line, as a user would run it next (it recovers first)
        r = run_cli_subprocess("predict", "runs/x", "datasets/xor.csv", cwd=proj)
        assert r.returncode == 0, (k, step, r.stderr)
    run = nncli.load_run(out)  # recovers what the killed process left
    assert run.predict([[0, 1]]).shape == (1,)
    which = state(proj, weights)
    left = sorted(set(os.listdir(runs)) - {"x"})
    assert left in ([], [".x.partial"]), (k, step, left)
    if left:  # only a checkpoint to resume from stays
        assert has_checkpoint(runs / ".x.partial"), (k, step, os.listdir(runs / ".x.partial"))
    return which


def finish_and_check_clean(proj: Path, weights: dict, k: int, step: str) -> None:
    nncli.train(proj / "configs/xor.yaml", out=proj / "runs/x", overrides=NEW)
    assert os.listdir(proj / "runs") == ["x"], (k, step, os.listdir(proj / "runs"))
    assert state(proj, weights) == "new"


def test_the_trace_covers_writing_and_publishing(world):
    _, _, steps = world
    # (the checkpoint's own steps are run/faults.py points: tests/test_checkpoint_faults.py covers them)
    for name in ("mkdir .x.partial", "mkdir .x.new", "write weights.npz",
                 "fsync metrics.json", "rename .nncli-run", "exchange .x.new", "remove .x.new", "remove .x.partial"):
        assert name in steps, steps


def _train_forked(proj: Path, k: int, fallback: bool) -> int:
    """The new training in a forked child killed (SIGKILL) at step k: a process of its own that
    dies as abruptly as `kill -9`, without paying for a Python start-up per step."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.chdir(proj)
            if fallback:
                place.exchange = lambda a, b: False
            files._FAULT_AT, files._steps[0] = f"{k}:kill", 0
            nncli.train("configs/xor.yaml", out="runs/x", overrides=NEW)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "fallback"])
def test_a_kill_at_every_step_never_loses_the_run(world, fallback):
    proj, weights, steps = world
    seen = set()
    for k, step in enumerate(steps if not fallback else _fallback_steps(proj), start=1):
        reset(proj)
        rc = _train_forked(proj, k, fallback)
        assert rc == -signal.SIGKILL, (k, step, rc)
        seen.add(check_after_the_fault(proj, weights, k, step, fallback=fallback, predict=False))
        finish_and_check_clean(proj, weights, k, step)
    assert seen == {"old", "new"}  # the kills fell on both sides of the swap


def _fallback_steps(proj: Path) -> list[str]:
    trace = proj / "trace-fallback"
    trace.unlink(missing_ok=True)
    reset(proj)
    assert _train_subprocess(proj, {"NNCLI_FAULT_AT_TRACE": str(trace)}, fallback=True).returncode == 0
    steps = [line.split(" ", 1)[1] for line in trace.read_text().splitlines()]
    assert "rename x" in steps and "exchange .x.new" in steps
    return steps


@pytest.mark.parametrize("name", ["exchange .x.new", "remove .x.new", "remove .x.partial"])
def test_the_command_line_killed_by_the_env_hook_keeps_predict_working(world, name):
    """The hook as CI uses it: NNCLI_FAULT_AT in the environment of `nncli train`; then `nncli predict`."""
    proj, weights, steps = world
    k = steps.index(name) + 1
    reset(proj)
    r = run_cli_subprocess("train", "configs/xor.yaml", "--out", "runs/x", "--epochs", "3", "--quiet", cwd=proj,
                env={"NNCLI_FAULT_AT": f"{k}:kill"})
    assert r.returncode == -signal.SIGKILL, r.stderr
    check_after_the_fault(proj, weights, k, name, fallback=False, predict=True)
    finish_and_check_clean(proj, weights, k, name)


@pytest.mark.parametrize("fallback", [False, True], ids=["exchange", "fallback"])
def test_an_error_at_every_step_is_reported_and_cleaned_up(world, monkeypatch, fallback):
    """An OSError (as a full disk or a permission error would raise) at each step: the training
    fails with that error; the previous run, or the new one when the error came after the swap,
    is in place; nothing but a resumable checkpoint is left."""
    proj, weights, steps = world
    if fallback:
        monkeypatch.setattr(place, "exchange", lambda a, b: False)
    cwd = os.getcwd()
    os.chdir(proj)
    try:
        for k, step in enumerate(steps, start=1):
            reset(proj)
            monkeypatch.setattr(files, "_FAULT_AT", f"{k}:raise")
            monkeypatch.setattr(files, "_steps", [0])
            try:
                nncli.train("configs/xor.yaml", out="runs/x", overrides=NEW)
                raised = False
            # UsageError: a folder it could not create; RunDirError: a checkpoint it could not save
            except (files.InjectedFault, UsageError, RunDirError) as exc:
                assert "injected fault" in str(exc), exc
                raised = True
            monkeypatch.setattr(files, "_FAULT_AT", None)
            # steps after the new run is in place (removing leftovers) are best-effort: no error
            assert raised or step.startswith(("remove", "fsync runs/")), (k, step)
            which = state(proj, weights)
            nncli.load_run(proj / "runs/x")  # the next call recovers what the failure left
            left = sorted(set(os.listdir(proj / "runs")) - {"x"})
            assert left in ([], [".x.partial"]), (k, step, left)
            if left:
                assert has_checkpoint(proj / "runs/.x.partial"), (k, step)
            if not raised:
                assert which == "new"
            finish_and_check_clean(proj, weights, k, step)
    finally:
        os.chdir(cwd)


def test_the_hook_costs_nothing_when_unset():
    """Unset, step() returns at its first comparison and counts nothing."""
    if files._FAULT_AT is None and files._FAULT_TRACE is None:
        before = files._steps[0]
        files.step("anything")
        assert files._steps[0] == before
    code = "from nncli.run import files; import sys; sys.exit(files._FAULT_AT is not None)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNCLI_FAULT")}
    env["PYTHONPATH"] = str(ROOT)
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


def test_metrics_of_the_published_run_are_the_new_ones(world):
    proj, weights, _ = world
    reset(proj)
    finish_and_check_clean(proj, weights, 0, "none")
    assert json.loads((proj / "runs/x/metrics.json").read_text())["epochs_run"] == 3
