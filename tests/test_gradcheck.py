"""nncli gradcheck: passes for every activation × loss pairing, fails on a broken derivative."""

import numpy as np
import pytest
from typer.testing import CliRunner

from nncli.cli.app import app
from nncli.inspect.gradcheck import gradcheck
from nncli.nn import activations, losses


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory):
    """12 rows: 3 features, 2 regression targets, a 3-class and a 2-class label."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(12, 3))
    Y = rng.normal(size=(12, 2))
    path = tmp_path_factory.mktemp("gc") / "data.csv"
    lines = ["x1,x2,x3,y1,y2,k,b"]
    for i in range(12):
        lines.append(",".join(f"{v:.6f}" for v in (*X[i], *Y[i])) + f",c{i % 3},{i % 2}")
    path.write_text("\n".join(lines) + "\n")
    return path


def pairing_config(path, hidden, loss_name):
    """hidden activation `hidden`; the output uses it too where the loss allows, else the loss's own."""
    allowed = losses.REGISTRY.get(loss_name).allowed_activations
    if loss_name == "cross_entropy":
        target, units = "k", 3
    elif loss_name == "binary_crossentropy":
        target, units = "b", 1
    else:
        target, units = ["y1", "y2"], 2
    out = hidden if allowed is None or hidden in allowed else sorted(allowed - {"linear"})[0]
    return {
        "name": f"gc-{hidden}-{loss_name}", "seed": 3,
        "data": {"path": str(path), "target": target, "features": ["x1", "x2", "x3"]},
        "model": {"layers": [{"units": 5, "activation": hidden}, {"units": units, "activation": out}]},
        "training": {"epochs": 1, "batch_size": 4, "loss": loss_name},
    }


@pytest.mark.parametrize("loss_name", losses.names())
@pytest.mark.parametrize("hidden", activations.names())
def test_gradcheck_passes_for_every_activation_and_loss(data_csv, hidden, loss_name):
    result = gradcheck(pairing_config(data_csv, hidden, loss_name), batch=12)
    assert len(result.arrays) == 4  # W and b of both layers
    assert sum(a.checked for a in result.arrays) > 0
    assert result.passed, [(a.name, a.error) for a in result.arrays]
    assert any(a.norm > 0 for a in result.arrays)


@pytest.mark.parametrize("output", ["linear", "softmax"])
def test_gradcheck_linear_and_softmax_outputs_for_cross_entropy(data_csv, output):
    cfg = pairing_config(data_csv, "tanh", "cross_entropy")
    cfg["model"]["layers"][1]["activation"] = output
    assert gradcheck(cfg, batch=12).passed


def _write_config(tmp_path, data_csv, hidden="tanh"):
    import yaml

    path = tmp_path / "gc.yaml"
    path.write_text(yaml.safe_dump(pairing_config(data_csv, hidden, "cross_entropy")))
    return path


def test_gradcheck_cli_passes_and_prints_each_layer(tmp_path, data_csv):
    res = CliRunner().invoke(app, ["gradcheck", str(_write_config(tmp_path, data_csv))])
    assert res.exit_code == 0, res.output
    for name in ("layer 0 weights", "layer 0 biases", "layer 1 weights", "layer 1 biases"):
        assert name in res.output
    assert "passed" in res.output


def test_gradcheck_cli_fails_on_a_broken_derivative(tmp_path, data_csv, monkeypatch):
    # tanh' is 1 − a²; a wrong one (1 − a) must be caught in the layer that uses it.
    def broken(self, z, a, grad):
        grad *= 1.0 - a
        return grad

    monkeypatch.setattr(activations.Tanh, "backward", broken)
    res = CliRunner().invoke(app, ["gradcheck", str(_write_config(tmp_path, data_csv))])
    assert res.exit_code == 1, res.output
    assert "FAIL" in res.output
    assert "gradcheck failed: layer 0" in res.output


def test_gradcheck_tolerance_option(tmp_path, data_csv, monkeypatch):
    # a derivative off by 0.01%: above the default tolerance, within a loose one
    original = activations.Sigmoid.backward

    def slightly_off(self, z, a, grad):
        return original(self, z, a, grad) * (1 + 1e-4)

    monkeypatch.setattr(activations.Sigmoid, "backward", slightly_off)
    path = _write_config(tmp_path, data_csv, hidden="sigmoid")
    assert CliRunner().invoke(app, ["gradcheck", str(path)]).exit_code == 1
    res = CliRunner().invoke(app, ["gradcheck", str(path), "--tolerance", "1e-3"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["gradcheck", str(path), "--tolerance", "-1"])
    assert res.exit_code == 2 and "--tolerance" in res.output


def test_relu_kinks_are_skipped_not_failed(root):
    # xor.csv has the row (0, 0): with zero initial biases every relu unit sits exactly at z = 0
    # there, where the derivative is undefined; those entries are counted as skipped.
    result = gradcheck(root / "configs/xor.yaml", overrides=["model.layers.0.activation=relu"])
    assert result.passed
    assert result.arrays[1].skipped > 0 and result.arrays[0].skipped == 0
