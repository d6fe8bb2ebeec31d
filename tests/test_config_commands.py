"""validate, config, summary, init, schema; the generated reference; overrides in the run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app
from nncli.config import load_config

ROOT = Path(__file__).resolve().parent.parent
XOR_GEN = """\
name: {name}
data:
  generator: {{name: xor, n_samples: 40}}
model:
  layers:
    - {{units: 4, activation: tanh}}
    - {{units: 1, activation: sigmoid}}
training:
  epochs: 2
  loss: binary_crossentropy
"""


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


# ---------------------------------------------------------------- validate
def test_every_shipped_config_validates(cli):
    """Every config in configs/ (including ones added later) passes `nncli validate`, data checks too."""
    configs = sorted((ROOT / "configs").glob("**/*.yaml"))
    assert configs
    r = cli("validate", *configs, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"ok {c}" for c in configs]


def test_validate_many_files_reports_all_and_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("good.yaml").write_text(XOR_GEN.format(name="good"))
    Path("bad.yaml").write_text(XOR_GEN.format(name="bad").replace("tanh", "tahn"))
    Path("nodata.yaml").write_text(XOR_GEN.format(name="nodata").replace(
        "generator: {name: xor, n_samples: 40}", "path: gone.csv\n  target: y"))
    r = invoke("validate", "good.yaml", "bad.yaml", "nodata.yaml")
    assert r.exit_code == 2
    assert r.stdout == "ok good.yaml\n"
    assert r.stderr.splitlines() == [
        "bad.yaml:6:30: model.layers[0].activation: unknown value 'tahn' — did you mean 'tanh'? "
        "(allowed: linear, sigmoid, tanh, relu, leaky_relu, elu, softplus, silu, gelu, softmax)",
        f"nodata.yaml:3:9: data.path: file not found: {tmp_path / 'gone.csv'} "
        "(a relative path is resolved against the config file's folder)",
    ]
    assert not Path("runs").exists()
    ok = invoke("validate", "good.yaml", "good.yaml")
    assert ok.exit_code == 0 and ok.stdout == "ok good.yaml\nok good.yaml\n" and ok.stderr == ""


def test_validate_applies_set_and_prints_warnings(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text(XOR_GEN.format(name="c"))
    r = invoke("validate", "c.yaml", "--set", "training.loss=mse")
    assert r.exit_code == 0 and r.stdout == "ok c.yaml\n"
    assert r.stderr == ("c.yaml:7:30: warning: mse on a sigmoid output is allowed but unusual; "
                        "for classification use binary_crossentropy\n")
    bad = invoke("validate", "c.yaml", "--set", "training.batch_size=41")
    assert bad.exit_code == 2
    assert "training.batch_size: 41 is larger than the training set (40 rows)" in bad.stderr


# ---------------------------------------------------------------- config
def test_config_prints_every_default_and_round_trips(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text(XOR_GEN.format(name="c"))
    r = invoke("config", "c.yaml", "--set", "training.optimizer.learning_rate=0.02")
    assert r.exit_code == 0, r.stderr
    out = yaml.safe_load(r.stdout)
    assert out["training"]["optimizer"] == {"name": "adam", "learning_rate": 0.02, "beta1": 0.9,
                                            "beta2": 0.999, "epsilon": 1e-8}
    assert out["training"]["batch_size"] == 32 and out["data"]["scaling"] == "standardize"
    assert out["model"]["layers"][0]["dropout"] == 0.0
    Path("resolved.yaml").write_text(r.stdout)
    assert load_config("resolved.yaml").effective() == out
    assert invoke("config", "missing.yaml").exit_code == 2


# ---------------------------------------------------------------- summary
def test_summary_of_a_config_counts_parameters(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    np.savez("mnistish.npz", X=rng.random((20, 784)), y=np.arange(20) % 10)
    Path("m.yaml").write_text("""\
name: mnistish
data: {path: mnistish.npz, target: y}
model:
  layers:
    - {units: 256, activation: relu}
    - {units: 128, activation: relu, dropout: 0.2}
    - {units: 10, activation: softmax}
