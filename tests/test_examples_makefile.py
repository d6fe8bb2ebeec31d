"""examples/Makefile: config + data -> run -> predictions -> report, incremental by make's timestamps."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _make(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(["make", "-f", str(ROOT / "examples/Makefile"), f"NNCLI={tmp_path / 'nncli'}",
                           f"CONFIG={tmp_path / 'iris.yaml'}", f"DATA={tmp_path / 'iris.csv'}",
                           f"OUT={tmp_path / 'out'}", *args],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)


def test_pipeline_builds_then_has_nothing_to_do_and_retrains_when_data_changes(tmp_path):
    wrapper = tmp_path / "nncli"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m nncli "$@"\n')
    wrapper.chmod(0o755)
    shutil.copy(ROOT / "datasets/iris.csv", tmp_path / "iris.csv")
    config = (ROOT / "configs/iris.yaml").read_text().replace("../datasets/iris.csv", "iris.csv")
    (tmp_path / "iris.yaml").write_text(config.replace("epochs: 200", "epochs: 20"))

    first = _make(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert " train " in first.stdout and " predict " in first.stdout and " evaluate " in first.stdout
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["task"] == "classification" and report["n_samples"] == 150
    assert (out / "predictions.csv").read_text().splitlines()[0] == "species"
    weights_mtime = (out / "run/weights.npz").stat().st_mtime_ns

    second = _make(tmp_path)
    assert second.returncode == 0 and "Nothing to be done" in second.stdout, second.stdout
    assert _make(tmp_path, "-q").returncode == 0  # up to date

    time.sleep(0.01)
    future = time.time() + 2
    os.utime(tmp_path / "iris.csv", (future, future))  # touch the data (clearly newer than the run)
    assert _make(tmp_path, "-q").returncode == 1
    third = _make(tmp_path)
    assert third.returncode == 0 and " train " in third.stdout and " evaluate " in third.stdout
    assert (out / "run/weights.npz").stat().st_mtime_ns > weights_mtime
