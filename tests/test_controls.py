"""Training controls, each checked against numbers computed here by hand from its documented formula.

The expected values never come from the code under test: gradients of the tiny networks below are
written out (a linear neuron with MSE: ∂L/∂w = (2/n)·Xᵀr, ∂L/∂b = (2/n)·Σr with r = Xw + b − y;
a sigmoid neuron with binary cross-entropy: ∂L/∂z = (σ(z) − y)/n), and every update, schedule,
penalty and weight is spelled out in plain NumPy/math beside the assertion.
"""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest

import nncli
from nncli.config import config_from_dict, load_config
from nncli.errors import ConfigError
from nncli.nn import activations, losses, schedules
from nncli.nn.layers import Dense
from nncli.nn.network import LayerSpec, Network
from nncli.training import Trainer

# A tiny regression problem for a linear neuron ŷ = x·w + b.
X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5], [-2.0, 1.0]])
Y = np.array([[1.0], [-2.0], [0.5], [3.0]])
W0 = np.array([0.3, -0.2])
B0 = 0.1


def mse_grad(w, b):
    """By hand: L = (1/n)·Σ(x·w + b − y)²; ∂L/∂w = (2/n)·Xᵀr, ∂L/∂b = (2/n)·Σr."""
    r = X @ w + b - Y[:, 0]
    n = len(X)
    return 2.0 / n * (X.T @ r), 2.0 / n * r.sum()


def make_cfg(training: dict, layers=None, **top):
    tr = {"epochs": 1, "batch_size": "full", "shuffle": False, "loss": "mse", "dtype": "float64", **training}
    return config_from_dict({"name": "t", "seed": 0, "model": {"layers": layers or [{"units": 1, "activation": "linear"}]},
                             "training": tr, **top})


def linear_run(training: dict, epochs: int = 1):
    """Train the linear neuron from (W0, B0) through the real Trainer; returns (w, b, trainer)."""
    cfg = make_cfg({**training, "epochs": epochs})
    net = Network(2, [LayerSpec(1, "linear")], dtype=np.float64)
    net.layers[0].W[:, 0] = W0
    net.layers[0].b[0] = B0
    trainer = Trainer(cfg, net, X.copy(), Y.copy())
    trainer.run()
    return net.layers[0].W[:, 0].copy(), float(net.layers[0].b[0]), trainer


def check(w, b, want_w, want_b):
    np.testing.assert_allclose(w, want_w, rtol=1e-12, atol=1e-14)
    assert b == pytest.approx(want_b, rel=1e-12, abs=1e-14)


# ------------------------------------------------------------------ optimizers, one step by hand
def test_sgd_plain_one_step_literal_numbers():
    # r = Xw + b − y = [0.3−0.4+0.1−1, 0.9+0.2+0.1+2, 0.15−0.1+0.1−0.5, −0.6−0.2+0.1−3]
    #   = [−1, 3.2, −0.35, −3.7]; ∂L/∂w = (2/4)·Xᵀr = ½·[−1+9.6−0.175+7.4, −2−3.2−0.175−3.7]
    #   = [7.9125, −4.5375]; ∂L/∂b = ½·Σr = −0.925
    gw, gb = mse_grad(W0, B0)
    np.testing.assert_allclose(gw, [7.9125, -4.5375])
    assert gb == pytest.approx(-0.925)
    w, b, tr = linear_run({"optimizer": {"name": "sgd", "learning_rate": 0.1}})
    check(w, b, [0.3 - 0.79125, -0.2 + 0.45375], 0.1 + 0.0925)  # w ← w − η·g
    assert tr.optimizer.t == 1


def test_sgd_momentum_two_steps():
    eta, mu = 0.05, 0.9
    w, b = W0.copy(), B0
    vw, vb = np.zeros(2), 0.0
    for _ in range(2):  # v ← μ·v − η·g; w ← w + v
        gw, gb = mse_grad(w, b)
        vw, vb = mu * vw - eta * gw, mu * vb - eta * gb
        w, b = w + vw, b + vb
    got_w, got_b, _ = linear_run({"optimizer": {"name": "sgd", "learning_rate": eta, "momentum": mu}}, epochs=2)
    check(got_w, got_b, w, b)
    # and the second step really used the velocity: plain SGD would land elsewhere
    plain_w, _, _ = linear_run({"optimizer": {"name": "sgd", "learning_rate": eta}}, epochs=2)
    assert np.abs(plain_w - w).max() > 1e-3


def test_sgd_nesterov_two_steps():
    eta, mu = 0.05, 0.9
    w, b = W0.copy(), B0
    vw, vb = np.zeros(2), 0.0
    for _ in range(2):  # v ← μ·v − η·g; w ← w + μ·v − η·g
        gw, gb = mse_grad(w, b)
        vw, vb = mu * vw - eta * gw, mu * vb - eta * gb
        w, b = w + mu * vw - eta * gw, b + mu * vb - eta * gb
    got_w, got_b, _ = linear_run({"optimizer": {"name": "sgd", "learning_rate": eta, "momentum": mu, "nesterov": True}}, epochs=2)
    check(got_w, got_b, w, b)


