"""nncli export: the ONNX model gives what `nncli predict --proba` gives, for every shipped config and
for configs that exercise one-hot text columns, missing values, both scalings, logit outputs,
float64 and every activation."""

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "configs").glob("*.yaml")) + sorted((ROOT / "configs/tutorial").glob("*.yaml"))
EPOCHS = 5  # the weights need not be good, only the same in both paths


def _invoke(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    return res


def _raw_csv(run, path: Path, rows: int = 200, seed: int = 0) -> Path:
    """A CSV of raw feature columns around the training data (for runs trained on a generator)."""
    pre = run.preprocessor
    rng = np.random.default_rng(seed)
    names = pre.input_names
    cols = {}
    for f in pre.features:
        if f in pre.categories:
            cols[f] = rng.choice(pre.categories[f], rows)
        else:
            i = names.index(f)
            cols[f] = pre.offset[i] + pre.scale[i] * rng.normal(0, 1.2, rows)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(pre.features)
        for r in range(rows):
            w.writerow([repr(float(cols[f][r])) if f not in pre.categories else cols[f][r] for f in pre.features])
    return path


def _feeds(session, model, data: Path) -> dict:
    """onnxruntime inputs from a CSV: the numeric columns named in the metadata as one float
    tensor (NaN for an empty cell), each text column as a [N, 1] string tensor."""
    meta = {p.key: p.value for p in model.metadata_props}
    numeric = json.loads(meta["nncli.numeric_columns"])
    categorical = json.loads(meta["nncli.categorical_columns"])
    with open(data, newline="") as fh:
        rows = list(csv.DictReader(fh))
    feeds = {}
    if numeric:
        feeds["numeric"] = np.array([[float(r[c]) if r[c].strip() not in ("", "NA") else np.nan for c in numeric]
                                     for r in rows], np.float32)
    for c in categorical:
        feeds[c] = np.array([[r[c].strip()] for r in rows], dtype=object)
    assert sorted(feeds) == sorted(i.name for i in session.get_inputs())
    return feeds


def _predict_proba(run_dir: Path, data: Path) -> list[dict]:
    """predict --proba for a classification run; plain predict (the values) for a regression,
    where --proba is refused."""
    regression = json.loads((run_dir / "preprocessing.json").read_text()).get("task") == "regression"
    res = _invoke("predict", run_dir, data, *(() if regression else ("--proba",)))
    assert res.exit_code == 0, res.output
    return list(csv.DictReader(io.StringIO(res.stdout)))


def _check_same(run_dir: Path, data: Path, tmp_path: Path) -> dict:
    """Export, run onnxruntime and nncli predict --proba on the same CSV, compare; returns the
    largest differences seen."""
    out = tmp_path / "model.onnx"
    res = _invoke("export", run_dir, out)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"wrote {out}")
    model = onnx.load(out)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, _feeds(session, model, data))))
    expected = _predict_proba(run_dir, data)
    run = nncli.load_run(run_dir)
    pre = run.preprocessor
    if pre.task == "classification":
        want_p = np.array([[float(r[f"proba_{c}"]) for c in pre.classes] for r in expected])
        assert got["probabilities"].shape == want_p.shape
        diff = float(np.abs(got["probabilities"] - want_p).max())
        assert diff <= 1e-5, diff
        labels = [str(v.decode() if isinstance(v, bytes) else v) for v in got["label"].tolist()]
        assert labels == [r[pre.targets[0]] for r in expected]
    else:
        want = np.array([[float(r[t]) for t in pre.targets] for r in expected])
        assert got["values"].shape == want.shape
        diff = float(np.abs(got["values"] - want).max())
        assert diff <= 1e-5 * max(1.0, float(np.abs(want).max())), diff  # 1e-5, relative past 1
    return {"max_diff": diff}


