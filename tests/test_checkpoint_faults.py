"""Crash tests in the way SQLite does them: a loop over every step of training a run — each write,
fsync and rename of saving a checkpoint, each epoch end, each phase from start-up to publishing —
stopping the process at that step (os._exit, an OSError, SIGINT, SIGTERM), then checking the exit
code and the one line, that nothing half-written is on disk, and that finishing the run (`--resume`
when a checkpoint was kept) gives weights.npz bytes identical to an uninterrupted run.

Each case runs `nncli train` in a forked child (the interpreter and imports are shared, so the
loop costs about a tenth of a second per case); the child sets what NNCLI_FAULT would set (see
nncli/run/faults.py), and one test goes through the environment variable in a real subprocess.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
import yaml

import nncli
from nncli.run import checkpoint, faults, files

TINY = {
    "name": "tiny",
    "seed": 5,
    "data": {"generator": {"name": "moons", "n_samples": 64}, "validation_split": 0.25},
    "model": {"layers": [{"units": 6, "activation": "tanh", "dropout": 0.1},
                         {"units": 2, "activation": "softmax"}]},
    "training": {"epochs": 3, "batch_size": 16, "loss": "cross_entropy", "checkpoint_every": 1,
                 "optimizer": {"name": "adam", "learning_rate": 0.05}},
}


def run_forked(args, cwd: Path, fault: str | None = None, trace: Path | None = None) -> tuple[int, str]:
    """`nncli ARGS` in a forked child with the fault hook set; (exit code or -signal, stderr)."""
    err = cwd / f"stderr-{os.getpid()}-{len(list(cwd.glob('stderr-*')))}"
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            import sys

            # pytest captures by replacing the sys streams; the child writes to the file itself
            sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)
            sys.stderr = sys.__stderr__ = open(2, "w", closefd=False)
            os.chdir(cwd)
            os.environ.pop("NNCLI_DEBUG", None)
            faults._SPEC, faults._TRACE, faults._count = fault, str(trace) if trace else None, 0
            from nncli.cli.app import app

            try:
                app(args=[str(a) for a in args], prog_name="nncli")
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            try:
                import sys

                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, err.read_text()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(config path, reference weights bytes, the fault points of one uninterrupted run)."""
    d = tmp_path_factory.mktemp("faults")
    cfg = d / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(TINY, sort_keys=False))
    nncli.train(cfg, out=d / "reference")
    trace = d / "trace"
    code, err = run_forked(["train", cfg, "--out", d / "traced", "--quiet"], d, trace=trace)
    assert code == 0, err
    assert (d / "traced/weights.npz").read_bytes() == (d / "reference/weights.npz").read_bytes()
    points = trace.read_text().split()
    return cfg, (d / "reference/weights.npz").read_bytes(), points


def test_the_loop_covers_every_step(tiny):
    _, _, points = tiny
    steps = ("open", "write", "fsync", "rename", "fsync_dir", "saved")
    # epochs 1 and 2 end with a checkpoint; the last epoch does not (nothing is left to resume)
    assert points == (["start.prepared", "start.ready"]
                      + (["epoch.end"] + [f"checkpoint.{s}" for s in steps]) * 2
                      + ["epoch.end", "finish.evaluate", "finish.publish", "finish.published"])


