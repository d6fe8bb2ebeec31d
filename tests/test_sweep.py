"""Sweeps: spec, expansion, trial ids, results, executors (with a stand-in trial), then real sweeps."""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import nncli.sweep as sw
from nncli.cli import sweep_progress
from nncli.config.overrides import Override
from nncli.errors import ConfigError, Interrupted, NncliError, UsageError

sys.path.insert(0, str(Path(__file__).parent))
from _sweep_fake import fake_trial, locking_trial  # noqa: E402

LR = "training.optimizer.learning_rate"
UNITS = "model.layers.0.units"


# ---------------------------------------------------------------------------------------------
# Spec and expansion


def test_grid_expansion_order_and_ids():
    spec = sw.SweepSpec(base="b.yaml", grid={LR: [0.3, 0.1], UNITS: [8, 32]})
    trials = sw.expand(spec)
    assert [t.id for t in trials] == ["lr0.3-units8", "lr0.3-units32", "lr0.1-units8", "lr0.1-units32"]
    assert trials[0].overrides == (Override(LR, 0.3), Override(UNITS, 8))
    assert trials[0].override_texts == [f"{LR}=0.3", f"{UNITS}=8"]
    assert [t.id for t in sw.expand(spec)] == [t.id for t in trials]


def test_ids_depend_on_params_only():
    a = sw.expand(sw.SweepSpec(base="b", grid={LR: [0.3, 0.1], UNITS: [8]}))
    b = sw.expand(sw.SweepSpec(base="b", grid={LR: [0.1, 0.3, 0.03], UNITS: [8]}))
    ids_a = {json.dumps(t.params): t.id for t in a}
    ids_b = {json.dumps(t.params): t.id for t in b}
    for k, v in ids_a.items():
        assert ids_b[k] == v


def test_ids_are_filesystem_safe_and_distinct():
    spec = sw.SweepSpec(
        base="b",
        grid={
            "model.layers.0.units": [8],
            "model.layers.1.units": [4, 2],
            "model.layers.0.activation": ["tanh", "relu"],
            "training.optimizer.name": ["adam", "sgd"],
            "data.path": ["a/b.csv", "a_b.csv"],
            LR: [1e-5, -0.5],
        },
    )
    trials = sw.expand(spec)
    ids = [t.id for t in trials]
    assert len(set(i.lower() for i in ids)) == len(ids) == 32
    for i in ids:
        assert all(c.isalnum() or c in "._+-" for c in i), i
        assert not i.startswith(".") and len(i) <= 80
    first = trials[0].id
    assert first.startswith("l0units8-l1units4-acttanh-optadam-patha_b.csv-lr1e-05-")  # '/' dropped: hashed
    assert "l0units8-l1units2-actrelu-optsgd-patha_b.csv-lr-0.5" in ids


def test_long_ids_are_truncated_with_a_hash():
    spec = sw.SweepSpec(base="b", grid={f"training.something_long_{i}": ["x" * 20] for i in range(6)})
    (t,) = sw.expand(spec)
    assert len(t.id) <= 80 and t.id[-9] == "-"


def test_random_search_is_seeded_and_in_range():
    space = {
        LR: {"loguniform": [1e-4, 1e-1]},
        UNITS: {"int": [4, 64]},
        "model.layers.0.activation": {"choice": ["tanh", "relu"]},
        "training.l2": {"uniform": [0, 0.01]},
    }
    spec = sw.SweepSpec(base="b", trials=20, space=space, seed=7)
    t1, t2 = sw.expand(spec), sw.expand(spec)
    assert [t.params for t in t1] == [t.params for t in t2]
    assert len(t1) == 20
    for t in t1:
        assert 1e-4 <= t.params[LR] <= 1e-1
        assert 4 <= t.params[UNITS] <= 64 and isinstance(t.params[UNITS], int)
        assert t.params["model.layers.0.activation"] in ("tanh", "relu")
        assert 0 <= t.params["training.l2"] <= 0.01
    other = sw.expand(spec.model_copy(update={"seed": 8}))
    assert [t.params for t in other] != [t.params for t in t1]
    # a key's values do not depend on which other keys are searched
    only_lr = sw.expand(sw.SweepSpec(base="b", trials=20, space={LR: space[LR]}, seed=7))
    assert [t.params[LR] for t in only_lr] == [t.params[LR] for t in t1]


