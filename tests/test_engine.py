"""One tiny step computed by hand, and the pieces of the engine on their own."""

import numpy as np
import pytest

from nncli.nn import activations, optimizers
from nncli.nn.network import LayerSpec, Network


def test_dense_forward_is_f_of_xw_plus_b():
    net = Network(2, [LayerSpec(2, "relu")], dtype=np.float64)
    net.layers[0].W[...] = [[1.0, -1.0], [2.0, 0.5]]
    net.layers[0].b[...] = [0.5, -1.0]
    out = net.forward(np.array([[1.0, 1.0], [-1.0, 2.0]]))
    # z = XW + b = [[3.5, -1.5], [3.5, 1]] -> relu
    np.testing.assert_allclose(out, [[3.5, 0.0], [3.5, 1.0]])


def test_one_gradient_descent_step_by_hand():
    # ŷ = w·x + b, L = mean (ŷ - y)²; with w=0, b=0, x=[1, 2], y=[3, 5]:
    # ∂L/∂w = mean 2(ŷ-y)x = (2·-3·1 + 2·-5·2)/2 = -13; ∂L/∂b = (2·-3 + 2·-5)/2 = -8
    # η = 0.1: w ← 0 − 0.1·(−13) = 1.3 ; b ← 0.8
    from nncli.nn import losses

    net = Network(1, [LayerSpec(1, "linear")], dtype=np.float64)
    X = np.array([[1.0], [2.0]])
    y = np.array([[3.0], [5.0]])
    out = net.forward(X, training=True)
    delta = np.empty_like(out)
    total = losses.get("mse")(out, y, delta)
    assert total / 2 == pytest.approx((9 + 25) / 2)
    net.backward(delta, fused=False)
    np.testing.assert_allclose(net.grads, [-13.0, -8.0])
    opt = optimizers.get("sgd", net.n_params, learning_rate=0.1, dtype=np.float64)
    opt.step(net.params, net.grads)
    np.testing.assert_allclose(net.params, [1.3, 0.8])


def test_flat_buffer_layout_weights_then_biases():
    net = Network(3, [LayerSpec(4, "tanh"), LayerSpec(2, "softmax")])
    assert net.n_weights == 3 * 4 + 4 * 2
    assert net.n_params == net.n_weights + 4 + 2
    net.layers[1].b[...] = 7
    assert np.all(net.params[net.n_weights + 4:] == 7)
    assert net.layers[0].W.base is not None and np.shares_memory(net.layers[0].W, net.params)


@pytest.mark.parametrize("name", activations.names())
def test_activation_forward_in_place_matches_out_of_place(name):
    act = activations.get(name)
    z = np.random.default_rng(0).normal(size=(5, 4)) * 3
    expected = act.forward(z.copy(), np.empty_like(z))
    zz = z.copy()
    got = act.forward(zz, zz)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_sigmoid_is_stable_for_large_inputs():
    z = np.array([[-1000.0, 0.0, 1000.0]], dtype=np.float32)
    a = activations.get("sigmoid").forward(z, np.empty_like(z))
    np.testing.assert_allclose(a, [[0.0, 0.5, 1.0]])
    assert np.all(np.isfinite(a))


def test_initializer_defaults_follow_activation():
    rng = np.random.default_rng(0)
    net = Network(1000, [LayerSpec(200, "relu"), LayerSpec(200, "tanh")], dtype=np.float64, rng=rng)
    # he_uniform: var = 2/fan_in; glorot_uniform: var = 2/(fan_in+fan_out)
    assert net.layers[0].W.var() == pytest.approx(2 / 1000, rel=0.05)
    assert net.layers[1].W.var() == pytest.approx(2 / 400, rel=0.05)
    assert np.all(net.layers[0].b == 0)