def leftovers(root: Path) -> list[str]:
    """Temporary or lock files anywhere under ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if ".tmp-" in p.name or p.name.endswith(".lock") or ".old-" in p.name)


def assert_complete(out: Path, want: bytes) -> None:
    assert sorted(p.name for p in out.iterdir() if p.name in files.RUN_FILES) == sorted(files.RUN_FILES)
    assert (out / "weights.npz").read_bytes() == want
    assert not files.staging_dir(out).exists()


EXPECTED_CODE = {"exit": 99, "raise": 2, "sigint": 130, "sigterm": 143}


def _cases():
    # every point of the traced run, counted from 1; the OSError only where a write happens
    names = (["start.prepared", "start.ready"]
             + (["epoch.end"] + [f"checkpoint.{s}" for s in ("open", "write", "fsync", "rename", "fsync_dir", "saved")]) * 2
             + ["epoch.end", "finish.evaluate", "finish.publish", "finish.published"])
    for k, name in enumerate(names, 1):
        for action in ("exit", "sigint", "sigterm", "raise"):
            if action == "raise" and (not name.startswith("checkpoint.") or name.endswith("saved")):
                continue  # an OSError where a system call is made
            if action == "sigint" and name.startswith("checkpoint."):
                continue  # inside a checkpoint SIGINT and SIGTERM take the same path; SIGTERM covers it
            yield pytest.param(k, name, action, id=f"{k}-{name}-{action}")


@pytest.mark.parametrize("k, name, action", list(_cases()))
def test_fault_at_every_step_then_finish_bit_exact(tmp_path, tiny, k, name, action):
    cfg, want, points = tiny
    assert points[k - 1] == name
    out = tmp_path / "runs/tiny"
    code, err = run_forked(["train", cfg, "--out", out, "--quiet"], tmp_path, fault=f"{k}:{action}")
    assert code == EXPECTED_CODE[action], err
    lines = err.strip().splitlines()
    if action == "exit":
        assert lines == []  # a power cut says nothing
    else:
        assert len(lines) == 1 and "Traceback" not in err, err
    staging = files.staging_dir(out)
    if action in ("sigint", "sigterm"):
        who = "Ctrl-C" if action == "sigint" else "SIGTERM"
        assert lines[0].startswith(f"interrupted by {who}"), lines[0]
    if action == "raise":
        assert lines[0].startswith(f"{staging / files.CHECKPOINT_ARRAYS}: cannot save the checkpoint (")
    # never half-written: the run directory is absent or complete
    if out.exists():
        assert_complete(out, want)
        # training was over (the last epoch's end, or later): the run was completed and published
        assert (name.startswith("finish.") or k == len(points) - 3) and action != "raise"
        if action != "exit":
            assert lines[0].endswith(f"after training had finished; the complete run was published to {out}")
        assert leftovers(tmp_path) == []
        return
    if action != "exit":  # a process that ended normally removed its temporaries and its lock
        assert leftovers(tmp_path) == [], leftovers(tmp_path)
    if checkpoint.exists(staging):
        assert "--resume" in err or action in ("exit", "raise"), err
        code, err = run_forked(["train", cfg, "--out", out, "--resume", "--quiet"], tmp_path)
    else:
        # a process killed before its first checkpoint leaves at most the staging folder's marker
        # (.nncli-run: nncli's own, so the next training removes it) and write temporaries
        assert not staging.exists() or not any(p for p in staging.iterdir()
                                               if ".tmp-" not in p.name and p.name != files.MARKER)
        code, err = run_forked(["train", cfg, "--out", out, "--quiet"], tmp_path)
    assert code == 0, err
    assert_complete(out, want)
    assert leftovers(tmp_path) == []


def test_a_second_signal_mid_epoch_keeps_the_last_checkpoint(tmp_path, tiny):
    """The first SIGINT asks to stop after the batch; a second one inside the same step stops at
    once: the checkpoint of epoch 1 is kept and resumes bit-exactly."""
    cfg, want, points = tiny
    from nncli.training import Trainer

    out = tmp_path / "runs/tiny"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            fd = os.open(tmp_path / "err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 2)
            import sys

            sys.stderr = sys.__stderr__ = open(2, "w", closefd=False)
            original = Trainer.step

            def step(self, *a, **kw):  # in epoch 2's second batch: two signals within one step
                if self.epoch == 1 and self.step_in_epoch == 1:
                    os.kill(os.getpid(), signal.SIGINT)
                    os.kill(os.getpid(), signal.SIGINT)
                return original(self, *a, **kw)

            Trainer.step = step
            from nncli.cli.app import app

            try:
                app(args=["train", str(cfg), "--out", str(out), "--quiet"], prog_name="nncli")
                code = 0
            except SystemExit as exc:
                code = exc.code
        finally:
            import sys

            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    err = (tmp_path / "err").read_text()
    assert os.waitstatus_to_exitcode(status) == 130, err
    staging = files.staging_dir(out)
    assert err.strip().splitlines() == [
        f"interrupted by a second Ctrl-C during epoch 2: stopped at once; the last checkpoint (epoch 1) is "
        f"kept in {staging}; continue with: nncli train {cfg} --resume --out {out}"]
    assert checkpoint.load(staging)[1]["epoch"] == 1
    code, err = run_forked(["train", cfg, "--out", out, "--resume", "--quiet"], tmp_path)
    assert code == 0, err
    assert_complete(out, want)


def test_the_environment_variable_reaches_a_real_process(tmp_path, tiny, cli_subprocess):
    cfg, want, points = tiny
    out = tmp_path / "runs/tiny"
    k = points.index("checkpoint.rename") + 1  # the first checkpoint, just before its rename
    r = cli_subprocess("train", cfg, "--out", out, "--quiet", env={"NNCLI_FAULT": f"{k}:exit"}, cwd=tmp_path)
    assert r.returncode == 99 and r.stderr == ""
    staging = files.staging_dir(out)
    assert not checkpoint.exists(staging)  # the temporary was never renamed into place
    left = sorted(p.name for p in staging.iterdir() if p.name != files.MARKER)  # the marker is nncli's own
    assert left == [f".{files.CHECKPOINT_ARRAYS}.tmp-{name.rsplit('-', 1)[1]}" for name in left]
    r = cli_subprocess("train", cfg, "--out", out, "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert_complete(out, want)
    assert leftovers(tmp_path) == []


def test_the_hook_is_inert_when_unset():
    assert faults._SPEC is None and faults._TRACE is None
    faults.point("anything")  # returns at once
    assert faults._count == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_interpreter_imports_nncli(sig, tmp_path):
    """`python -m nncli` installs its start-up handlers before importing Typer and the commands:
    a signal there is one line and 128 + signal, not a traceback nor a silent death."""
    import subprocess
    import sys

    code = ("from nncli.cli import starting; starting.install(); import os, signal, time; "
            f"os.kill(os.getpid(), {int(sig)}); time.sleep(30)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    name = "Ctrl-C" if sig == signal.SIGINT else "SIGTERM"
    assert r.returncode == 128 + sig
    assert r.stderr.splitlines() == [f"interrupted by {name} while nncli was starting; nothing was written"]
    assert list(tmp_path.iterdir()) == []
