"""Data in and out: readers and generators through prepare(), splits, missing values, categories,
preprocessing through a run directory, predict streaming and formats, evaluate, data convert."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

import nncli
from nncli.run import files as rundir
from nncli.config import config_from_dict
from nncli.data.prepare import prepare, split_indices
from nncli.data.csvread import read_csv, read_csv_chunks
from nncli.errors import DataError
from nncli.seeding import Stream, rng as seeded_rng


def cfg_dict(data: dict, *, loss="cross_entropy", out=None, units=None, epochs=3, batch=16, **training):
    last = {"cross_entropy": {"units": units or 3, "activation": "softmax"},
            "binary_crossentropy": {"units": 1, "activation": "sigmoid"},
            "mse": {"units": units or 1, "activation": "linear"}}[loss]
    layers = [{"units": 8, "activation": "tanh"}, last] if units != 0 else [last]
    return {"name": "t", "seed": 0, "data": data, "model": {"layers": layers},
            "training": {"epochs": epochs, "batch_size": batch, "loss": loss,
                         "optimizer": {"name": "adam", "learning_rate": 0.01}, **training}}


def cfg(tmp_path, data, **kw):
    return config_from_dict(cfg_dict(data, **kw), base_dir=tmp_path)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


# ---------------------------------------------------------------- readers through prepare()
def test_csv_string_target_becomes_class_labels(tmp_path, root):
    p = prepare(cfg(tmp_path, {"path": str(root / "datasets/iris.csv"), "target": "species"}))
    assert p.preprocessor.classes == ["setosa", "versicolor", "virginica"]
    assert p.train.y.dtype.kind == "i" and set(p.train.y.tolist()) == {0, 1, 2}
    assert p.train.X.shape == (150, 4) and p.train.X.dtype == np.float32


def test_npz_reader_matches_csv(tmp_path, root):
    t = read_csv(root / "datasets/iris.csv")
    X = np.stack([t.columns[c] for c in ("sepal_length", "sepal_width", "petal_length", "petal_width")], axis=1)
    np.savez(tmp_path / "iris.npz", X=X, y=t.columns["species"])
    a = prepare(cfg(tmp_path, {"path": "iris.npz", "validation_split": 0.2}))
    b = prepare(cfg(tmp_path, {"path": str(root / "datasets/iris.csv"), "target": "species", "validation_split": 0.2}))
    np.testing.assert_array_equal(a.train.X, b.train.X)
    np.testing.assert_array_equal(a.validation.y, b.validation.y)
    assert a.preprocessor.classes == b.preprocessor.classes


def test_npy_with_y_path_is_memory_mapped_and_matches_in_memory(tmp_path, root):
    rng = np.random.default_rng(0)
    X = rng.normal(2.0, 3.0, (400, 3))
    y = (X[:, 0] > 2).astype(np.int64)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    lazy = prepare(cfg(tmp_path, {"path": "X.npy", "y_path": "y.npy", "validation_split": 0.25}, units=2))
    mem = prepare(cfg(tmp_path, {"path": "d.npz", "validation_split": 0.25}, units=2))
    assert not isinstance(lazy.train.X, np.ndarray) and len(lazy.train.X) == 300
    np.testing.assert_allclose(lazy.preprocessor.offset, mem.preprocessor.offset, rtol=1e-12)
    np.testing.assert_allclose(lazy.preprocessor.scale, mem.preprocessor.scale, rtol=1e-12)
    np.testing.assert_array_equal(lazy.train.y, mem.train.y)
    np.testing.assert_allclose(lazy.train.X.rows(np.arange(300)), mem.train.X, rtol=1e-6)
    np.testing.assert_allclose(lazy.validation.X, mem.validation.X, rtol=1e-6)  # gathered into memory


def test_npy_validation_file_never_takes_the_training_targets(tmp_path):
    # data.y_path holds the targets of data.path: a validation .npy of the same length used to be
    # paired with them silently.
    X = np.random.default_rng(0).normal(size=(60, 3))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", (X[:, 0] > 0).astype(np.int64))
    np.save(tmp_path / "Xv.npy", X)
    with pytest.raises(DataError, match=r"Xv\.npy: an \.npy file holds only features, and data\.y_path belongs to data\.path"):
        prepare(cfg(tmp_path, {"path": "X.npy", "y_path": "y.npy", "validation": "Xv.npy"}, units=2))


@pytest.mark.parametrize("arrays, message", [
    ({"features": np.array("a")}, r"'features' must be a 1-D array of column names"),
    ({"features": np.array(["a", "b", "c", "d"])}, r"'features' names 4 columns but X has 3"),
    ({"y": np.array(3)}, r"y must hold one target per row of X"),
])
def test_npz_data_file_with_odd_arrays_is_one_error(tmp_path, arrays, message):
    X = np.random.default_rng(0).normal(size=(40, 3))
    np.savez(tmp_path / "d.npz", **{"X": X, "y": (X[:, 0] > 0).astype(np.int64), **arrays})
    with pytest.raises(DataError, match=message):
        prepare(cfg(tmp_path, {"path": "d.npz"}, units=2))


def test_npz_data_file_that_is_no_zip_is_one_error(tmp_path):
    (tmp_path / "d.npz").write_bytes(b"PK\x03\x04garbage" * 5)
    with pytest.raises(DataError, match=r"d\.npz: not a readable NumPy file"):
        prepare(cfg(tmp_path, {"path": "d.npz"}, units=2))


@pytest.mark.parametrize("name", ["xor", "line", "sine", "spirals", "moons", "circles", "blobs"])
def test_every_generator_through_prepare(tmp_path, name):
    from nncli.data import generators

    task = generators.get(name).task
    loss = "cross_entropy" if task == "classification" else "mse"
    k = {"xor": 2, "spirals": 3, "moons": 2, "circles": 2, "blobs": 3}.get(name, 1)
    d = cfg(tmp_path, {"generator": {"name": name, "n_samples": 120}, "test_split": 0.25}, loss=loss, units=k)
    p = prepare(d)
    assert len(p.train.X) + len(p.test.X) == 120
    assert p.preprocessor.task == task
    if task == "classification":
        assert len(p.preprocessor.classes) == k
    again = prepare(d)
    np.testing.assert_array_equal(p.train.X, again.train.X)  # seeded


# ---------------------------------------------------------------- splits
def test_split_sizes_stratification_and_seed_stability():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    rest, val, test = split_indices(100, [0.2, 0.1], np.random.default_rng(1), labels)
    assert (len(rest), len(val), len(test)) == (70, 20, 10)
    assert np.bincount(labels[val]).tolist() == [10, 6, 4]
    assert np.bincount(labels[test]).tolist() == [5, 3, 2]
    assert sorted(np.concatenate([rest, val, test]).tolist()) == list(range(100))
    again = split_indices(100, [0.2, 0.1], np.random.default_rng(1), labels)
    other = split_indices(100, [0.2, 0.1], np.random.default_rng(2), labels)
    assert all(np.array_equal(a, b) for a, b in zip((rest, val, test), again))
    assert not np.array_equal(val, other[1])


def test_prepare_splits_are_stratified_and_seeded(tmp_path, root):
    d = {"path": str(root / "datasets/iris.csv"), "target": "species", "validation_split": 0.2, "test_split": 0.2}
    p = prepare(cfg(tmp_path, d))
    assert (len(p.train.y), len(p.validation.y), len(p.test.y)) == (90, 30, 30)
    assert np.bincount(p.validation.y).tolist() == [10, 10, 10]
    assert np.bincount(p.test.y).tolist() == [10, 10, 10]
    q = prepare(cfg(tmp_path, d))
    np.testing.assert_array_equal(p.test.X, q.test.X)


def test_separate_validation_and_test_files_and_test_metrics(tmp_path, root):
    rows = list(csv.reader(open(root / "datasets/iris.csv")))
    header, body = rows[0], rows[1:]
    write_csv(tmp_path / "train.csv", header, body[0::3] + body[1::3])
    write_csv(tmp_path / "val.csv", header, body[2::6])
    write_csv(tmp_path / "test.csv", header, body[5::6])
    d = {"path": "train.csv", "target": "species", "validation": "val.csv", "test": "test.csv",
         "validation_split": 0.5}
    p = prepare(cfg(tmp_path, d))
    assert (len(p.train.y), len(p.validation.y), len(p.test.y)) == (100, 25, 25)  # files win over fractions
    run = nncli.train(cfg(tmp_path, d, epochs=2), out=tmp_path / "run")
    metrics = json.loads((tmp_path / "run/metrics.json").read_text())
    assert set(metrics["test"]) == {"loss", "accuracy"} and set(metrics["validation"]) == {"loss", "accuracy"}
    assert run.metrics["test"]["accuracy"] == metrics["test"]["accuracy"]


# ---------------------------------------------------------------- missing values
def _holey(tmp_path):
    return write_csv(tmp_path / "holey.csv", ["a", "b", "y"],
                     [[1, 2, 0], [2, "", 1], [3, 4, 0], ["NA", 6, 1], [5, 6, 1], [0, 1, 0]])


def test_missing_error_names_file_line_and_column(tmp_path):
    _holey(tmp_path)
    with pytest.raises(DataError) as e:
        prepare(cfg(tmp_path, {"path": "holey.csv", "target": "y"}, loss="binary_crossentropy"))
    msg = e.value.message
    assert "holey.csv:5:" in msg and "'a'" in msg and "data.missing" in msg and "\n" not in msg


def test_missing_drop_and_mean(tmp_path):
    _holey(tmp_path)
    drop = prepare(cfg(tmp_path, {"path": "holey.csv", "target": "y", "missing": "drop", "scaling": "none"},
                       loss="binary_crossentropy"))
    assert len(drop.train.y) == 4
    mean = prepare(cfg(tmp_path, {"path": "holey.csv", "target": "y", "missing": "mean", "scaling": "none"},
                       loss="binary_crossentropy"))
    assert len(mean.train.y) == 6
    assert mean.preprocessor.fill == {"a": (1 + 2 + 3 + 5 + 0) / 5, "b": (2 + 4 + 6 + 6 + 1) / 5}
    assert mean.train.X[3, 0] == pytest.approx(11 / 5) and mean.train.X[1, 1] == pytest.approx(19 / 5)


# ---------------------------------------------------------------- categories, round trip, predict
def _colors(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(80):
        color = ["red", "green", "blue"][i % 3]
        x = rng.normal()
        rows.append([f"{x:.4f}", color, int((x > 0) != (color == "blue"))])
    return write_csv(tmp_path / "colors.csv", ["x", "color", "label"], rows)


def test_onehot_categories_saved_and_unseen_category_is_one_line(tmp_path, cli):
    _colors(tmp_path)
    c = cfg_dict({"path": "colors.csv", "target": "label", "encode": "onehot"}, loss="binary_crossentropy", epochs=2)
    (tmp_path / "c.yaml").write_text(json.dumps(c))
    r = cli("train", tmp_path / "c.yaml", "--out", tmp_path / "run", "--quiet")
    assert r.returncode == 0, r.stderr
    pre = json.loads((tmp_path / "run/preprocessing.json").read_text())
    assert pre["categories"] == {"color": ["blue", "green", "red"]}
    assert pre["offset"][1:] == [0.0, 0.0, 0.0] and pre["scale"][1:] == [1.0, 1.0, 1.0]  # one-hot never scaled
    write_csv(tmp_path / "new.csv", ["color", "x"], [["red", 1], ["purple", 2]])
    r = cli("predict", tmp_path / "run", tmp_path / "new.csv")
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "new.csv:3:" in lines[0] and "'color'" in lines[0] and "purple" in lines[0]


def test_preprocessing_round_trip_through_run_directory(tmp_path, root):
    c = cfg(tmp_path, {"path": str(root / "datasets/iris.csv"), "target": "species"}, epochs=5)
    nncli.train(c, out=tmp_path / "run")
    run = nncli.load_run(tmp_path / "run")
    table = read_csv(root / "datasets/iris.csv")
    pre = json.loads((tmp_path / "run/preprocessing.json").read_text())
    raw = np.stack([table.columns[f] for f in pre["features"]], axis=1)
    manual = ((raw - np.array(pre["offset"])) / np.array(pre["scale"])).astype(np.float32)
    weights = np.load(tmp_path / "run/weights.npz", allow_pickle=False)
    h = np.tanh(manual @ weights["layers.0.weight"] + weights["layers.0.bias"])
    z = h @ weights["layers.1.weight"] + weights["layers.1.bias"]
    expected = [pre["classes"][i] for i in z.argmax(axis=1)]
    assert list(run.predict(table)) == expected
    np.testing.assert_allclose(run.output(raw), np.exp(z) / np.exp(z).sum(1, keepdims=True), rtol=1e-4, atol=1e-6)


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory, root=None):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    d = tmp_path_factory.mktemp("iris")
    c = config_from_dict(cfg_dict({"path": str(root / "datasets/iris.csv"), "target": "species"}, epochs=20), base_dir=d)
    nncli.train(c, out=d / "run")
    return d / "run"


def test_predict_any_column_order_extra_columns_and_missing_column(tmp_path, root, cli, iris_run):
    rows = list(csv.reader(open(root / "datasets/iris.csv")))[1:6]
    write_csv(tmp_path / "a.csv", ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"], rows)
    write_csv(tmp_path / "b.csv", ["id", "petal_width", "petal_length", "sepal_width", "sepal_length"],
              [[i, r[3], r[2], r[1], r[0]] for i, r in enumerate(rows)])
    a, b = cli("predict", iris_run, tmp_path / "a.csv"), cli("predict", iris_run, tmp_path / "b.csv")
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout
    write_csv(tmp_path / "c.csv", ["sepal_length", "sepal_width", "petal_length"], [r[:3] for r in rows])
    c = cli("predict", iris_run, tmp_path / "c.csv")
    assert c.returncode == 2 and c.stdout == ""
    assert c.stderr.count("\n") == 1 and "c.csv:1:" in c.stderr and "'petal_width'" in c.stderr


def test_predict_formats(tmp_path, root, cli, iris_run):
    data = root / "datasets/iris.csv"
    csv_out = cli("predict", iris_run, data, "--proba").stdout
    js = json.loads(cli("predict", iris_run, data, "--proba", "--format", "json").stdout)
    jl = [json.loads(line) for line in cli("predict", iris_run, data, "--proba", "-f", "jsonl").stdout.splitlines()]
    rows = list(csv.DictReader(io.StringIO(csv_out)))
    assert len(rows) == len(js) == len(jl) == 150 and js == jl
    assert [r["species"] for r in rows] == [o["species"] for o in js]
    assert js[0]["proba_setosa"] == pytest.approx(float(rows[0]["proba_setosa"]), rel=1e-5)
    bad = cli("predict", iris_run, data, "--format", "xml")
    assert bad.returncode == 2 and "'csv', 'json', 'jsonl'" in bad.stderr and bad.stderr.count("\n") == 1


def test_predict_streams_in_chunks_with_identical_output(tmp_path, root, iris_run, capsys):
    from nncli.predicting import predict_csv

    run = nncli.load_run(iris_run)
    for fmt in ("csv", "json", "jsonl"):
        predict_csv(run, str(root / "datasets/iris.csv"), None, proba=True, fmt=fmt)
        whole = capsys.readouterr().out
        predict_csv(run, str(root / "datasets/iris.csv"), None, proba=True, fmt=fmt, chunk_rows=7)
        assert capsys.readouterr().out == whole


def test_predict_error_in_later_chunk_leaves_no_out_file(tmp_path, root, iris_run):
    from nncli.predicting import predict_csv

    rows = list(csv.reader(open(root / "datasets/iris.csv")))
    rows[120][2] = "oops"  # line 121 of the file, in the fifth chunk of 25
    write_csv(tmp_path / "bad.csv", rows[0], rows[1:])
    run = nncli.load_run(iris_run)
    with pytest.raises(DataError) as e:
        predict_csv(run, str(tmp_path / "bad.csv"), tmp_path / "out.csv", chunk_rows=25)
    assert "bad.csv:121:" in e.value.message and "'petal_length'" in e.value.message
    assert list(tmp_path.iterdir()) == [tmp_path / "bad.csv"]  # no out.csv, no temporary left


def test_read_csv_chunks_equals_read_csv(root):
    whole = read_csv(root / "datasets/iris.csv")
    chunks = list(read_csv_chunks(root / "datasets/iris.csv", chunk_rows=40))
    assert [c.n_rows for c in chunks] == [40, 40, 40, 30]
    np.testing.assert_array_equal(np.concatenate([c.lines for c in chunks]), whole.lines)
    for name, col in whole.columns.items():
        np.testing.assert_array_equal(np.concatenate([c.columns[name] for c in chunks]), col)
    # a column kept as text even where a chunk's cells all look like numbers
    t = next(read_csv_chunks(io.StringIO("a,b\n1,x\n2,y\n"), "<s>", text_columns={"a"}))
    assert t.columns["a"].dtype.kind == "U"


# ---------------------------------------------------------------- evaluate
def test_classification_report_by_hand():
    from nncli.inspect.evaluation import classification_report

    rep = classification_report(np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 2, 0]), ["a", "b", "c"])
    assert rep["accuracy"] == pytest.approx(4 / 6)
    assert rep["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    per = {r["class"]: r for r in rep["per_class"]}
    assert (per["a"]["precision"], per["a"]["recall"], per["a"]["f1"]) == pytest.approx((1 / 2, 1 / 2, 1 / 2))
    assert (per["b"]["precision"], per["b"]["recall"], per["b"]["f1"]) == pytest.approx((2 / 3, 1, 0.8))
    assert (per["c"]["precision"], per["c"]["recall"], per["c"]["f1"]) == pytest.approx((1, 1 / 2, 2 / 3))
    assert [r["support"] for r in rep["per_class"]] == [2, 2, 2]
    assert rep["macro_f1"] == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def _set_weights(run_dir, w, b):
    rundir.write_bytes_atomic(run_dir / "weights.npz", rundir.npz_bytes(
        {"layers.0.weight": np.array([[w]], np.float32), "layers.0.bias": np.array([b], np.float32)}))


def test_evaluate_regression_by_hand(tmp_path, cli):
    write_csv(tmp_path / "d.csv", ["x", "y"], [[0, 1], [1, 4], [2, 4]])
    c = cfg_dict({"path": "d.csv", "target": "y", "scaling": "none"}, loss="mse", units=0, epochs=1, batch=3)
    (tmp_path / "c.yaml").write_text(json.dumps(c))
    assert cli("train", tmp_path / "c.yaml", "--out", tmp_path / "run", "--quiet").returncode == 0
    _set_weights(tmp_path / "run", 2.0, 1.0)  # predictions 1, 3, 5; errors 0, -1, 1
    r = cli("evaluate", tmp_path / "run", tmp_path / "d.csv", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["task"] == "regression" and rep["n_samples"] == 3
    assert rep["mse"] == pytest.approx(2 / 3) and rep["loss"] == pytest.approx(2 / 3)
    assert rep["mae"] == pytest.approx(2 / 3)
    assert rep["r2"] == pytest.approx(1 - 2 / 6)  # SS_res 2, SS_tot (1-3)²+(4-3)²+(4-3)² = 6


def test_evaluate_classification_by_hand_json_and_text(tmp_path, cli):
    xs, ys = [-1.0, 0.5, 2.0, -0.2], [0, 1, 1, 1]
    write_csv(tmp_path / "d.csv", ["x", "y"], list(zip(xs, ys)))
    c = cfg_dict({"path": "d.csv", "target": "y", "scaling": "none"}, loss="binary_crossentropy", units=0, epochs=1, batch=4)
    (tmp_path / "c.yaml").write_text(json.dumps(c))
    assert cli("train", tmp_path / "c.yaml", "--out", tmp_path / "run", "--quiet").returncode == 0
    _set_weights(tmp_path / "run", 1.0, 0.0)  # p = sigmoid(x): predicted 0, 1, 1, 0
    r = cli("evaluate", tmp_path / "run", tmp_path / "d.csv", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    sig = lambda v: 1 / (1 + math.exp(-v))
    loss = -(math.log(1 - sig(-1)) + math.log(sig(0.5)) + math.log(sig(2)) + math.log(sig(-0.2))) / 4
    assert rep["loss"] == pytest.approx(loss, rel=1e-5)
    assert rep["accuracy"] == 0.75 and rep["confusion_matrix"] == [[1, 0], [1, 2]]
    assert rep["classes"] == [0, 1]
    one = rep["per_class"][1]
    assert (one["precision"], one["recall"], one["f1"], one["support"]) == pytest.approx((1, 2 / 3, 0.8, 3))
    zero = rep["per_class"][0]
    assert (zero["precision"], zero["recall"], zero["f1"], zero["support"]) == pytest.approx((0.5, 1, 2 / 3, 1))
    text = cli("evaluate", tmp_path / "run", tmp_path / "d.csv")
    assert text.returncode == 0 and "Confusion matrix" in text.stdout and "0.7500" in text.stdout
    missing = cli("evaluate", tmp_path / "run", tmp_path / "nope.csv")
    assert missing.returncode == 2 and "nope.csv" in missing.stderr and missing.stderr.count("\n") == 1


def test_evaluate_matches_metrics_json_test_split(tmp_path, root, cli):
    d = {"path": str(root / "datasets/iris.csv"), "target": "species", "test_split": 0.2}
    run = nncli.train(cfg(tmp_path, d, epochs=5), out=tmp_path / "run")
    p = prepare(cfg(tmp_path, d))
    t = read_csv(root / "datasets/iris.csv")
    test_rows = split_indices(150, [0.0, 0.2], seeded_rng(0, Stream.SPLIT), p.preprocessor.label_indices(t.columns["species"]))[2]
    write_csv(tmp_path / "test.csv", list(t.columns), [[t.columns[c][i] for c in t.columns] for i in test_rows])
    rep = json.loads(cli("evaluate", tmp_path / "run", tmp_path / "test.csv", "--json").stdout)
    assert rep["n_samples"] == 30
    assert rep["accuracy"] == pytest.approx(run.metrics["test"]["accuracy"])
    assert rep["loss"] == pytest.approx(run.metrics["test"]["loss"], rel=1e-5)


# ---------------------------------------------------------------- data larger than memory
def test_lazy_training_never_copies_the_full_array(tmp_path, monkeypatch, cli):
    from nncli import training
    from nncli.data.memmap import LazyRows

    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 4)).astype(np.float32)
    y = np.where(X[:, 0] - X[:, 1] > 0, "yes", "no")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    seen = []
    real_take = np.take

    def spy(a, *args, **kw):
        if np.ndim(a) == 2:
            seen.append(np.shape(a))
        return real_take(a, *args, **kw)

    monkeypatch.setattr(training.np, "take", spy)
    xs = []
    real_rows = LazyRows.rows
    monkeypatch.setattr(LazyRows, "rows", lambda self, i: (xs.append(len(i)), real_rows(self, i))[1])
    c = cfg(tmp_path, {"path": "X.npy", "y_path": "y.npy", "test_split": 0.2}, units=2, epochs=10, batch=32)
    run = nncli.train(c, out=tmp_path / "run")
    monkeypatch.undo()
    assert seen == []  # no 2-D np.take: batches were gathered with LazyRows.rows
    assert xs[0] == 120  # the test split (20 %), gathered into memory
    assert max(xs[1:151]) == 32 and sum(xs[1:16]) == 480  # 480 training rows, batch by batch
    assert run.preprocessor.classes == ["no", "yes"]
    assert run.metrics["test"]["accuracy"] >= 0.9
    # predict on raw rows (columns x1..x4) agrees with the labels
    write_csv(tmp_path / "new.csv", ["x1", "x2", "x3", "x4"], X[:50].tolist())
    r = cli("predict", tmp_path / "run", tmp_path / "new.csv")
    got = r.stdout.split()[1:]
    assert r.returncode == 0 and np.mean(np.array(got) == y[:50]) >= 0.9


def test_convert_csv_to_npz_and_npy(tmp_path, root, cli):
    src = root / "datasets/iris.csv"
    r = cli("data", "convert", src, tmp_path / "iris.npz", "--target", "species")
    assert r.returncode == 0, r.stderr
    z = np.load(tmp_path / "iris.npz", allow_pickle=False)
    t = read_csv(src)
    assert z["X"].shape == (150, 4) and z["X"].dtype == np.float32
    assert z["features"].tolist() == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert z["y"].tolist() == t.columns["species"].tolist()
    r = cli("data", "convert", src, tmp_path / "iris.npy", "-t", "species")
    assert r.returncode == 0 and "iris.y.npy" in r.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "iris.npy"), z["X"])
    np.testing.assert_array_equal(np.load(tmp_path / "iris.y.npy"), z["y"])
    a = prepare(cfg(tmp_path, {"path": "iris.npz", "target": "species"}))
    assert a.preprocessor.features == z["features"].tolist()
    write_csv(tmp_path / "bad.csv", ["a", "y"], [[1, 0], ["", 1]])
    r = cli("data", "convert", tmp_path / "bad.csv", tmp_path / "bad.npz", "-t", "y")
    assert r.returncode == 2 and "bad.csv:3:" in r.stderr and not (tmp_path / "bad.npz").exists()


# ---------------------------------------------------------------- shipped config
def test_digits_config_reaches_096_test_accuracy(tmp_path, root):
    run = nncli.train(root / "configs/digits.yaml", out=tmp_path / "digits")
    assert run.metrics["test"]["accuracy"] >= 0.96
    assert len(run.history) == run.config.training.epochs
    metrics = json.loads((tmp_path / "digits/metrics.json").read_text())
    assert metrics["test"]["accuracy"] == run.metrics["test"]["accuracy"]
