"""The whole path on the shipped configs: train, the run directory, predict."""

import csv
import io
import json

import numpy as np
import pytest
import yaml

import nncli


def test_xor_is_solved_and_predicted(tmp_path, root, cli):
    r = cli("train", root / "configs/xor.yaml", "--out", tmp_path / "xor", "--quiet")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    p = cli("predict", tmp_path / "xor", root / "datasets/xor.csv", "--proba")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert [row["y"] for row in rows] == ["0", "1", "1", "0"]
    for row in rows:
        assert float(row["proba_0"]) + float(row["proba_1"]) == pytest.approx(1.0, abs=1e-5)


def test_run_directory_contract(tmp_path, root):
    run = nncli.train(root / "configs/iris.yaml", out=tmp_path / "iris")
    d = tmp_path / "iris"
    assert sorted(p.name for p in d.iterdir()) == sorted(
        [".nncli-run", "config.yaml", "weights.npz", "preprocessing.json", "history.csv", "metrics.json"])
    cfg = yaml.safe_load((d / "config.yaml").read_text())
    assert cfg["training"]["optimizer"]["beta1"] == 0.9  # defaults filled in
    with np.load(d / "weights.npz", allow_pickle=False) as w:
        assert w["layers.0.weight"].shape == (4, 16)
        assert w["layers.0.bias"].shape == (16,)
        assert w["layers.1.weight"].shape == (16, 3)
    pre = json.loads((d / "preprocessing.json").read_text())
    assert pre["classes"] == ["setosa", "versicolor", "virginica"]
    assert pre["features"] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    header = (d / "history.csv").read_text().splitlines()[0].split(",")
    assert header == ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"]
    metrics = json.loads((d / "metrics.json").read_text())
    assert metrics["validation"]["accuracy"] >= 0.9
    assert metrics["seed"] == 0 and metrics["versions"]["numpy"] == np.__version__
    assert metrics["epochs_run"] == 200
    assert not list(tmp_path.glob(".*"))  # no staging or lock left behind


def test_line_recovers_slope_and_intercept(tmp_path, root):
    run = nncli.train(root / "configs/line.yaml", out=tmp_path / "line")
    w = run.network.layers[0].W[0, 0]
    b = run.network.layers[0].b[0]
    assert abs(w - 3) <= 0.05 and abs(b - 2) <= 0.05


def test_same_seed_same_weight_bytes(tmp_path, root):
    nncli.train(root / "configs/iris.yaml", out=tmp_path / "a")
    nncli.train(root / "configs/iris.yaml", out=tmp_path / "b")
    assert (tmp_path / "a/weights.npz").read_bytes() == (tmp_path / "b/weights.npz").read_bytes()
    c = nncli.train(root / "configs/iris.yaml", out=tmp_path / "c", overrides=["seed=1"])
    assert (tmp_path / "a/weights.npz").read_bytes() != (tmp_path / "c/weights.npz").read_bytes()


def test_predict_from_python_api_on_raw_features(tmp_path, root):
    nncli.train(root / "configs/iris.yaml", out=tmp_path / "iris")
    run = nncli.load_run(tmp_path / "iris")
    X = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    assert list(run.predict(X)) == ["setosa", "virginica"]
    p = run.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_predict_columns_by_name_in_any_order(tmp_path, root, cli):
    nncli.train(root / "configs/iris.yaml", out=tmp_path / "iris")
    text = "id,petal_width,petal_length,sepal_width,sepal_length\n7,0.2,1.4,3.5,5.1\n8,2.3,5.2,3.0,6.7\n"
    r = cli("predict", tmp_path / "iris", "-", input=text)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["species", "setosa", "virginica"]


def test_regression_predict_names_target_column(tmp_path, root, cli):
    nncli.train(root / "configs/line.yaml", out=tmp_path / "line")
    r = cli("predict", tmp_path / "line", "-", input="x\n0\n1\n")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "y"
    assert float(lines[1]) == pytest.approx(2, abs=0.05) and float(lines[2]) == pytest.approx(5, abs=0.1)


def test_plain_progress_lines_when_not_a_terminal(tmp_path, root, cli):
    r = cli("train", root / "configs/xor.yaml", "--out", tmp_path / "xor", "--epochs", "50")
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout
    lines = r.stdout.splitlines()
    assert lines[0].startswith("epoch 1/50")
    assert any(l.startswith("epoch 50/50") for l in lines)
    assert sum(l.startswith("epoch ") for l in lines) <= 50
    assert "run directory:" in r.stdout


def test_a_sweep_folder_given_as_a_run_names_its_best_trial(tmp_path, cli):
    sweep = tmp_path / "runs/s"
    sweep.mkdir(parents=True)
    (sweep / "sweep.json").write_text("{}")
    (sweep / "best.json").write_text(json.dumps({"path": "runs/s/lr0.1"}))
    r = cli("predict", sweep, "-", input="x1,x2\n0,1\n")
    assert r.returncode == 2
    assert r.stderr.strip() == (f"{sweep}: is a sweep folder, not a run directory; give one of its trial "
                                f"directories, e.g. the best one: runs/s/lr0.1 (see best.json and results.csv)")
