"""Backpropagation against central finite differences, in float64, over every registry entry."""

import itertools

import numpy as np
import pytest

from nncli.nn import activations, losses
from nncli.nn.network import LayerSpec, Network


def numeric_vs_backprop(net: Network, loss, X, y, weights=None, eps=1e-6):
    out = net.forward(X, training=False)
    delta = np.empty_like(out)
    loss(out, y, delta, weights, net.output_activation)
    net.backward(delta, fused=loss.fuses_with(net.output_activation))
    analytic = net.grads.copy()
    numeric = np.empty_like(analytic)
    n = len(X)

    def total():
        o = net.forward(X, training=False)
        return float(loss(o, y, np.empty_like(o), weights, net.output_activation)) / n

    for i in range(net.n_params):
        old = net.params[i]
        net.params[i] = old + eps
        plus = total()
        net.params[i] = old - eps
        minus = total()
        net.params[i] = old
        numeric[i] = (plus - minus) / (2 * eps)
    # The usual gradcheck measure: ‖num − backprop‖ / (‖num‖ + ‖backprop‖)
    err = np.linalg.norm(numeric - analytic) / max(np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-12)
    return err, analytic, numeric


def targets_for(loss_name, n, k, rng):
    if loss_name == "cross_entropy":
        return rng.integers(0, k, n)
    if loss_name == "binary_crossentropy":
        return rng.integers(0, 2, n)
    return rng.normal(size=(n, k))


PAIRS = []
for act, loss_name in itertools.product(activations.names(), losses.names()):
    allowed = losses.REGISTRY.get(loss_name).allowed_activations
    if allowed is None or act in allowed:
        PAIRS.append((act, loss_name))


@pytest.mark.parametrize("hidden", activations.names())
@pytest.mark.parametrize("output,loss_name", [(a, l) for a, l in PAIRS])
def test_gradients_match_finite_differences(hidden, output, loss_name):
    rng = np.random.default_rng(1)
    k = 1 if loss_name == "binary_crossentropy" else 3
    net = Network(4, [LayerSpec(5, hidden), LayerSpec(k, output)], dtype=np.float64, rng=rng)
    net.params[net.n_weights:] = rng.normal(scale=0.1, size=net.n_params - net.n_weights)  # nonzero biases
    X = rng.normal(size=(6, 4))
    y = targets_for(loss_name, 6, k, rng)
    loss = losses.get(loss_name)
    err, analytic, _ = numeric_vs_backprop(net, loss, X, y)
    assert np.abs(analytic).max() > 0
    assert err < 1e-6, f"{hidden}->{output} with {loss_name}: relative error {err:.2e}"


@pytest.mark.parametrize("loss_name", losses.names())
def test_three_layer_network_with_sample_weights(loss_name):
    rng = np.random.default_rng(2)
    k = 1 if loss_name == "binary_crossentropy" else 3
    out_act = {"cross_entropy": "softmax", "binary_crossentropy": "sigmoid"}.get(loss_name, "linear")
    net = Network(3, [LayerSpec(6, "tanh"), LayerSpec(5, "relu"), LayerSpec(k, out_act)], dtype=np.float64, rng=rng)
    X = rng.normal(size=(8, 3))
    y = targets_for(loss_name, 8, k, rng)
    w = rng.uniform(0.5, 2.0, size=8)
    err, _, _ = numeric_vs_backprop(net, losses.get(loss_name), X, y, weights=w)
    assert err < 1e-6


def test_huber_delta_changes_gradient_regime():
    rng = np.random.default_rng(3)
    net = Network(2, [LayerSpec(1, "linear")], dtype=np.float64, rng=rng)
    X = rng.normal(size=(5, 2)) * 10
    y = rng.normal(size=(5, 1)) * 10
    for d in (0.1, 1.0, 100.0):
        err, _, _ = numeric_vs_backprop(net, losses.get("huber", delta=d), X, y)
        assert err < 1e-6


def test_softmax_cross_entropy_fused_delta_is_prediction_minus_onehot():
    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([0, 1])
    delta = np.empty_like(a)
    total = losses.get("cross_entropy")(a, y, delta, None, "softmax")
    assert total == pytest.approx(-np.log(0.7) - np.log(0.1))
    np.testing.assert_allclose(delta, (a - np.eye(3)[y]) / 2)


def test_cross_entropy_stays_finite_for_extreme_logits():
    z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=np.float32)
    delta = np.empty_like(z)
    total = losses.get("cross_entropy")(z, np.array([1, 1]), delta, None, "linear")
    assert np.isfinite(total) and total > 100
    assert np.all(np.isfinite(delta))