def test_grid_times_random_and_dedup():
    spec = sw.SweepSpec(base="b", grid={UNITS: [8, 16]}, trials=10, space={"model.layers.0.activation": {"choice": ["tanh"]}})
    assert len(sw.expand(spec)) == 2


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ({"grid": {LR: [0.1]}, "bogus": 1}, "bogus: unknown key"),
        ({"grid": {}}, "nothing to search"),
        ({"trials": 3}, "needs a space"),
        ({"space": {LR: {"uniform": [0, 1]}}}, "needs trials"),
        ({"trials": 3, "space": {LR: {"uniform": [1, 0]}}}, "lo <= hi"),
        ({"trials": 3, "space": {LR: {"loguniform": [0, 1]}}}, "0 < lo"),
        ({"trials": 3, "space": {LR: {"uniform": [0, 1], "choice": [1]}}}, "exactly one"),
        ({"grid": {LR: []}}, "at least one value"),
        ({"grid": {"a..b": [1]}}, "not a dotted config path"),
        ({"grid": {LR: [1]}, "name": "../x"}, "name"),
        ({"grid": {LR: [1]}, "direction": "up"}, "direction"),
    ],
)
def test_spec_errors(tmp_path, raw, fragment):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({"base": "b.yaml", **raw}))
    with pytest.raises(ConfigError) as e:
        sw.load_sweep_spec(f)
    assert fragment in str(e.value)
    assert str(e.value).startswith(str(f))


def test_parse_grid_option():
    assert sw.parse_grid_option(f"{LR}=0.3,1e-3, 0.03") == (LR, [0.3, 0.001, 0.03])
    assert sw.parse_grid_option("model.layers.0.activation=tanh,relu") == ("model.layers.0.activation", ["tanh", "relu"])
    assert sw.parse_grid_option("x.sizes=[8,8],[16]") == ("x.sizes", [[8, 8], [16]])
    for bad in ["nokey", "=1,2", "a.b=", "a.b=1,,2", "a b=1"]:
        with pytest.raises(UsageError):
            sw.parse_grid_option(bad)


def test_is_sweep_file(tmp_path):
    (tmp_path / "s.yaml").write_text("base: c.yaml\ngrid: {a: [1]}\n")
    (tmp_path / "c.yaml").write_text("name: x\nmodel: {layers: []}\n")
    assert sw.is_sweep_file(tmp_path / "s.yaml")
    assert not sw.is_sweep_file(tmp_path / "c.yaml")


def test_default_direction():
    assert sw.default_direction("val_accuracy") == "maximize"
    assert sw.default_direction("accuracy") == "maximize"
    assert sw.default_direction("val_loss") == "minimize"
    assert sw.default_direction("train_mae") == "minimize"


# ---------------------------------------------------------------------------------------------
# Running, with the stand-in trial


def fake_sweep(tmp_path, lrs=(0.3, 0.1, 5.0), units=(8, 32), **kw):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "base.yaml").write_text("name: fake\n")
    spec = sw.SweepSpec(name="fake", base="base.yaml", grid={LR: list(lrs), UNITS: list(units)}, **kw)
    return sw.prepare_sweep(spec, spec_dir=tmp_path, out=tmp_path / "runs" / "fake", check_base=False)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("workers", [1, 2])