def adam_by_hand(steps, eta, b1, b2, eps, decay=0.0):
    w, b = W0.copy(), B0
    m, v = np.zeros(3), np.zeros(3)
    for t in range(1, steps + 1):
        gw, gb = mse_grad(w, b)
        g = np.array([*gw, gb])
        if decay:  # AdamW: w ← w − η·λ·w on the weights only, before the Adam step
            w = w - eta * decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        step = eta * mhat / (np.sqrt(vhat) + eps)
        w, b = w - step[:2], b - step[2]
    return w, b


def test_adam_two_steps():
    w, b = adam_by_hand(2, 0.1, 0.9, 0.999, 1e-8)
    got_w, got_b, _ = linear_run({"optimizer": {"name": "adam", "learning_rate": 0.1}}, epochs=2)
    check(got_w, got_b, w, b)
    # First step of Adam is η·sign(g) (m̂ = g, v̂ = g²): a sanity anchor independent of the loop above.
    w1, b1_, _ = linear_run({"optimizer": {"name": "adam", "learning_rate": 0.1}})
    np.testing.assert_allclose(w1, W0 - 0.1 * np.sign(mse_grad(W0, B0)[0]), atol=1e-8)  # up to ε


def test_adamw_decays_weights_not_biases():
    lam, eta = 0.5, 0.1
    w, b = adam_by_hand(2, eta, 0.9, 0.999, 1e-8, decay=lam)
    got_w, got_b, tr = linear_run({"optimizer": {"name": "adamw", "learning_rate": eta, "weight_decay": lam}}, epochs=2)
    check(got_w, got_b, w, b)
    # Adam without decay: the bias follows the identical path, the weights do not.
    aw, ab = adam_by_hand(2, eta, 0.9, 0.999, 1e-8)
    assert np.abs(aw - w).min() > 1e-3
    assert tr.optimizer.decay == slice(0, 2)


