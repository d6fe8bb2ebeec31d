"""Every tutorial config reaches what docs/tutorial.md says it does."""

from pathlib import Path

import numpy as np
import pytest

import nncli
from nncli.inspect.weights import weights_report

TUTORIAL = Path(__file__).resolve().parent.parent / "configs" / "tutorial"


def train(name, *overrides):
    return nncli.train(TUTORIAL / f"{name}.yaml", out=False, overrides=list(overrides))


def test_every_tutorial_config_is_tested():
    names = sorted(p.stem for p in TUTORIAL.glob("*.yaml"))
    assert names == ["01-line", "02-linear", "03-xor-hidden-layer", "03-xor-one-neuron", "04-activations",
                     "05-spirals-softmax", "06-sine", "07-gradcheck"]


def test_01_line_learns_m_and_c():
    report = weights_report(train("01-line"))
    (m, c) = report.coefficients
    assert m.true == 3.0 and c.true == 2.0
    assert m.learned == pytest.approx(3.0, abs=0.03) and c.learned == pytest.approx(2.0, abs=0.03)


def test_02_one_neuron_several_inputs_learns_the_generating_weights():
    report = weights_report(train("02-linear"))
    learned = [c.learned for c in report.coefficients]
    true = [c.true for c in report.coefficients]
    assert true == [2.0, -1.0, 0.5, 1.0]
    np.testing.assert_allclose(learned, true, atol=0.03)


def test_03_xor_needs_a_hidden_layer():
    one = train("03-xor-one-neuron")
    hidden = train("03-xor-hidden-layer")
    assert one.metrics["train"]["accuracy"] <= 0.75
    assert one.metrics["train"]["loss"] > 0.6  # stuck near ln 2: it cannot do better than guessing
    assert hidden.metrics["train"]["accuracy"] == 1.0
    assert hidden.metrics["train"]["loss"] < 0.01


def test_04_activations_relu_and_tanh_beat_sigmoid():
    final = {}
    for act in ("sigmoid", "tanh", "relu"):
        run = train("04-activations", f"model.layers.0.activation={act}", f"model.layers.1.activation={act}")
        final[act] = run.metrics["validation"]
    assert final["tanh"]["loss"] < final["sigmoid"]["loss"] and final["relu"]["loss"] < final["sigmoid"]["loss"]
    assert final["tanh"]["accuracy"] >= 0.95 and final["relu"]["accuracy"] >= 0.95


def test_05_softmax_separates_three_spirals():
    run = train("05-spirals-softmax")
    assert run.metrics["validation"]["accuracy"] >= 0.9
    proba = run.predict_proba([[0.0, 0.5], [0.5, -0.5]])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


def test_06_universal_approximation_error_falls_with_units():
    wide = train("06-sine")
    assert wide.metrics["validation"]["r2"] >= 0.99
    narrow = train("06-sine", "model.layers.0.units=4")
    assert narrow.metrics["validation"]["mse"] > 3 * wide.metrics["validation"]["mse"]


def test_07_gradcheck_passes(cli):
    res = cli("gradcheck", TUTORIAL / "07-gradcheck.yaml")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "passed" in res.stdout and res.stdout.count(" ok") == 6
