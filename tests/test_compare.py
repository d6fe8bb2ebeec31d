"""nncli compare: differing config keys only, final metrics, --by, --json, --plot, sweep folders."""

import json
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent


def _invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    out = {}
    for name, lr, units in (("slow", 0.001, 16), ("fast", 0.03, 16), ("wide", 0.03, 32)):
        out[name] = base / name
        nncli.train(ROOT / "configs/iris.yaml", out=out[name],
                    overrides=["training.epochs=20", f"training.optimizer.learning_rate={lr}",
                               f"model.layers.0.units={units}"])
    return out


def test_json_has_only_the_differing_keys(runs):
    res = _invoke("compare", runs["slow"], runs["fast"], runs["wide"], "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["keys"] == ["model.layers.0.units", "training.optimizer.learning_rate"]
    assert report["metrics"] == ["train_loss", "train_accuracy", "val_loss", "val_accuracy"]
    rows = {r["name"]: r for r in report["rows"]}
    assert rows[str(runs["wide"])]["config"] == {"model.layers.0.units": 32, "training.optimizer.learning_rate": 0.03}
    for name, run_dir in runs.items():
        metrics = json.loads((run_dir / "metrics.json").read_text())
        row = rows[str(run_dir)]
        assert row["metrics"]["val_loss"] == metrics["validation"]["loss"]
        assert row["epochs"] == 20 and row["seconds"] == metrics["training_seconds"]


def test_by_sorts_best_first(runs):
    res = _invoke("compare", runs["slow"], runs["fast"], runs["wide"], "--by", "val_loss", "--json")
    losses = [r["metrics"]["val_loss"] for r in json.loads(res.stdout)["rows"]]
    assert losses == sorted(losses)
    res = _invoke("compare", runs["slow"], runs["fast"], runs["wide"], "--by", "train_accuracy", "--json")
    acc = [r["metrics"]["train_accuracy"] for r in json.loads(res.stdout)["rows"]]
    assert acc == sorted(acc, reverse=True)
    text = _invoke("compare", runs["slow"], runs["fast"], "--by", "val_loss").stdout.splitlines()
    assert text[0].split() == ["run", "training.optimizer.learning_rate", "train_loss", "train_accuracy",
                               "val_loss", "val_accuracy", "epochs", "seconds"]
    assert text[1].startswith(str(runs["fast"]))  # 0.03 beats 0.001 after 20 epochs


def test_unknown_metric_is_one_line(runs):
    res = _invoke("compare", runs["slow"], runs["fast"], "--by", "val_acuracy")
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        "--by: no metric 'val_acuracy' in these runs — did you mean 'val_accuracy'? (available: train_loss, "
        "train_accuracy, val_loss, val_accuracy, epochs, seconds)"]


def test_damaged_or_missing_run_is_one_line(runs, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(runs["slow"], bad)
    (bad / "history.csv").write_text("nonsense\n")
    res = _invoke("compare", runs["fast"], bad)
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1 and str(bad) in res.output
    res = _invoke("compare", runs["fast"], tmp_path / "nope")
    assert res.exit_code == 2 and "no such run directory" in res.output


def test_a_sweep_folder_expands_to_its_trials(tmp_path):
    sweep = tmp_path / "sweep"
    res = _invoke("sweep", ROOT / "configs/xor.yaml", "--grid", "training.optimizer.learning_rate=0.05,0.2",
                  "--set", "training.epochs=20", "--workers", 1, "--out", sweep, "-q")
    assert res.exit_code == 0, res.output
    shutil.rmtree(sweep / "lr0.2")  # an unfinished trial is left out, with a note
    res = _invoke("compare", sweep, "--json")
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert [r["name"] for r in report["rows"]] == ["lr0.05"]
    assert report["notes"] == [f"{sweep / 'lr0.2'}: trial not finished (no metrics.json); left out"]
    assert report["keys"] == []  # one run: nothing differs


def test_plot_overlays_loss_curves(runs, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "losses.png"
    res = _invoke("compare", runs["slow"], runs["fast"], "--plot", out)
    assert res.exit_code == 0, res.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert f"wrote {out}" in res.stdout


def test_plot_without_matplotlib_says_how_to_install(runs, tmp_path, monkeypatch):
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    res = _invoke("compare", runs["slow"], runs["fast"], "--plot", tmp_path / "x.png")
    assert res.output.strip() == "nncli compare --plot needs matplotlib, which is not installed: pip install 'matplotlib>=3.6'"
    assert res.exit_code == 2
    assert not (tmp_path / "x.png").exists()


def test_a_null_section_and_its_null_keys_agree(runs, tmp_path):
    """init_from: null in one run and {layers: null, ...} in another differ only where values do."""
    nncli.train(ROOT / "configs/iris.yaml", out=tmp_path / "warm",
                overrides=["training.epochs=20", "training.optimizer.learning_rate=0.001",
                           f"model.init_from={runs['slow']}"])
    report = json.loads(_invoke("compare", runs["slow"], tmp_path / "warm", "--json").stdout)
    assert report["keys"] == ["model.init_from.preprocessing", "model.init_from.run"]