@pytest.mark.parametrize("config", SHIPPED, ids=lambda p: str(p.relative_to(ROOT / "configs")))
def test_shipped_config_exports_to_the_same_predictions(config, tmp_path):
    run = nncli.train(config, out=tmp_path / "run", overrides=[f"training.epochs={EPOCHS}"])
    spec = yaml.safe_load(config.read_text())
    path = spec.get("data", {}).get("path")
    data = (config.parent / path).resolve() if path else _raw_csv(run, tmp_path / "raw.csv")
    _check_same(tmp_path / "run", data, tmp_path)


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def _mixed_data(tmp_path: Path, n: int = 240, seed: int = 1) -> Path:
    """Two numeric columns (one with empty cells), a text column, a binary, a 3-class and two
    regression targets."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(5, 2, n), rng.normal(-100, 30, n)
    colour = rng.choice(["red", "green", "blue"], n)
    shift = np.select([colour == "red", colour == "green"], [1.0, -1.0], 0.0)
    score = (a - 5) / 2 + (b + 100) / 30 + shift
    rows = []
    for i in range(n):
        rows.append([
            "" if i % 7 == 3 else f"{a[i]:.4f}", f"{b[i]:.3f}", colour[i],
            "yes" if score[i] > 0 else "no",
            int(np.digitize(score[i], [-0.8, 0.8])),
            f"{score[i] * 3:.5f}", f"{a[i] - b[i] / 10:.5f}",
        ])
    return _write(tmp_path / "mixed.csv", ["a", "b", "colour", "binary", "kind", "t1", "t2"], rows)


def _config(tmp_path: Path, data: Path, target, loss: str, layers: list[dict], **data_keys) -> Path:
    cfg = {
        "name": "mixed", "seed": 3,
        "data": {"path": str(data), "target": target, "encode": "onehot", "missing": "mean",
                 "validation_split": 0.2, **data_keys},
        "model": {"layers": layers},
        "training": {"epochs": 15, "batch_size": 32, "loss": loss,
                     "optimizer": {"name": "adam", "learning_rate": 0.01}},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


CASES = {
    # binary, sigmoid output, one-hot text column, empty cells filled with the mean, minmax
    "binary-onehot-minmax": dict(target="binary", loss="binary_crossentropy", scaling="minmax", features=["a", "b", "colour"],
                                 layers=[{"units": 8, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}]),
    # binary with a logit output (probabilities through σ in the loss, label from the sign)
    "binary-logit": dict(target="binary", loss="binary_crossentropy", features=["colour", "a", "b"],
                         layers=[{"units": 8, "activation": "elu"}, {"units": 1, "activation": "linear"}]),
    # multiclass softmax, integer labels, standardize, text column first
    "multiclass-standardize": dict(target="kind", loss="cross_entropy", scaling="standardize", features=["colour", "a", "b"],
                                   layers=[{"units": 12, "activation": "gelu"}, {"units": 6, "activation": "silu"},
                                           {"units": 3, "activation": "softmax"}]),
    # multiclass from logits (cross_entropy on a linear output)
    "multiclass-logits": dict(target="kind", loss="cross_entropy", features=["a", "colour", "b"],
                              layers=[{"units": 10, "activation": "leaky_relu"}, {"units": 3, "activation": "linear"}]),
    # two regression targets, softplus hidden layer, float64 network
    "regression-2-targets-float64": dict(target=["t1", "t2"], loss="mse", features=["a", "b", "colour"], dtype="float64",
                                         layers=[{"units": 16, "activation": "softplus"}, {"units": 2, "activation": "linear"}]),
    # regression without scaling, sigmoid hidden layer
    "regression-no-scaling": dict(target=["t1"], loss="huber", scaling="none", features=["b", "a"],
                                  layers=[{"units": 8, "activation": "sigmoid"}, {"units": 1, "activation": "linear"}]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_exported_model_matches_predict_on_mixed_data(case, tmp_path):
    spec = dict(CASES[case])
    data = _mixed_data(tmp_path)
    layers, target, loss = spec.pop("layers"), spec.pop("target"), spec.pop("loss")
    dtype = spec.pop("dtype", None)
    config = _config(tmp_path, data, target, loss, layers, **spec)
    overrides = [f"training.dtype={dtype}"] if dtype else []
    nncli.train(config, out=tmp_path / "run", overrides=overrides)
    _check_same(tmp_path / "run", data, tmp_path)


def test_model_metadata_names_the_columns(tmp_path):
    data = _mixed_data(tmp_path)
    config = _config(tmp_path, data, "kind", "cross_entropy", [{"units": 3, "activation": "softmax"}],
                     features=["b", "colour", "a"])
    nncli.train(config, out=tmp_path / "run")
    assert _invoke("export", tmp_path / "run", tmp_path / "m.onnx").exit_code == 0
    model = onnx.load(tmp_path / "m.onnx")
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["nncli.numeric_columns"]) == ["b", "a"]
    assert json.loads(meta["nncli.categorical_columns"]) == {"colour": ["blue", "green", "red"]}
    assert json.loads(meta["nncli.classes"]) == [0, 1, 2]
    assert meta["nncli.task"] == "classification"
    assert "a" in json.loads(meta["nncli.fill"])
    assert [i.name for i in model.graph.input] == ["numeric", "colour"]
    assert [o.name for o in model.graph.output] == ["probabilities", "label"]
    # an unseen category is refused, as nncli predict refuses it
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    with pytest.raises(Exception):
        session.run(None, {"numeric": np.zeros((1, 2), np.float32), "colour": np.array([["purple"]], dtype=object)})


def test_export_without_onnx_says_how_to_install(tmp_path, monkeypatch):
    nncli.train(ROOT / "configs/xor.yaml", out=tmp_path / "run", overrides=["training.epochs=2"])
    for mod in [m for m in sys.modules if m == "onnx" or m.startswith("onnx.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx -> ImportError
    res = _invoke("export", tmp_path / "run", tmp_path / "m.onnx")
    assert res.exit_code == 2
    assert res.output.strip() == "nncli export needs onnx, which is not installed: pip install 'onnx>=1.14'"
    assert not (tmp_path / "m.onnx").exists()


def test_export_errors_are_one_line(tmp_path):
    res = _invoke("export", tmp_path / "nope", tmp_path / "m.onnx")
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "no such run directory" in res.output
    nncli.train(ROOT / "configs/xor.yaml", out=tmp_path / "run", overrides=["training.epochs=2"])
    res = _invoke("export", tmp_path / "run", tmp_path / "missing-folder" / "m.onnx")
    assert res.exit_code == 2 and "does not exist" in res.output
    res = _invoke("export", tmp_path / "run", tmp_path)
    assert res.exit_code == 2 and "is a directory" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing half-written


@pytest.mark.parametrize("activation", __import__("nncli.nn.activations", fromlist=["names"]).names())
def test_every_activation_has_an_onnx_form(activation, tmp_path):
    """Each registry entry, as a hidden layer, on inputs wide enough to reach both sides of every
    kink and the saturated tails."""
    from nncli.onnx_export import build_model

    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (64, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    cfg = {"name": "act", "data": {"scaling": "none"},
           "model": {"layers": [{"units": 16, "activation": activation, "initializer": "glorot_normal"},
                                {"units": 1, "activation": "linear"}]},
           "training": {"epochs": 2, "loss": "mse"}}
    run = nncli.train(cfg, data=(X, y), out=False)
    for layer in run.network.layers:  # weights scaled up: pre-activations reach about ±30
        layer.W *= 8
    model = build_model(run)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    Xt = rng.normal(0, 1.5, (500, 3)).astype(np.float32)
    (got,) = session.run(None, {"numeric": Xt})
    want = run.predict(Xt.astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * max(1.0, float(np.abs(want).max())))