training: {loss: cross_entropy, batch_size: 10}
""")
    r = invoke("summary", "m.yaml")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Model 'mnistish': 784 inputs (x1, x2,")
    rows = [line.split() for line in lines if line.strip()[:1].isdigit()]
    assert rows == [
        ["0", "Dense", "(None,", "784)", "(None,", "256)", "relu", "0", "200,960"],
        ["1", "Dense", "(None,", "256)", "(None,", "128)", "relu", "0.2", "32,896"],
        ["2", "Dense", "(None,", "128)", "(None,", "10)", "softmax", "0", "1,290"],
    ]
    assert lines[-1] == "Total params: 235,146 (234,752 weights, 394 biases)"
    assert 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10 == 235146


def test_summary_of_a_run_directory_matches_its_weights(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text(XOR_GEN.format(name="c"))
    run = nncli.train("c.yaml", out=tmp_path / "run")
    r = invoke("summary", tmp_path / "run")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[-1] == f"Total params: {run.network.n_params} (12 weights, 5 biases)"
    assert run.network.n_params == 2 * 4 + 4 + 4 * 1 + 1
    assert invoke("summary", tmp_path / "nothing").exit_code == 2


# ---------------------------------------------------------------- init
@pytest.mark.parametrize("template", ["xor", "regression", "classification"])
def test_init_templates_validate_as_written(template, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = invoke("init", f"sub/{template}.yaml", "--template", template)
    assert r.exit_code == 0, r.stderr
    text = Path(f"sub/{template}.yaml").read_text()
    assert text.startswith("# ") and "#   # yaml-language-server: $schema=" in text
    v = invoke("validate", f"sub/{template}.yaml")
    assert v.exit_code == 0, v.stderr
    assert v.stdout == f"ok sub/{template}.yaml\n" and v.stderr == ""


def test_init_refuses_to_overwrite_unless_forced(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text("mine\n")
    r = invoke("init", "c.yaml")
    assert r.exit_code == 2
    assert r.stderr == "c.yaml: already exists; choose another path, or add --force to overwrite it\n"
    assert Path("c.yaml").read_text() == "mine\n"
    assert invoke("init", "c.yaml", "--force", "--template", "regression").exit_code == 0
    assert "name: sine" in Path("c.yaml").read_text()
    assert invoke("init", "x.yaml", "--template", "nope").exit_code == 2


def test_classification_template_trains_with_dropout(tmp_path, monkeypatch):
    """Dropout on float32 buffers (the classification template uses it) trains, deterministically."""
    monkeypatch.chdir(tmp_path)
    invoke("init", "c.yaml", "--template", "classification")
    a = nncli.train("c.yaml", out=False, overrides=["training.epochs=2", "data.generator.n_samples=60"])
    b = nncli.train("c.yaml", out=False, overrides=["training.epochs=2", "data.generator.n_samples=60"])
    assert np.array_equal(a.network.params, b.network.params)
    assert np.all(np.isfinite(a.history.train_loss))


# ---------------------------------------------------------------- schema and the reference
def test_schema_is_json_with_the_enums():
    r = invoke("schema")
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    layer = schema["$defs"]["LayerConfig"]
    assert layer["additionalProperties"] is False
    assert "relu" in layer["properties"]["activation"]["enum"]
    assert "softmax" in layer["properties"]["activation"]["enum"]
    opt = schema["$defs"]["TrainingConfig"]["properties"]["optimizer"]
    assert {"type": "string", "enum": ["adagrad", "adam", "adamw", "rmsprop", "sgd"]} in opt["anyOf"]
    assert r.stdout == (ROOT / "docs/nncli.schema.json").read_text(), \
        "docs/nncli.schema.json is stale: run  python -m nncli schema > docs/nncli.schema.json"


def test_config_reference_is_current():
    from nncli.config.docs import markdown

    assert markdown() == (ROOT / "docs/config.md").read_text(), \
        "docs/config.md is stale: run  python -m nncli.config.docs > docs/config.md"


def test_config_reference_lists_every_key():
    from nncli.config.docs import reference_rows

    keys = {row[1] for row in reference_rows()}
    for key in ("name", "seed", "data.path", "data.generator.n_samples", "model.layers[i].activation",
                "training.batch_size", "training.optimizer.momentum", "training.schedule.warmup_epochs",
                "training.early_stopping.patience", "training.loss.delta", "output.dir"):
        assert key in keys
    text = (ROOT / "docs/config.md").read_text()
    assert "| `model.layers[i].activation` | string | **required** | linear, sigmoid, tanh, relu," in text


# ---------------------------------------------------------------- overrides in the run directory
def test_run_records_overrides_and_final_values(tmp_path, monkeypatch, cli):
    monkeypatch.chdir(tmp_path)
    Path("c.yaml").write_text(XOR_GEN.format(name="c"))
    r = cli("train", "c.yaml", "--quiet", "--set", "training.optimizer.learning_rate=0.02",
            "--set", "model.layers.0.units=3", "--epochs", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run = tmp_path / "runs/c"
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert cfg["training"]["optimizer"]["learning_rate"] == 0.02
    assert cfg["model"]["layers"][0]["units"] == 3
    assert cfg["training"]["epochs"] == 3
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["overrides"] == ["training.optimizer.learning_rate=0.02", "model.layers.0.units=3",
                                    "training.epochs=3"]
    assert metrics["epochs_run"] == 3


def test_optimizer_without_name_keeps_the_default(tmp_path):
    cfg = load_config_text(tmp_path, XOR_GEN.format(name="c") + "  optimizer: {learning_rate: 0.2}\n")
    assert cfg.training.optimizer.name == "adam" and cfg.training.optimizer.learning_rate == 0.2


def load_config_text(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return load_config(p)