def test_fake_sweep_records_results_and_failures(tmp_path, workers):
    sweep = fake_sweep(tmp_path)
    res = sw.run_sweep(sweep, workers=workers, trial_fn=fake_trial)
    assert res.n_done == 4 and res.n_failed == 2
    rows = read_csv(sweep.dir / "results.csv")
    assert [r["trial"] for r in rows] == [t.id for t in sweep.trials]
    assert list(rows[0]) == ["trial", "status", LR, UNITS, "val_loss", "train_loss", "val_accuracy", "seconds", "error", "path"]
    failed = [r for r in rows if r["status"] == "failed"]
    assert [r["trial"] for r in failed] == ["lr5.0-units8", "lr5.0-units32"]
    assert "diverged" in failed[0]["error"] and "\n" not in failed[0]["error"]
    assert failed[0]["val_loss"] == ""
    best = json.loads((sweep.dir / "best.json").read_text())
    assert best["trial"] == "lr0.1-units32"
    assert best["params"] == {LR: 0.1, UNITS: 32}
    assert best["metric"] == "val_loss" and best["direction"] == "minimize"
    assert best["value"] == pytest.approx(1 / 32)
    assert Path(best["path"]) == sweep.dir / "lr0.1-units32"
    assert (sweep.dir / "lr0.1-units32" / "weights.npz").is_file()
    log = (sweep.dir / "lr0.1-units32" / "log.txt").read_text()
    if workers > 1:  # trials ran in other processes, each limited to one BLAS thread
        assert f"pid {os.getpid()} " not in log and log.strip().endswith("blas 1")
    summary = "\n".join(sweep_progress.summary_lines(res))
    assert "4 done" in summary and "2 failed" in summary and "best: lr0.1-units32" in summary


def test_maximize_metric_picks_highest(tmp_path):
    sweep = fake_sweep(tmp_path, metric="val_accuracy")
    assert sweep.direction == "maximize"
    res = sw.run_sweep(sweep, workers=1, trial_fn=fake_trial)
    assert res.best.trial.id == "lr0.1-units32"


def test_rerun_skips_complete_trials_and_retries_failed(tmp_path):
    sweep = fake_sweep(tmp_path)
    sw.run_sweep(sweep, workers=1, trial_fn=fake_trial)
    first = read_csv(sweep.dir / "results.csv")
    stamp = {t.id: (sweep.dir / t.id / "log.txt").stat().st_mtime_ns for t in sweep.trials}
    # an interrupted attempt left a folder without metrics.json: it is redone from scratch
    os.remove(sweep.dir / "lr0.3-units8" / "metrics.json")
    (sweep.dir / "lr0.3-units8" / "junk").write_text("x")
    res = sw.run_sweep(sweep, workers=1, trial_fn=fake_trial)
    assert [r.status for r in res.results] == ["done", "skipped", "skipped", "skipped", "failed", "failed"]
    assert not (sweep.dir / "lr0.3-units8" / "junk").exists()
    for tid in ("lr0.3-units32", "lr0.1-units8", "lr0.1-units32"):
        assert (sweep.dir / tid / "log.txt").stat().st_mtime_ns == stamp[tid]
    second = read_csv(sweep.dir / "results.csv")
    for a, b in zip(first, second):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    assert second[1]["seconds"] == first[1]["seconds"]  # kept from the earlier run


def test_all_failed_is_an_error(tmp_path):
    sweep = fake_sweep(tmp_path, lrs=(5.0,))
    with pytest.raises(NncliError) as e:
        sw.run_sweep(sweep, workers=1, trial_fn=fake_trial)
    assert e.value.exit_code == 1 and "all 2 trials failed" in str(e.value)
    assert not (sweep.dir / "best.json").exists()


def test_unknown_metric_is_a_usage_error(tmp_path):
    sweep = fake_sweep(tmp_path, metric="f1")
    with pytest.raises(UsageError, match="available: train_loss, val_accuracy, val_loss"):
        sw.run_sweep(sweep, workers=1, trial_fn=fake_trial)


def _interrupting_trial(task):
    if "lr0.1" in task.out:
        raise KeyboardInterrupt
    fake_trial(task)