def test_adamw_decay_slice_covers_every_layers_weights_and_no_bias():
    """Two layers: one AdamW step minus one Adam step from the same start is exactly η·λ·w on every
    weight (the Adam part is identical) and zero on every bias."""
    layers = [{"units": 3, "activation": "tanh"}, {"units": 1, "activation": "linear"}]
    rng = np.random.default_rng(0)
    start = rng.normal(size=2 * 3 + 3 * 1 + 3 + 1)
    after = {}
    for name, extra in (("adam", {}), ("adamw", {"weight_decay": 0.3})):
        cfg = make_cfg({"optimizer": {"name": name, "learning_rate": 0.01, **extra}}, layers)
        net = Network(2, [LayerSpec(3, "tanh"), LayerSpec(1, "linear")], dtype=np.float64)
        net.params[...] = start
        Trainer(cfg, net, X.copy(), Y.copy()).run()
        after[name] = net.params.copy()
    nw = 2 * 3 + 3
    np.testing.assert_allclose(after["adam"][:nw] - after["adamw"][:nw], 0.01 * 0.3 * start[:nw], rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(after["adam"][nw:], after["adamw"][nw:])


def test_rmsprop_two_steps():
    eta, rho, eps = 0.01, 0.9, 1e-8
    w, b = W0.copy(), B0
    s = np.zeros(3)
    for _ in range(2):  # s ← ρ·s + (1−ρ)·g²; w ← w − η·g/(√s + ε)
        gw, gb = mse_grad(w, b)
        g = np.array([*gw, gb])
        s = rho * s + (1 - rho) * g * g
        step = eta * g / (np.sqrt(s) + eps)
        w, b = w - step[:2], b - step[2]
    got_w, got_b, _ = linear_run({"optimizer": {"name": "rmsprop", "learning_rate": eta, "rho": rho}}, epochs=2)
    check(got_w, got_b, w, b)


def test_adagrad_two_steps():
    eta, eps = 0.5, 1e-8
    w, b = W0.copy(), B0
    G = np.zeros(3)
    for _ in range(2):  # G ← G + g²; w ← w − η·g/(√G + ε)
        gw, gb = mse_grad(w, b)
        g = np.array([*gw, gb])
        G = G + g * g
        step = eta * g / (np.sqrt(G) + eps)
        w, b = w - step[:2], b - step[2]
    got_w, got_b, _ = linear_run({"optimizer": {"name": "adagrad", "learning_rate": eta}}, epochs=2)
    check(got_w, got_b, w, b)


def test_batch_size_full_is_plain_gradient_descent():
    eta, epochs = 0.05, 5
    w, b = W0.copy(), B0
    for _ in range(epochs):  # the thread's m_new = m_old − η·∂L/∂m, on the whole data each step
        gw, gb = mse_grad(w, b)
        w, b = w - eta * gw, b - eta * gb
    got_w, got_b, tr = linear_run({"optimizer": {"name": "sgd", "learning_rate": eta}}, epochs=epochs)
    check(got_w, got_b, w, b)
    assert tr.optimizer.t == epochs  # one step per epoch
    assert tr.batch_size == len(X)
    # train_loss of epoch e is the full-data MSE at the weights before that epoch's step
    w, b = W0.copy(), B0
    for e in range(epochs):
        r = X @ w + b - Y[:, 0]
        assert tr.history.train_loss[e] == pytest.approx(float(np.mean(r * r)), rel=1e-12)
        gw, gb = mse_grad(w, b)
        w, b = w - eta * gw, b - eta * gb


def test_minibatches_take_one_step_per_batch():
    _, _, tr = linear_run({"optimizer": {"name": "sgd", "learning_rate": 0.01}, "batch_size": 3}, epochs=2)
    assert tr.optimizer.t == 2 * math.ceil(4 / 3)


# ------------------------------------------------------------------ schedules by hand
def lrs(name, base, epochs, **params):
    s = schedules.get(name, base, epochs, **params)
    return [s.lr(e) for e in range(epochs)]


def test_constant_schedule():
    assert lrs("constant", 0.1, 4) == [0.1] * 4


def test_step_schedule():
    np.testing.assert_allclose(lrs("step", 0.1, 7, step_size=3, gamma=0.5), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_exponential_schedule():
    np.testing.assert_allclose(lrs("exponential", 0.2, 4, gamma=0.5), [0.2, 0.1, 0.05, 0.025])


def test_cosine_schedule_with_warmup():
    # E = 6 epochs, W = 2 warmup: η·1/2, η·2/2, then min + ½(η − min)(1 + cos(π·k/4)), k = 0..3
    base, lo = 0.1, 0.01
    want = [0.05, 0.1] + [lo + 0.5 * (base - lo) * (1 + math.cos(math.pi * k / 4)) for k in range(4)]
    np.testing.assert_allclose(lrs("cosine", base, 6, warmup_epochs=2, min_lr=lo), want)
    assert want[4] == pytest.approx(0.055)  # halfway down: the mean of η and min_lr


def test_cosine_schedule_without_warmup():
    want = [0.5 * 0.1 * (1 + math.cos(math.pi * e / 4)) for e in range(4)]
    np.testing.assert_allclose(lrs("cosine", 0.1, 4), want)
    assert want[0] == 0.1 and want[2] == pytest.approx(0.05)


def test_reduce_on_plateau_patience_factor_min_lr():
    s = schedules.get("reduce_on_plateau", 0.1, 20, monitor="val_loss", factor=0.5, patience=2, min_lr=0.02)
    seq = [1.0, 0.9, 0.95, 0.9, 0.8, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85]
    used = []
    for e, v in enumerate(seq):
        used.append(s.lr(e))
        s.end_epoch(e, {"val_loss": v})
    # best 1.0, 0.9; 0.95 and 0.9 (not better than 0.9) → 2 bad epochs → 0.05 from epoch 4;
    # 0.8 best; two 0.85 → 0.025 from epoch 7; two more → 0.0125 floored at 0.02 from epoch 9; stays.
    assert used == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02]


def test_reduce_on_plateau_maximizes_accuracy_and_honours_min_delta():
    s = schedules.get("reduce_on_plateau", 1.0, 10, monitor="val_accuracy", factor=0.1, patience=1, min_delta=0.05)
    used = []
    for e, v in enumerate([0.5, 0.6, 0.62, 0.7, 0.4]):
        used.append(s.lr(e))
        s.end_epoch(e, {"val_accuracy": v})
    # 0.5 best; 0.6 > 0.55 best; 0.62 is not > 0.65 → reduce (patience 1); 0.7 > 0.65 best; 0.4 → reduce
    np.testing.assert_allclose(used + [s.lr(5)], [1.0, 1.0, 1.0, 0.1, 0.1, 0.01])


def test_schedule_drives_the_optimizer_step():
    """Two SGD epochs with a step schedule (step_size 1, γ = 0.5): the second step uses η/2."""
    eta = 0.1
    gw, gb = mse_grad(W0, B0)
    w1, b1 = W0 - eta * gw, B0 - eta * gb
    gw, gb = mse_grad(w1, b1)
    w2, b2 = w1 - 0.5 * eta * gw, b1 - 0.5 * eta * gb
    got_w, got_b, tr = linear_run({"optimizer": {"name": "sgd", "learning_rate": eta},
                                   "schedule": {"name": "step", "step_size": 1, "gamma": 0.5}}, epochs=2)
    check(got_w, got_b, w2, b2)
    assert tr.history.columns["lr"] == [0.1, 0.05]


def _history_csv(path):
    with open(path / "history.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return rows


def _regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    Xr = rng.normal(size=(n, 3))
    return Xr, Xr @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=n)


@pytest.mark.parametrize("schedule,want", [
    ({"name": "constant"}, [0.05] * 6),
    ({"name": "step", "step_size": 2, "gamma": 0.1}, [0.05, 0.05, 0.005, 0.005, 0.0005, 0.0005]),
    ({"name": "exponential", "gamma": 0.5}, [0.05 * 0.5**e for e in range(6)]),
    ({"name": "cosine", "warmup_epochs": 2},
     [0.025, 0.05] + [0.5 * 0.05 * (1 + math.cos(math.pi * k / 4)) for k in range(4)]),
])
def test_history_csv_lr_column_in_a_real_run(tmp_path, schedule, want):
    cfg = {"name": "lr", "seed": 1, "model": {"layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "linear"}]},
           "training": {"epochs": 6, "batch_size": 16, "loss": "mse",
                        "optimizer": {"name": "sgd", "learning_rate": 0.05}, "schedule": schedule}}
    nncli.train(cfg, data=_regression_data(), out=tmp_path / "run")
    rows = _history_csv(tmp_path / "run")
    np.testing.assert_allclose([float(r["lr"]) for r in rows], want, rtol=1e-12)


def test_history_csv_lr_column_follows_reduce_on_plateau(tmp_path):
    """A real run: replay the plateau rule by hand over history's own monitored column and compare
    the lr column; the optimizer ends at the last lr (the Trainer sets it each epoch)."""
    data = _regression_data(80)
    cfg = config_from_dict({"name": "plateau", "seed": 0, "data": {"validation_split": 0.25},
                            "model": {"layers": [{"units": 8, "activation": "tanh"}, {"units": 1, "activation": "linear"}]},
                            "training": {"epochs": 40, "batch_size": 20, "loss": "mse",
                                         "optimizer": {"name": "sgd", "learning_rate": 0.3, "momentum": 0.9},
                                         "schedule": {"name": "reduce_on_plateau", "monitor": "val_loss",
                                                      "factor": 0.5, "patience": 2, "min_lr": 0.01}}})
    run = nncli.train(cfg, data=data, out=tmp_path / "run")
    rows = _history_csv(tmp_path / "run")
    got = [float(r["lr"]) for r in rows]
    lr, best, wait, want = 0.3, None, 0, []
    for r in rows:
        want.append(lr)
        v = float(r["val_loss"])
        if best is None or v < best:
            best, wait = v, 0
        else:
            wait += 1
            if wait >= 2:
                lr, wait = max(0.01, lr * 0.5), 0
    assert got == pytest.approx(want, rel=1e-12)
    assert min(got) < 0.3, "the plateau schedule never reduced η in this run; the test proves nothing"
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs_run"] == 40
    assert run.history.columns["lr"] == got


# ------------------------------------------------------------------ new activations and losses
@pytest.mark.parametrize("name", ["gelu", "elu", "softplus", "silu"])
def test_new_activation_derivative_matches_finite_differences(name):
    act = activations.get(name)
    z = np.concatenate([np.linspace(-6, 6, 61), [-1e-3, 1e-3, -20.0, 20.0]])[None, :]
    a = act.forward(z.copy(), np.empty_like(z))
    d = act.backward(z.copy(), a.copy(), np.ones_like(z))
    eps = 1e-6
    fplus = act.forward(z + eps, np.empty_like(z))
    fminus = act.forward(z - eps, np.empty_like(z))
    mask = np.abs(z) > 1e-2 if name == "elu" else np.ones_like(z, bool)  # elu has a kink-free but C¹-only join at 0
    np.testing.assert_allclose(d[mask], ((fplus - fminus) / (2 * eps))[mask], rtol=1e-6, atol=1e-8)


def test_new_activation_values_by_hand():
    def f(name, v):
        z = np.array([[v]])
        return float(activations.get(name).forward(z, np.empty_like(z))[0, 0])

    c = math.sqrt(2 / math.pi)
    assert f("gelu", 1.0) == pytest.approx(0.5 * (1 + math.tanh(c * (1 + 0.044715))))
    assert f("elu", -1.0) == pytest.approx(math.exp(-1) - 1)
    assert f("elu", 2.0) == 2.0
    assert f("softplus", 0.0) == pytest.approx(math.log(2))
    assert f("softplus", 50.0) == pytest.approx(50.0)
    assert f("silu", 1.0) == pytest.approx(1 / (1 + math.exp(-1)))


@pytest.mark.parametrize("loss_name,params", [("mae", {}), ("huber", {"delta": 1.0}), ("huber", {"delta": 0.3})])
def test_new_loss_gradient_matches_finite_differences(loss_name, params):
    loss = losses.get(loss_name, **params)
    rng = np.random.default_rng(4)
    a = rng.normal(size=(7, 2)) * 2
    y = rng.normal(size=(7, 2))
    delta = np.empty_like(a)
    loss(a, y, delta)
    eps = 1e-6
    num = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        p, m = a.copy(), a.copy()
        p[idx] += eps
        m[idx] -= eps
        num[idx] = (loss(p, y, np.empty_like(a)) - loss(m, y, np.empty_like(a))) / (2 * eps) / len(a)
    np.testing.assert_allclose(delta, num, rtol=1e-6, atol=1e-9)


def test_mae_and_huber_values_by_hand():
    a = np.array([[0.0], [3.0], [-0.5]])
    y = np.array([[1.0], [0.0], [0.0]])
    d = np.empty_like(a)
    assert losses.get("mae")(a, y, d) == pytest.approx(1 + 3 + 0.5)
    # huber δ=1: |r|=1 → ½; |r|=3 → 1·(3 − ½) = 2.5; |r|=0.5 → ⅛
    assert losses.get("huber", delta=1.0)(a, y, d) == pytest.approx(0.5 + 2.5 + 0.125)
    np.testing.assert_allclose(d[:, 0], np.array([-1.0, 1.0, -0.5]) / 3)  # clip(r, −δ, δ)/n


def test_every_new_name_is_in_the_gradient_sweep():
    """tests/test_gradients.py checks every activation × loss pairing by finite differences."""
    from tests.test_gradients import PAIRS

    acts = {a for a, _ in PAIRS}
    used_losses = {l for _, l in PAIRS}
    assert {"gelu", "elu", "softplus", "silu"} <= set(activations.names()) and {"gelu", "elu", "softplus", "silu"} <= acts
    assert {"mae", "huber"} <= used_losses


# ------------------------------------------------------------------ dropout
def test_dropout_mask_rate_and_inverted_scaling():
    p = 0.3
    n, units = 4000, 50
    W = np.eye(units)
    layer = Dense(units, units, "linear", W, np.zeros(units), np.zeros((units, units)), np.zeros(units), dropout=p)
    x = np.random.default_rng(0).uniform(0.5, 2.0, size=(n, units))  # no zeros before dropout
    out = layer.forward(x, training=True, rng=np.random.default_rng(1)).copy()
    dropped = out == 0
    assert dropped.mean() == pytest.approx(p, abs=0.01)  # ±~5σ for 200 000 draws
    np.testing.assert_allclose(out[~dropped], x[~dropped] / (1 - p), rtol=1e-12)  # survivors · 1/(1−p)
    assert out.mean() == pytest.approx(x.mean(), rel=0.01)  # expectation unchanged
    # backward: the same mask and scale on the way back, dL/dW = xᵀ·(G ⊙ mask/(1−p))
    G = np.random.default_rng(2).normal(size=out.shape)
    layer.backward(G.copy())
    np.testing.assert_allclose(layer.dW, x.T @ (G * (~dropped) / (1 - p)), rtol=1e-10)
    # inference: no mask, no scaling
    np.testing.assert_array_equal(layer.forward(x, training=False), x)


def test_dropout_float32_training_runs():
    layer = Dense(3, 3, "relu", np.eye(3, dtype=np.float32), np.zeros(3, np.float32),
                  np.zeros((3, 3), np.float32), np.zeros(3, np.float32), dropout=0.5)
    out = layer.forward(np.ones((100, 3), np.float32), training=True, rng=np.random.default_rng(0))
    assert out.dtype == np.float32 and set(np.unique(out)) == {0.0, 2.0}


DROPOUT_CFG = {
    "name": "drop", "seed": 3, "data": {"validation_split": 0.2},
    "model": {"layers": [{"units": 16, "activation": "relu", "dropout": 0.5},
                         {"units": 16, "activation": "tanh", "dropout": 0.25},
                         {"units": 3, "activation": "softmax"}]},
    "training": {"epochs": 5, "batch_size": 16, "loss": "cross_entropy", "optimizer": {"name": "adam", "learning_rate": 0.01}},
}


def _blobs(n=150, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    return rng.normal(size=(n, 2)) + 2.5 * np.eye(3)[y][:, :2] - 1.0 * (y == 2)[:, None], y


def test_dropout_is_off_at_inference():
    data = _blobs()
    run = nncli.train(DROPOUT_CFG, data=data, out=False)
    net = run.network
    Xs = run.preprocessor.scale_features(data[0], net.dtype)
    state = net.dropout_rng.bit_generator.state
    first = net.predict_output(Xs)
    second = net.predict_output(Xs)
    np.testing.assert_array_equal(first, second)
    assert net.dropout_rng.bit_generator.state == state  # inference draws no random numbers
    # the plain computation a = f(XW + b) with the trained weights, no mask and no 1/(1−p)
    W = [l.W.astype(np.float64) for l in net.layers]
    b = [l.b.astype(np.float64) for l in net.layers]
    h1 = np.maximum(Xs @ W[0] + b[0], 0)
    h2 = np.tanh(h1 @ W[1] + b[1])
    z = h2 @ W[2] + b[2]
    soft = np.exp(z - z.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(first, soft, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(run.predict(data[0]), run.predict(data[0]))
    # the training-mode forward does differ (so dropout is really on while training)
    assert not np.allclose(net.forward(Xs, training=True), first)


def test_dropout_reproducible_from_the_seed():
    data = _blobs()
    a = nncli.train(DROPOUT_CFG, data=data, out=False).network.params
    b = nncli.train(DROPOUT_CFG, data=data, out=False).network.params
    assert a.tobytes() == b.tobytes()
    other = nncli.train({**DROPOUT_CFG, "seed": 4}, data=data, out=False).network.params
    assert not np.array_equal(a, other)


def test_dropout_stream_alone_changes_training():
    """Same init, same shuffle, only the dropout generator differs -> different weights."""
    data = _blobs()
    cfg = config_from_dict(DROPOUT_CFG)
    from nncli.api import build_network
    from nncli.seeding import Stream, rng as seeded_rng

    results = []
    for dropout_seed in (None, 123):
        net = build_network(cfg, 2, seeded_rng(cfg.seed, Stream.INIT))
        tr = Trainer(cfg, net, data[0].astype(np.float32), data[1], n_classes=3)
        if dropout_seed is not None:
            net.dropout_rng = np.random.default_rng(dropout_seed)
        tr.run()
        results.append(net.params.copy())
    assert not np.array_equal(results[0], results[1])


# ------------------------------------------------------------------ clipping
def test_clip_norm_bounds_the_global_gradient_norm_and_keeps_its_direction():
    clip = 0.5
    cfg = make_cfg({"optimizer": {"name": "sgd", "learning_rate": 0.1}, "clip_norm": clip, "epochs": 3})
    net = Network(2, [LayerSpec(1, "linear")], dtype=np.float64)
    net.layers[0].W[:, 0] = W0
    net.layers[0].b[0] = B0
    trainer = Trainer(cfg, net, X.copy(), Y.copy())
    seen = []
    real_step = trainer.optimizer.step

    def spy(params, grads):
        seen.append((params.copy(), grads.copy()))
        real_step(params, grads)

    trainer.optimizer.step = spy
    trainer.run()
    assert len(seen) == 3
    for params, g in seen:
        gw, gb = mse_grad(params[:2], params[2])
        raw = np.array([*gw, gb])
        assert np.linalg.norm(raw) > clip  # these steps needed clipping
        assert np.linalg.norm(g) == pytest.approx(clip, rel=1e-12)
        np.testing.assert_allclose(g, raw * clip / np.linalg.norm(raw), rtol=1e-12)  # same direction


def test_clip_norm_leaves_small_gradients_alone():
    w, b, _ = linear_run({"optimizer": {"name": "sgd", "learning_rate": 0.1}, "clip_norm": 100.0})
    gw, gb = mse_grad(W0, B0)
    check(w, b, W0 - 0.1 * gw, B0 - 0.1 * gb)


# ------------------------------------------------------------------ L1 / L2 on weights only
def test_l2_adds_2_lambda_w_to_weights_only():
    lam, eta = 0.2, 0.1
    gw, gb = mse_grad(W0, B0)
    w, b, tr = linear_run({"optimizer": {"name": "sgd", "learning_rate": eta}, "l2": lam})
    check(w, b, W0 - eta * (gw + 2 * lam * W0), B0 - eta * gb)  # the bias sees no penalty
    r = X @ W0 + B0 - Y[:, 0]
    assert tr.history.train_loss[0] == pytest.approx(np.mean(r * r), rel=1e-12)  # data loss, no λΣw²


def test_l1_adds_lambda_sign_w_to_weights_only():
    lam, eta = 0.2, 0.1
    gw, gb = mse_grad(W0, B0)
    w, b, _ = linear_run({"optimizer": {"name": "sgd", "learning_rate": eta}, "l1": lam})
    check(w, b, W0 - eta * (gw + lam * np.sign(W0)), B0 - eta * gb)


def test_l1_l2_penalties_skip_every_bias_in_a_deeper_network():
    layers = [{"units": 3, "activation": "tanh"}, {"units": 2, "activation": "tanh"}, {"units": 1, "activation": "linear"}]
    start = np.random.default_rng(5).normal(size=2 * 3 + 3 * 2 + 2 * 1 + 3 + 2 + 1)
    after = {}
    for key, reg in (("none", {}), ("both", {"l2": 0.1, "l1": 0.05})):
        cfg = make_cfg({"optimizer": {"name": "sgd", "learning_rate": 0.1}, **reg}, layers)
        net = Network(2, [LayerSpec(3, "tanh"), LayerSpec(2, "tanh"), LayerSpec(1, "linear")], dtype=np.float64)
        net.params[...] = start
        Trainer(cfg, net, X.copy(), Y.copy()).run()
        after[key] = net.params.copy()
    nw = 6 + 6 + 2
    np.testing.assert_allclose(after["none"][:nw] - after["both"][:nw],
                               0.1 * (2 * 0.1 * start[:nw] + 0.05 * np.sign(start[:nw])), rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(after["none"][nw:], after["both"][nw:])


# ------------------------------------------------------------------ class weights
XB = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.5], [0.5, -1.0]])
YB = np.array([0, 1, 1, 1, 0])


def bce_by_hand(w, b, c):
    """(1/n)·Σ c_{yᵢ}·(−yᵢ ln pᵢ − (1−yᵢ) ln(1−pᵢ)), p = σ(x·w + b); and ∂/∂w, ∂/∂b."""
    p = 1 / (1 + np.exp(-(XB @ w + b)))
    ci = c[YB]
    per = -(YB * np.log(p) + (1 - YB) * np.log(1 - p))
    dz = ci * (p - YB) / len(XB)
    return float(np.mean(ci * per)), XB.T @ dz, dz.sum()


def sigmoid_run(class_weight, eta=0.5):
    cfg = make_cfg({"loss": "binary_crossentropy", "class_weight": class_weight,
                    "optimizer": {"name": "sgd", "learning_rate": eta}},
                   [{"units": 1, "activation": "sigmoid"}])
    net = Network(2, [LayerSpec(1, "sigmoid")], dtype=np.float64)
    net.layers[0].W[:, 0] = [0.4, -0.3]
    net.layers[0].b[0] = 0.2
    from nncli.data.prepare import class_weights
    from nncli.data.preprocess import Preprocessor

    pre = Preprocessor(task="classification", features=["a", "b"], targets=["y"], classes=[0, 1])
    cw = class_weights(cfg, pre, YB)
    tr = Trainer(cfg, net, XB.copy(), YB.copy(), class_weights=cw, n_classes=2)
    tr.run()
    return tr, cw, net


@pytest.mark.parametrize("class_weight,c", [
    ("balanced", np.array([5 / (2 * 2), 5 / (2 * 3)])),  # n/(K·n_k): 2 zeros, 3 ones
    ({"0": 3.0}, np.array([3.0, 1.0])),  # unlisted classes get 1
    ({"0": 1.0, "1": 0.25}, np.array([1.0, 0.25])),
])
def test_class_weights_change_the_loss_and_step_as_by_hand(class_weight, c):
    tr, cw, net = sigmoid_run(class_weight)
    np.testing.assert_allclose(cw, c)
    w0, b0 = np.array([0.4, -0.3]), 0.2
    want_loss, gw, gb = bce_by_hand(w0, b0, c)
    plain_loss, _, _ = bce_by_hand(w0, b0, np.ones(2))
    assert tr.history.train_loss[0] == pytest.approx(want_loss, rel=1e-12)
    assert abs(want_loss - plain_loss) > 1e-3
    np.testing.assert_allclose(net.layers[0].W[:, 0], w0 - 0.5 * gw, rtol=1e-12)
    assert net.layers[0].b[0] == pytest.approx(b0 - 0.5 * gb, rel=1e-12)


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_class_weight_mapping_from_yaml_with_int_and_text_labels(tmp_path):
    """YAML reads `{0: 1, 1: 4}` with int keys; CSV labels 0/1 must match them (and text labels too)."""
    rng = np.random.default_rng(0)
    Xc = np.round(rng.normal(size=(40, 2)), 6)  # as written to the CSV
    yc = (Xc[:, 0] > 0.8).astype(int)  # imbalanced
    _write_csv(tmp_path / "d.csv", ["a", "b", "y"], [[f"{p:.6f}", f"{q:.6f}", t] for (p, q), t in zip(Xc, yc)])
    _write_csv(tmp_path / "t.csv", ["a", "b", "y"],
               [[f"{p:.6f}", f"{q:.6f}", "cat" if t else "dog"] for (p, q), t in zip(Xc, yc)])
    base = ("data: {path: %s, target: y, scaling: none}\n"
            "model: {layers: [{units: 1, activation: sigmoid}]}\n"
            "training: {epochs: 1, batch_size: full, shuffle: false, loss: binary_crossentropy, dtype: float64,\n"
            "           optimizer: {name: sgd, learning_rate: 0.1}, class_weight: %s}\n")
    from nncli.api import build_network
    from nncli.seeding import Stream, rng as seeded_rng

    for name, csv_name, mapping, c in (("ints", "d.csv", "{0: 1, 1: 4}", {0: 1.0, 1: 4.0}),
                                       ("floats", "d.csv", "{1.0: 4}", {0: 1.0, 1: 4.0}),
                                       ("text", "t.csv", "{cat: 4}", {0: 4.0, 1: 1.0})):  # classes sorted: cat, dog
        (tmp_path / f"{name}.yaml").write_text(base % (csv_name, mapping))
        cfg = load_config(tmp_path / f"{name}.yaml")
        w0 = build_network(cfg, 2, seeded_rng(cfg.seed, Stream.INIT)).layers[0]
        run = nncli.train(cfg, out=False)
        labels = (1 - yc) if name == "text" else yc  # class index: cat (yc=1) → 0, dog → 1
        p = 1 / (1 + np.exp(-(Xc @ w0.W[:, 0] + w0.b[0])))
        per = -(labels * np.log(p) + (1 - labels) * np.log(1 - p))
        weights = np.array([c[k] for k in labels])
        assert run.history.train_loss[0] == pytest.approx(float(np.mean(weights * per)), rel=1e-9), name


def test_class_weight_errors(tmp_path):
    cfg = {"model": {"layers": [{"units": 1, "activation": "sigmoid"}]},
           "training": {"loss": "binary_crossentropy", "batch_size": "full", "class_weight": {"7": 2.0}}}
    with pytest.raises(Exception, match=r"no class '7' in the data \(classes: 0, 1\)"):
        nncli.train(cfg, data=(XB, YB), out=False)
    with pytest.raises(ConfigError, match=r"class_weight\[0\]: must be >= 0"):
        config_from_dict({**cfg, "training": {**cfg["training"], "class_weight": {0: -1.0}}})
    with pytest.raises(ConfigError, match="did you mean 'balanced'"):
        config_from_dict({**cfg, "training": {**cfg["training"], "class_weight": "balance"}})


def test_validation_loss_is_not_class_weighted():
    """history's val_loss (like metrics.json's validation loss) is the plain loss, as in Keras."""
    cfg = {"seed": 0, "data": {"validation_split": 0.4},
           "model": {"layers": [{"units": 1, "activation": "sigmoid"}]},
           "training": {"epochs": 3, "batch_size": 4, "loss": "binary_crossentropy", "class_weight": {"1": 9.0}}}
    Xv, yv = _blobs(60)[0], (_blobs(60)[1] > 0).astype(int)
    run = nncli.train(cfg, data=(Xv, yv), out=False)
    assert run.history.val_loss[-1] == pytest.approx(run.metrics["validation"]["loss"], rel=1e-6)


# ------------------------------------------------------------------ per-epoch metrics
def test_metrics_are_configurable_and_land_in_history_csv(tmp_path):
    Xr, yr = _regression_data(80)
    cfg = {"name": "m", "seed": 0, "data": {"validation_split": 0.25},
           "model": {"layers": [{"units": 8, "activation": "tanh"}, {"units": 1, "activation": "linear"}]},
           "training": {"epochs": 3, "batch_size": 20, "loss": "huber", "metrics": ["mae", "r2"]}}
    run = nncli.train(cfg, data=(Xr, yr), out=tmp_path / "run")
    header = (tmp_path / "run" / "history.csv").read_text().splitlines()[0].split(",")
    assert header == ["epoch", "train_loss", "train_mae", "train_r2", "val_loss", "val_mae", "val_r2", "lr", "seconds"]
    # the last row's val metrics are those of the final weights, computed by hand here
    Xs = run.preprocessor.scale_features(Xr, run.network.dtype)
    from nncli.data.prepare import split_indices
    from nncli.seeding import Stream, rng as seeded_rng

    _, val_rows, _ = split_indices(len(Xr), [0.25, 0.0], seeded_rng(0, Stream.SPLIT))
    pred = run.network.predict_output(Xs[val_rows])[:, 0].astype(np.float64)
    truth = yr[val_rows]
    last = _history_csv(tmp_path / "run")[-1]
    assert float(last["val_mae"]) == pytest.approx(np.mean(np.abs(pred - truth)), rel=1e-5)
    r2 = 1 - np.sum((truth - pred) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert float(last["val_r2"]) == pytest.approx(r2, rel=1e-5)


def test_classification_metrics_choice_and_none():
    data = _blobs()
    run = nncli.train({**DROPOUT_CFG, "training": {**DROPOUT_CFG["training"], "metrics": ["f1"], "epochs": 2}},
                      data=data, out=False)
    assert list(run.history.columns) == ["epoch", "train_loss", "train_f1", "val_loss", "val_f1", "lr", "seconds"]
    run = nncli.train({**DROPOUT_CFG, "training": {**DROPOUT_CFG["training"], "metrics": [], "epochs": 2}},
                      data=data, out=False)
    assert list(run.history.columns) == ["epoch", "train_loss", "val_loss", "lr", "seconds"]


@pytest.mark.parametrize("training,message", [
    ({"metrics": ["acuracy"]}, "did you mean 'accuracy'"),
    ({"metrics": ["r2"]}, "'r2' does not fit a classification loss"),
    ({"optimizer": {"name": "adamww"}}, "did you mean 'adamw'"),
    ({"optimizer": {"name": "rmsprop", "rho": 1.5}}, "training.optimizer.rho"),
    ({"schedule": {"name": "cosin"}}, "did you mean 'cosine'"),
    ({"schedule": {"name": "step", "step_sise": 3}}, "did you mean 'step_size'"),
    ({"schedule": {"name": "reduce_on_plateau", "monitor": "val_los"}}, "did you mean 'val_loss'"),
    ({"clip_norm": 0}, "training.clip_norm: must be > 0"),
    ({"l2": -0.1}, "training.l2: must be >= 0"),
    ({"batch_size": 0}, "training.batch_size: must be > 0"),
    ({"batch_size": "ful"}, "did you mean 'full'"),
    ({"loss": {"name": "huber", "delta": -1}}, "training.loss.delta: must be > 0"),
])
def test_control_config_errors_name_the_place_and_the_fix(training, message):
    cfg = {"data": {"validation_split": 0.2},
           "model": {"layers": [{"units": 4, "activation": "relu", "dropout": 0.2}, {"units": 3, "activation": "softmax"}]},
           "training": {"loss": "cross_entropy", **training}}
    with pytest.raises(ConfigError) as exc:
        config_from_dict(cfg)
    assert message in str(exc.value)


@pytest.mark.parametrize("layer,message", [
    ({"units": 4, "activation": "gleu"}, "did you mean 'gelu'"),
    ({"units": 4, "activation": "relu", "initializer": "he_unifrom"}, "did you mean 'he_uniform'"),
    ({"units": 4, "activation": "relu", "dropout": 1.0}, "dropout: must be < 1"),
])
def test_layer_control_config_errors(layer, message):
    cfg = {"model": {"layers": [layer, {"units": 3, "activation": "softmax"}]}, "training": {"loss": "cross_entropy"}}
    with pytest.raises(ConfigError) as exc:
        config_from_dict(cfg)
    assert message in str(exc.value)


# ------------------------------------------------------------------ the shipped spirals config
def test_spirals_config_reaches_095_validation_accuracy(cli, root, tmp_path):
    cfg = load_config(root / "configs" / "spirals.yaml")
    assert cfg.data.generator.name == "spirals" and cfg.data.generator.classes == 3
    assert cfg.training.optimizer.name == "adamw" and cfg.training.schedule.name == "cosine"
    assert all(l.dropout > 0 for l in cfg.model.layers[:-1])
    result = cli("train", root / "configs" / "spirals.yaml", "--out", tmp_path / "spirals")
    assert result.returncode == 0, result.stderr
    assert "val_accuracy" in result.stdout  # the tracked metrics are in the live progress
    metrics = json.loads((tmp_path / "spirals" / "metrics.json").read_text())
    assert metrics["validation"]["accuracy"] >= 0.95
    rows = _history_csv(tmp_path / "spirals")
    E, W, eta = cfg.training.epochs, cfg.training.schedule.warmup_epochs, cfg.training.optimizer.learning_rate
    want = [eta * (e + 1) / W if e < W else 0.5 * eta * (1 + math.cos(math.pi * (e - W) / (E - W))) for e in range(E)]
    np.testing.assert_allclose([float(r["lr"]) for r in rows], want, rtol=1e-12)
