"""nncli explain: the printed step for configs/line.yaml matches a hand computation."""

import csv
import math
import re

import numpy as np
import pytest


def _first_rows(path, k):
    with open(path) as fh:
        rows = list(csv.DictReader(fh))[:k]
    return np.array([float(r["x"]) for r in rows]), np.array([float(r["y"]) for r in rows])


def _grab(pattern, text):
    m = re.search(pattern, text, re.MULTILINE)
    assert m, f"no match for {pattern!r} in:\n{text}"
    return float(m.group(1))


def _matrix_after(header, text):
    lines = text.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.strip().startswith(header))
    values = []
    for ln in lines[i + 1:]:
        s = ln.strip()
        if not s.startswith("["):
            break
        values.append([float(v) for v in s.strip("[]").split()])
    return np.array(values)


def test_line_step_matches_hand_computation(cli, root):
    res = cli("explain", root / "configs/line.yaml")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", out), "plain output must hold no control characters"

    # By hand. line.yaml: no validation split, scaling none, so the batch is the first 4 CSV rows.
    x, y = _first_rows(root / "datasets/line.csv", 4)
    n, eta = 4, 0.1
    # Initialization as documented: glorot_uniform U(-l, l), l = √(6/(1+1)), from seed stream 0; b = 0.
    w = np.random.default_rng(np.random.SeedSequence(0).spawn(5)[0]).uniform(-math.sqrt(3), math.sqrt(3))
    b = 0.0
    y_hat = w * x + b
    L = np.mean((y_hat - y) ** 2)
    dw = 2.0 / n * np.sum((y_hat - y) * x)
    db = 2.0 / n * np.sum(y_hat - y)
    w_new, b_new = w - eta * dw, b - eta * db
    L_after = np.mean((w_new * x + b_new - y) ** 2)

    approx = lambda v: pytest.approx(v, rel=2e-5, abs=1e-6)
    np.testing.assert_allclose(_matrix_after("x  [columns: x]", out)[:, 0], x, rtol=1e-5)
    np.testing.assert_allclose(_matrix_after("y  [columns: y]", out)[:, 0], y, rtol=1e-5)
    assert _grab(r"^\s+W = (\S+)$", out) == approx(w)
    assert _grab(r"^\s+b = (\S+)$", out) == approx(b)
    np.testing.assert_allclose(_matrix_after("z = x·W + b", out)[:, 0], y_hat, rtol=2e-5)
    assert _grab(r"^\s+L = (\S+)$", out) == approx(L)
    np.testing.assert_allclose(_matrix_after("δ = ∂L/∂ŷ", out)[:, 0], 2.0 / n * (y_hat - y), rtol=2e-5)
    assert _grab(r"∂L/∂W = xᵀ·δ = (\S+)$", out) == approx(dw)
    assert _grab(r"∂L/∂b = Σ δ \(over the batch\) = (\S+)$", out) == approx(db)
    assert _grab(r"W_new = W − η·∂L/∂W = .* = (\S+)$", out) == approx(w_new)
    assert _grab(r"b_new = b − η·∂L/∂b = .* = (\S+)$", out) == approx(b_new)
    assert _grab(r"loss on the same batch: L = (\S+) \(was", out) == approx(L_after)
    assert L_after < L


def test_step_n_continues_from_real_training(root):
    from nncli.inspect.explain import explain_step
    import nncli

    # After N-1 real steps the explained step starts from the weights training reached: for
    # line.yaml (full batch, one step per epoch) step 4 starts where a 3-epoch training ends.
    rec = explain_step(root / "configs/line.yaml", step=4, batch=3)
    run = nncli.train(root / "configs/line.yaml", out=False, overrides=["training.epochs=3"])
    assert rec.step == 4 and rec.epoch == 4 and len(rec.rows) == 3
    np.testing.assert_array_equal(rec.layers[0].W, run.network.layers[0].W)
    np.testing.assert_array_equal(rec.layers[0].b, run.network.layers[0].b)


def test_explain_multilayer_classification_records_consistent_numbers(root):
    from nncli.inspect.explain import explain_step

    rec = explain_step(root / "configs/iris.yaml", step=5, batch=6)
    assert rec.fused and rec.optimizer == "adam"
    # forward consistency: z = x·W + b and each layer's input is the previous output
    for i, l in enumerate(rec.layers):
        np.testing.assert_allclose(l.z, l.x @ l.W + l.b, rtol=1e-5, atol=1e-6)
        if i:
            np.testing.assert_array_equal(l.x, rec.layers[i - 1].a)
        np.testing.assert_allclose(l.dW, l.x.T @ l.delta, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(l.db, l.delta.sum(axis=0), rtol=1e-4, atol=1e-6)
        assert not np.array_equal(l.W, l.W_new)
    np.testing.assert_allclose(rec.output.sum(axis=1), 1.0, rtol=1e-5)  # softmax rows


def test_explain_big_arrays_are_summarized(cli, root, tmp_path):
    cfg = tmp_path / "digits.yaml"
    cfg.write_text(f"""name: digits
data: {{path: {root / 'datasets/digits.csv'}, target: digit}}
model:
  layers:
    - {{units: 32, activation: relu}}
    - {{units: 10, activation: softmax}}
training: {{epochs: 1, loss: cross_entropy}}
""")
    res = cli("explain", cfg, "--batch", "2")
    assert res.returncode == 0, res.stderr
    assert "shape 64×32, ‖·‖ = " in res.stdout and "first entries: [0,0] = " in res.stdout


def test_explain_step_beyond_training_is_a_usage_error(cli, root):
    res = cli("explain", root / "configs/line.yaml", "--step", "201")
    assert res.returncode == 2
    assert "trains only 200 steps" in res.stderr and "--step 200" in res.stderr