def test_ctrl_c_stops_and_rerun_picks_up(tmp_path):
    sweep = fake_sweep(tmp_path)
    with pytest.raises(Interrupted) as e:
        sw.run_sweep(sweep, workers=1, trial_fn=_interrupting_trial)
    assert e.value.exit_code == 130 and "2/6 trials complete" in str(e.value)
    assert not (sweep.dir / "results.csv").exists()
    res = sw.run_sweep(sweep, workers=1, trial_fn=fake_trial)
    assert [r.status for r in res.results] == ["skipped", "skipped", "done", "done", "failed", "failed"]


def test_kill_9_of_the_sweep_leaves_no_orphan_workers_and_a_rerun_records_no_lock_failure(tmp_path):
    import signal
    import subprocess
    import time

    from nncli.sweep.worker import process_start_time

    (tmp_path / "base.yaml").write_text("name: fake\n")
    out = tmp_path / "runs" / "fake"
    driver = tmp_path / "driver.py"
    driver.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "import nncli.sweep as sw\n"
        "from _sweep_fake import slow_trial\n"
        "if __name__ == '__main__':\n"
        f"    spec = sw.SweepSpec(name='fake', base='base.yaml', grid={{{LR!r}: [0.1, 0.2]}})\n"
        f"    sweep = sw.prepare_sweep(spec, spec_dir={str(tmp_path)!r}, out={str(out)!r}, check_base=False)\n"
        "    sw.run_sweep(sweep, workers=2, trial_fn=slow_trial)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, str(driver)], env=env)
    pid_files = [out / "lr0.1" / "pid", out / "lr0.2" / "pid"]
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while not all(p.is_file() and p.read_text() for p in pid_files):
            assert proc.poll() is None and time.monotonic() < deadline, "the sweep did not start its trials"
            time.sleep(0.1)
        workers = [int(p.read_text()) for p in pid_files]
        assert all(process_start_time(w) is not None for w in workers)
        os.kill(proc.pid, signal.SIGKILL)  # no chance to stop its workers
        proc.wait()
        # At once, while the orphaned workers may still hold their trials' locks: the rerun waits for
        # them to notice and stop, and records no trial as failed because of a lock.
        spec = sw.SweepSpec(name="fake", base="base.yaml", grid={LR: [0.1, 0.2]})
        sweep = sw.prepare_sweep(spec, spec_dir=tmp_path, out=out, check_base=False)
        res = sw.run_sweep(sweep, workers=1, trial_fn=locking_trial)
        assert [(r.trial.id, r.status, r.error) for r in res.results] == [("lr0.1", "done", ""), ("lr0.2", "done", "")]
        deadline = time.monotonic() + 60
        while any(process_start_time(w) is not None for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [w for w in workers if process_start_time(w) is not None] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for w in workers:  # only if the test failed: do not leave them behind
            if process_start_time(w) is not None:
                os.kill(w, signal.SIGKILL)


def test_write_run_files_is_atomic_and_contained(tmp_path):
    target = tmp_path / "sweep" / "t1"
    sw.write_run_files(target, {"metrics.json": b"{}", "checkpoints/c1.npz": b"x"})
    assert (target / "checkpoints" / "c1.npz").read_bytes() == b"x"
    with pytest.raises(NncliError):
        sw.write_run_files(tmp_path / "sweep" / "t2", {"../evil": b"x"})
    assert not (tmp_path / "sweep" / "t2").exists() and not (tmp_path / "sweep" / "evil").exists()
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == ["t1"]


def test_dask_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    from nncli.errors import MissingExtra

    with pytest.raises(MissingExtra, match=r"pip install 'dask\[distributed\]>=2023.1'") as e:
        sw.require_dask()
    assert e.value.exit_code == 2


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=40
    )
    client = distributed.Client(cluster)
    # the workers import nncli and the stand-in trial by module name
    for p in (str(Path(__file__).parent), str(Path(__file__).parent.parent)):
        client.run(lambda p: sys.path.insert(0, p), p)
    yield client
    client.close()
    cluster.close()


