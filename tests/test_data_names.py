"""Data paths that keep their names (issue 15): `data convert` keeps the column and target names
with the arrays, a run trained from either converted form uses them, predict and evaluate work on
the source CSV and both forms; predict's --keep and --proba."""

import csv
import io
import json

import numpy as np
import pytest
import yaml

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    import nncli
    from nncli.data.convert import convert

    d = tmp_path_factory.mktemp("names")
    src = ROOT / "datasets/iris.csv"
    convert(str(src), str(d / "iris.npy"), "species")
    convert(str(src), str(d / "iris.npz"), "species")
    body = {"seed": 0, "model": {"layers": [{"units": 8, "activation": "relu"}, {"units": 3, "activation": "softmax"}]},
            "training": {"epochs": 15, "batch_size": 16, "loss": "cross_entropy",
                         "optimizer": {"name": "adam", "learning_rate": 0.01}}}
    runs = {}
    for form, data in (("npy", {"path": "iris.npy", "y_path": "iris.y.npy"}), ("npz", {"path": "iris.npz"})):
        (d / f"{form}.yaml").write_text(yaml.safe_dump({"name": form, "data": data, **body}))
        nncli.train(d / f"{form}.yaml", out=d / f"run-{form}")
        runs[form] = d / f"run-{form}"
    return d, src, runs


def test_convert_keeps_names_without_pickle(converted):
    d, _, _ = converted
    assert json.loads((d / "iris.names.json").read_text()) == {"features": FEATURES, "target": "species"}
    with np.load(d / "iris.npz", allow_pickle=False) as z:
        assert z["features"].tolist() == FEATURES and z["target"].tolist() == ["species"]


@pytest.mark.parametrize("form", ["npy", "npz"])
def test_a_run_from_converted_data_predicts_and_evaluates_on_every_form(converted, cli, form):
    d, src, runs = converted
    pre = json.loads((runs[form] / "preprocessing.json").read_text())
    assert pre["features"] == FEATURES and pre["targets"] == ["species"]
    r = cli("predict", runs[form], src)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "species"  # the predicted column is named after the target
    for data in (src, d / "iris.npz"):
        r = cli("evaluate", runs[form], data)
        assert r.returncode == 0, r.stderr


def test_a_bad_names_file_is_one_line(converted, cli, tmp_path):
    d, _, _ = converted
    for name in ("iris.npy", "iris.y.npy"):
        (tmp_path / name).write_bytes((d / name).read_bytes())
    (tmp_path / "iris.names.json").write_text('{"features": ["a", "b"], "target": "species"}')
    (tmp_path / "c.yaml").write_text((d / "npy.yaml").read_text())
    r = cli("train", tmp_path / "c.yaml", "-o", tmp_path / "run", "-q")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "iris.names.json: names 2 features but" in r.stderr


def test_keep_copies_input_columns_first(converted, cli, tmp_path):
    d, src, runs = converted
    rows = list(csv.reader(open(src)))
    with open(tmp_path / "in.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id"] + rows[0])
        for i, row in enumerate(rows[1:4]):
            w.writerow([f"00{i}"] + row)
    r = cli("predict", runs["npz"], tmp_path / "in.csv", "--keep", "id", "--keep", "sepal_length", "--proba")
    assert r.returncode == 0, r.stderr
    out = list(csv.reader(io.StringIO(r.stdout)))
    assert out[0] == ["id", "sepal_length", "species", "proba_setosa", "proba_versicolor", "proba_virginica"]
    assert [o[:2] for o in out[1:]] == [["000", "5.1"], ["001", "4.9"], ["002", "4.7"]]
    r = cli("predict", runs["npz"], tmp_path / "in.csv", "--keep", "id", "--format", "jsonl")
    assert json.loads(r.stdout.splitlines()[0])["id"] == "000"
    r = cli("predict", runs["npz"], tmp_path / "in.csv", "--keep", "key")
    assert r.returncode == 2 and "--keep column 'key' not in the header" in r.stderr


def test_proba_on_a_regression_run_is_one_line(root, cli, tmp_path):
    r = cli("train", root / "configs/line.yaml", "-o", tmp_path / "run", "--epochs", "2", "-q")
    assert r.returncode == 0, r.stderr
    r = cli("predict", tmp_path / "run", "-", "--proba", input="x\n1\n")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "--proba: this run is a regression" in r.stderr and r.stdout == ""
