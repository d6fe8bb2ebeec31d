"""Warm start (model.init_from, nncli train --init-from): continue, fine-tune, refuse bad sources."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
IRIS = ROOT / "configs/iris.yaml"


def _train(*args):
    return CliRunner().invoke(app, ["train", *map(str, args), "-q"])


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("source") / "iris"
    nncli.train(IRIS, out=out, overrides=["training.epochs=40"])
    return out


def _history(run_dir: Path) -> list[dict]:
    with open(run_dir / "history.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_continuing_a_run_starts_from_its_final_loss(source, tmp_path):
    res = _train(IRIS, "--out", tmp_path / "more", "--epochs", 1, "--init-from", source)
    assert res.exit_code == 0, res.output
    last = float(_history(source)[-1]["train_loss"])
    first = float(_history(tmp_path / "more")[0]["train_loss"])
    fresh = float(_history(source)[0]["train_loss"])
    # Adam restarts with empty moments, so the first epoch wobbles a little; a fresh start is ~1.4
    assert first == pytest.approx(last, abs=0.03), (first, last)
    assert abs(first - last) < 0.05 * abs(fresh - last), (first, last, fresh)
    metrics = json.loads((tmp_path / "more" / "metrics.json").read_text())
    assert metrics["init_from"] == {"run": str(source.resolve()), "layers": [0, 1], "preprocessing": "source"}
    # the source's preprocessing, not one refitted on this (same) data's training part
    assert json.loads((tmp_path / "more" / "preprocessing.json").read_text())["offset"] == \
        json.loads((source / "preprocessing.json").read_text())["offset"]


def test_all_layers_loaded_is_the_source_network(source):
    run = nncli.train(IRIS, out=False, overrides=[f"model.init_from={source}", "training.epochs=1",
                                                  "training.optimizer.learning_rate=1e-12"])
    src = nncli.load_run(source)
    for mine, theirs in zip(run.network.layers, src.network.layers):
        np.testing.assert_allclose(mine.W, theirs.W, atol=1e-6)


def test_fine_tuning_with_a_new_output_layer(source, tmp_path):
    """Layer 0 from the 3-class run, a fresh 2-unit output layer for a 2-class task."""
    rows = list(csv.DictReader(open(ROOT / "datasets/iris.csv", newline="")))
    data = tmp_path / "two.csv"
    with open(data, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if r["species"] != "setosa")
    config = tmp_path / "tune.yaml"
    config.write_text(
        "name: tune\nseed: 1\n"
        f"data: {{path: {data}, target: species, validation_split: 0.2}}\n"
        "model:\n"
        f"  init_from: {{run: {source}, layers: [0]}}\n"
        "  layers:\n    - {units: 16, activation: relu}\n    - {units: 2, activation: softmax}\n"
        "training: {epochs: 30, batch_size: 16, loss: cross_entropy, optimizer: {name: adam, learning_rate: 0.01}}\n")
    res = _train(config, "--out", tmp_path / "tuned")
    assert res.exit_code == 0, res.output
    run = nncli.load_run(tmp_path / "tuned")
    assert run.preprocessor.classes == ["versicolor", "virginica"]
    assert run.metrics["init_from"]["layers"] == [0]
    assert run.metrics["validation"]["accuracy"] >= 0.8
    # layer 0 started from the source (so moved little in 30 epochs), layer 1 from the initializer
    src = nncli.load_run(source)
    start = run.network.layers[0].W - src.network.layers[0].W
    assert np.abs(start).mean() < 0.5 * np.abs(src.network.layers[0].W).mean()


def test_shape_mismatch_is_one_line_naming_the_layer(source, tmp_path):
    res = _train(IRIS, "--out", tmp_path / "x", "--init-from", source, "--set", "model.layers.0.units=8")
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        f"--init-from {source}: model.init_from: layer 0 has shape 4×8 here but 4×16 in {source.resolve()}; "
        f"list the layers to take in model.init_from.layers"]
    assert not (tmp_path / "x").exists()


def test_layer_index_out_of_range(source, tmp_path):
    res = _train(IRIS, "--out", tmp_path / "x", "--init-from", source, "--set", "model.init_from.layers=[2]")
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "model.init_from.layers: layer 2 does not exist" in res.output


@pytest.mark.parametrize("damage", ["missing", "weights", "preprocessing"])
def test_missing_or_tampered_source_is_one_line(source, tmp_path, damage):
    import shutil

    bad = tmp_path / "bad"
    if damage != "missing":
        shutil.copytree(source, bad)
    if damage == "weights":
        (bad / "weights.npz").write_bytes(b"not an npz")
    elif damage == "preprocessing":
        pre = json.loads((bad / "preprocessing.json").read_text())
        pre["scale"] = pre["scale"][:2]
        (bad / "preprocessing.json").write_text(json.dumps(pre))
    res = _train(IRIS, "--out", tmp_path / "x", "--epochs", 1, "--init-from", bad)
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"--init-from {bad}: model.init_from: "), lines
    assert not (tmp_path / "x").exists()


def test_init_from_in_the_config_is_relative_to_it(source, tmp_path):
    config = tmp_path / "cfg.yaml"
    link = tmp_path / "runs" / "src"
    link.parent.mkdir()
    link.symlink_to(source)
    config.write_text(IRIS.read_text().replace("../datasets/iris.csv", str(ROOT / "datasets/iris.csv"))
                      .replace("model:\n", "model:\n  init_from: runs/src\n"))
    res = _train(config, "--out", tmp_path / "out", "--epochs", 1)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["init_from"]["run"] == str(link.resolve())


def test_refit_preprocessing_is_recorded(source, tmp_path):
    run = nncli.train(IRIS, out=tmp_path / "r", overrides=[f"model.init_from.run={source}",
                                                           "model.init_from.preprocessing=refit", "training.epochs=1"])
    assert run.metrics["init_from"]["preprocessing"] == "refit"
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())["init_from"]["preprocessing"] == "refit"


def test_validate_reports_a_shape_mismatch(source):
    res = CliRunner().invoke(app, ["validate", str(IRIS), "--set", f"model.init_from={source}",
                                   "--set", "model.layers.0.units=8"])
    assert res.exit_code == 2
    assert "model.init_from: layer 0 has shape 4×8 here but 4×16" in res.output


def test_memory_mapped_data_reuses_the_source_scaling(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, (300, 3)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 6).astype(np.int64)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", y)
    config = tmp_path / "mm.yaml"
    config.write_text("name: mm\ndata: {path: x.npy, y_path: y.npy}\n"
                      "model: {layers: [{units: 4, activation: tanh}, {units: 1, activation: sigmoid}]}\n"
                      "training: {epochs: 3, loss: binary_crossentropy}\n")
    src = nncli.train(config, out=tmp_path / "src")
    np.save(tmp_path / "x.npy", X * 10)  # new data on another scale: the source's scaling still applies
    run = nncli.train(config, out=tmp_path / "warm", overrides=[f"model.init_from={tmp_path / 'src'}"])
    assert run.preprocessor.offset == src.preprocessor.offset and run.preprocessor.scale == src.preprocessor.scale
    refit = nncli.train(config, out=False, overrides=[f"model.init_from.run={tmp_path / 'src'}",
                                                      "model.init_from.preprocessing=refit"])
    assert refit.preprocessor.offset != src.preprocessor.offset