def test_fake_sweep_on_dask_matches_local(tmp_path, dask_client):
    a = fake_sweep(tmp_path / "a")
    b = fake_sweep(tmp_path / "b")
    sw.run_sweep(a, workers=1, trial_fn=fake_trial)
    sw.run_sweep(b, scheduler=dask_client, trial_fn=fake_trial)
    ra, rb = read_csv(a.dir / "results.csv"), read_csv(b.dir / "results.csv")
    for x, y in zip(ra, rb):
        for k in ("trial", "status", "val_loss", "train_loss", "error"):
            assert x[k] == y[k]
    log = (b.dir / "lr0.1-units8" / "log.txt").read_text()
    assert f"pid {os.getpid()} " not in log
    assert not [p for p in b.dir.iterdir() if p.name.startswith(".")]


# ---------------------------------------------------------------------------------------------
# Real sweeps: nncli.train on a tiny network


BASE = """\
name: moons
seed: 3
data:
  generator: {name: moons, n_samples: 120, noise: 0.2}
  validation_split: 0.25
model:
  layers:
    - {units: 4, activation: tanh}
    - {units: 1, activation: sigmoid}
training:
  epochs: 15
  batch_size: 16
  loss: binary_crossentropy
  optimizer: {name: adam, learning_rate: 0.01}
"""

CSV_BASE = """\
name: iris
seed: 1
data:
  path: data/iris.csv
  target: species
  validation_split: 0.2
model:
  layers:
    - {units: 4, activation: tanh}
    - {units: 3, activation: softmax}
training:
  epochs: 10
  batch_size: 16
  loss: cross_entropy
  optimizer: {name: adam, learning_rate: 0.05}
"""


def real_sweep(folder: Path, base_text=BASE, grid=None, **kw):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.yaml").write_text(base_text)
    grid = grid or {LR: [0.1, 0.01], UNITS: [3, 6]}
    spec = sw.SweepSpec(base="base.yaml", grid=grid, **kw)
    return sw.prepare_sweep(spec, spec_dir=folder, out=folder / "runs" / "s")


def npz(path):
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def assert_same_trials(a, b):
    """Trial by trial: same status, same metrics (but time), identical weights and run files."""
    assert [t.id for t in a.trials] == [t.id for t in b.trials]
    ra, rb = read_csv(a.dir / "results.csv"), read_csv(b.dir / "results.csv")
    for x, y in zip(ra, rb):
        assert {k: v for k, v in x.items() if k not in ("seconds", "training_seconds", "path")} == {
            k: v for k, v in y.items() if k not in ("seconds", "training_seconds", "path")
        }
    for t in a.trials:
        da, db = a.dir / t.id, b.dir / t.id
        if not (da / "metrics.json").exists():
            assert not (db / "metrics.json").exists()
            continue
        wa, wb = npz(da / "weights.npz"), npz(db / "weights.npz")
        assert wa.keys() == wb.keys()
        for k in wa:
            np.testing.assert_array_equal(wa[k], wb[k])
        assert (da / "weights.npz").read_bytes() == (db / "weights.npz").read_bytes()
        for f in ("config.yaml", "preprocessing.json"):
            assert (da / f).read_text() == (db / f).read_text(), f
        ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (da, db))
        ma.pop("training_seconds"), mb.pop("training_seconds")
        assert ma == mb
    assert json.loads((a.dir / "best.json").read_text())["trial"] == json.loads((b.dir / "best.json").read_text())["trial"]


@pytest.fixture(scope="module")
def sequential_sweep(tmp_path_factory):
    sweep = real_sweep(tmp_path_factory.mktemp("seq"))
    res = sw.run_sweep(sweep, workers=1)
    return sweep, res


def test_real_sweep_writes_runs_results_and_best(sequential_sweep):
    sweep, res = sequential_sweep
    assert sweep.name == "moons-sweep" and sweep.metric == "val_loss" and sweep.direction == "minimize"
    assert res.n_done == 4
    import nncli

    for t in sweep.trials:  # each trial is an ordinary run directory
        run = nncli.load_run(sweep.dir / t.id)
        assert run.config.training.optimizer.learning_rate == t.params[LR]
        assert run.config.model.layers[0].units == t.params[UNITS]
        assert run.config.seed == 3  # the base config's seed
        assert run.predict(np.zeros((2, 2))).shape == (2,)
    rows = read_csv(sweep.dir / "results.csv")
    assert [r["trial"] for r in rows] == ["lr0.1-units3", "lr0.1-units6", "lr0.01-units3", "lr0.01-units6"]
    assert {"val_loss", "val_accuracy", "train_loss", "train_accuracy", "epochs_run"} <= set(rows[0])
    vals = {r["trial"]: float(r["val_loss"]) for r in rows}
    best = json.loads((sweep.dir / "best.json").read_text())
    assert best["trial"] == min(vals, key=vals.get)
    assert best["value"] == pytest.approx(vals[best["trial"]])
    assert best["params"] == sweep.trials[[t.id for t in sweep.trials].index(best["trial"])].params


def test_real_sweep_same_with_local_workers(tmp_path, sequential_sweep):
    seq, _ = sequential_sweep
    par = real_sweep(tmp_path)
    res = sw.run_sweep(par, workers=2)
    assert res.n_done == 4
    assert_same_trials(seq, par)


def test_real_sweep_same_on_dask(tmp_path, sequential_sweep, dask_client):
    seq, _ = sequential_sweep
    remote = real_sweep(tmp_path)
    res = sw.run_sweep(remote, scheduler=dask_client)
    assert res.n_done == 4
    assert_same_trials(seq, remote)
    assert not [p for p in remote.dir.iterdir() if p.name.startswith(".")]


def test_dask_ships_data_files_and_restores_their_paths(tmp_path, dask_client, root):
    """Data read from a file: the worker gets the bytes, the run records the client's path."""
    a = real_sweep(tmp_path / "a", CSV_BASE, grid={LR: [0.05, 0.5]})
    b = real_sweep(tmp_path / "b", CSV_BASE, grid={LR: [0.05, 0.5]})
    for d in (tmp_path / "a", tmp_path / "b"):
        (d / "data").mkdir()
        (d / "data" / "iris.csv").write_bytes((root / "datasets" / "iris.csv").read_bytes())
    sw.run_sweep(a, workers=1)
    res = sw.run_sweep(b, scheduler=dask_client)
    assert res.n_done == 2, [r.error for r in res.results]
    for t in a.trials:
        assert (a.dir / t.id / "weights.npz").read_bytes() == (b.dir / t.id / "weights.npz").read_bytes()
        assert (a.dir / t.id / "config.yaml").read_text().replace("/a/", "/b/") == (b.dir / t.id / "config.yaml").read_text()
    cfg = yaml.safe_load((b.dir / "lr0.05" / "config.yaml").read_text())
    assert cfg["data"]["path"] == str((tmp_path / "b" / "data" / "iris.csv").resolve())

    # As on a worker that cannot see the client's files: build the payload on the client, hide the
    # data, and run the trial the way a Dask worker does.
    t = b.trials[0]
    task = sw.TrialTask(t.id, str(b.base_path), list(t.overrides), "unused")
    payload = sw.dask_payload(task, {})
    files = payload.pop("files")
    os.rename(tmp_path / "b" / "data", tmp_path / "b" / "hidden")
    outcome = sw.execute_trial_remote(sw.train_trial, sw.TrialTask(t.id, "/nonexistent.yaml", list(t.overrides), "unused", payload), files)
    assert outcome.status == "done", outcome.error
    assert outcome.files["weights.npz"] == (a.dir / t.id / "weights.npz").read_bytes()
    assert yaml.safe_load(outcome.files["config.yaml"])["data"]["path"] == cfg["data"]["path"]


def test_failing_trials_are_recorded_and_the_sweep_goes_on(tmp_path):
    grid = {"model.layers.0.activation": ["tanh", "nosuch"], "training.optimizer.learning_rate": [0.01, 1000]}
    fixed = ["training.loss=mse", "model.layers.1.activation=linear", "training.optimizer.name=sgd"]
    sweep = real_sweep(tmp_path, grid=grid, overrides=fixed)
    res = sw.run_sweep(sweep, workers=2)
    status = {r.trial.id: r.status for r in res.results}
    assert status["acttanh-lr0.01"] == "done"
    assert status["actnosuch-lr0.01"] == status["actnosuch-lr1000"] == "failed"
    rows = {r["trial"]: r for r in read_csv(sweep.dir / "results.csv")}
    err = rows["actnosuch-lr0.01"]["error"]
    assert "model.layers.0.activation" in err and "nosuch" in err and "\n" not in err
    # plain SGD at a learning rate of 1000 diverges: recorded with the core's one-line message
    assert status["acttanh-lr1000"] == "failed"
    assert rows["acttanh-lr1000"]["error"].startswith("training diverged")
    best = json.loads((sweep.dir / "best.json").read_text())
    assert best["trial"] == "acttanh-lr0.01"


def test_bad_base_config_is_reported_before_any_trial(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE.replace("epochs: 15", "epochs: -1"))
    spec = sw.SweepSpec(base="base.yaml", grid={LR: [0.1]})
    with pytest.raises(ConfigError, match="training.epochs"):
        sw.prepare_sweep(spec, spec_dir=tmp_path)


# ---------------------------------------------------------------------------------------------
# The command line


def test_cli_grid_without_sweep_file(tmp_path, cli):
    (tmp_path / "base.yaml").write_text(BASE)
    r = cli("sweep", "base.yaml", "--grid", f"{LR}=0.1,0.01", "--grid", f"{UNITS}=3,6", "--workers", "2", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "runs" / "moons-sweep"
    assert (out / "results.csv").is_file() and (out / "best.json").is_file()
    assert "best: " in r.stdout and "4 trials: 4 done" in r.stdout
    assert r.stdout.count(" done val_loss=") == 4  # plain lines when not on a terminal
    # rerun: everything is complete, nothing runs
    again = cli("sweep", "base.yaml", "--grid", f"{LR}=0.1,0.01", "--grid", f"{UNITS}=3,6", cwd=tmp_path)
    assert again.returncode == 0 and "4 already complete" in again.stdout and " done val_loss=" not in again.stdout
    quiet = cli("sweep", "base.yaml", "--grid", f"{LR}=0.1,0.01", "--grid", f"{UNITS}=3,6", "-q", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == ""


def test_cli_sweep_file(tmp_path, cli):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "moons.yaml").write_text(BASE)
    (tmp_path / "sweeps").mkdir()
    (tmp_path / "sweeps" / "s.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "rand",
                "base": "../configs/moons.yaml",
                "trials": 3,
                "space": {LR: {"loguniform": [0.001, 0.1]}, UNITS: {"int": [2, 8]}},
                "metric": "val_accuracy",
                "workers": 1,
            }
        )
    )
    r = cli("sweep", "sweeps/s.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    best = json.loads((tmp_path / "runs" / "rand" / "best.json").read_text())
    assert best["metric"] == "val_accuracy" and best["direction"] == "maximize"
    assert len(read_csv(tmp_path / "runs" / "rand" / "results.csv")) == 3


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["base.yaml"], "needs at least one --grid"),
        (["base.yaml", "--grid", "nokey"], "--grid nokey"),
        (["missing.yaml", "--grid", "a.b=1"], "missing.yaml: no such file"),
        (["base.yaml", "--grid", f"{LR}=0.1", "--direction", "up"], "'--direction': 'up' is not one of"),
        (["bad.yaml"], "bad.yaml:2:1: grid: unknown key — did you mean 'grid'?"),
        (["adir"], "adir: is a directory"),
        (["broken.yaml"], "broken.yaml:3:1: YAML syntax error"),
    ],
)
def test_cli_usage_errors(tmp_path, cli, args, fragment):
    (tmp_path / "base.yaml").write_text(BASE)
    (tmp_path / "bad.yaml").write_text("base: base.yaml\ngird: {a: [1]}\n")
    (tmp_path / "broken.yaml").write_text("base: base.yaml\ngrid: {a: [1]\n")
    (tmp_path / "adir").mkdir()
    r = cli("sweep", *args, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert fragment.replace("grid: unknown", "gird: unknown") in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) <= 2


def test_cli_scheduler_without_dask(tmp_path, cli_subprocess):
    fake = tmp_path / "nodask"
    (fake / "distributed").mkdir(parents=True)
    (fake / "distributed" / "__init__.py").write_text("raise ImportError('No module named distributed')\n")
    (tmp_path / "base.yaml").write_text(BASE)
    import os as _os

    r = cli_subprocess("sweep", "base.yaml", "--grid", f"{LR}=0.1", "--scheduler", "tcp://127.0.0.1:1", cwd=tmp_path,
            env={"PYTHONPATH": f"{fake}{_os.pathsep}{Path(__file__).parent.parent}"})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["--scheduler needs distributed, which is not installed: pip install 'dask[distributed]>=2023.1'"]


def test_cli_ctrl_c_stops_cleanly_and_rerun_picks_up(tmp_path, root):
    import signal
    import subprocess
    import time

    (tmp_path / "base.yaml").write_text(BASE.replace("epochs: 15", "epochs: 300").replace("n_samples: 120", "n_samples: 400"))
    args = [sys.executable, "-m", "nncli", "sweep", "base.yaml", "--grid", f"{LR}=0.1,0.05,0.02,0.01,0.005,0.002", "--workers", "2"]
    env = dict(os.environ, PYTHONPATH=str(root))
    p = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    out = tmp_path / "runs" / "moons-sweep"
    def complete_trials():  # (pathlib's glob also matches the hidden staging folders: skip them)
        return [m for m in out.glob("*/metrics.json") if not m.parent.name.startswith(".")]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not complete_trials():
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr
    assert "stopped" in stderr and "run the same command again" in stderr and "Traceback" not in stderr
    complete = len(complete_trials())
    assert 1 <= complete < 6
    assert not (out / "results.csv").exists()
    r = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{complete} already complete" in r.stdout
    assert len(read_csv(out / "results.csv")) == 6


def test_second_sweep_into_the_same_folder_is_refused(tmp_path):
    from nncli.run import files as rundir
    from nncli.errors import LockedError

    sweep = fake_sweep(tmp_path)
    with rundir.locked(sweep.dir):
        with pytest.raises(LockedError) as e:
            sw.run_sweep(sweep, workers=1, trial_fn=fake_trial)
    assert e.value.exit_code == 4


def test_live_table_on_a_terminal(tmp_path):
    import io

    from rich.console import Console

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120)
    reporter = sweep_progress.make_reporter(False, console)
    assert isinstance(reporter, sweep_progress.LiveReporter)
    sw.run_sweep(fake_sweep(tmp_path), workers=1, trial_fn=fake_trial, reporter=reporter)
    text = buf.getvalue()
    for fragment in ("lr0.1-units32", "done", "failed", "val_loss", "training diverged"):
        assert fragment in text
    plain = sweep_progress.make_reporter(False, Console(file=io.StringIO(), force_terminal=False))
    assert isinstance(plain, sweep_progress.LineReporter)
    assert type(sweep_progress.make_reporter(True)) is sw.SweepEvents
