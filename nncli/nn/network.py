"""A stack of dense layers over one flat parameter buffer.

Layout of ``params`` (and of ``grads``, which mirrors it): every layer's weight matrix first, in
order, then every bias. The weights are therefore the contiguous slice ``params[:n_weights]``, which
makes L1/L2 penalties and decoupled weight decay (weights only, never biases) one operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import initializers
from .layers import Dense


@dataclass(frozen=True)
class LayerSpec:
    units: int
    activation: str
    dropout: float = 0.0
    initializer: str | None = None


class Network:
    def __init__(self, n_inputs: int, specs: list[LayerSpec], *, dtype=np.float32, rng: np.random.Generator | None = None):
        if not specs:
            raise ValueError("a network needs at least one layer")
        self.n_inputs = int(n_inputs)
        self.specs = list(specs)
        self.dtype = np.dtype(dtype)
        sizes = [self.n_inputs] + [s.units for s in specs]
        shapes = list(zip(sizes[:-1], sizes[1:]))
        self.n_weights = sum(i * o for i, o in shapes)
        self.n_params = self.n_weights + sum(o for _, o in shapes)
        self.params = np.zeros(self.n_params, self.dtype)
        self.grads = np.zeros(self.n_params, self.dtype)
        self.layers: list[Dense] = []
        w_off, b_off = 0, self.n_weights
        for (fan_in, fan_out), spec in zip(shapes, specs):
            w_sl = slice(w_off, w_off + fan_in * fan_out)
            b_sl = slice(b_off, b_off + fan_out)
            self.layers.append(
                Dense(
                    fan_in, fan_out, spec.activation,
                    self.params[w_sl].reshape(fan_in, fan_out), self.params[b_sl],
                    self.grads[w_sl].reshape(fan_in, fan_out), self.grads[b_sl],
                    dropout=spec.dropout,
                )
            )
            w_off, b_off = w_sl.stop, b_sl.stop
        if rng is not None:
            self.initialize(rng)
        self.dropout_rng: np.random.Generator | None = None

    @property
    def output_activation(self) -> str:
        return self.specs[-1].activation

    @property
    def n_outputs(self) -> int:
        return self.specs[-1].units

    def initialize(self, rng: np.random.Generator) -> None:
        """Draw every weight matrix from its initializer (in float64, then cast); biases zero."""
        for layer, spec in zip(self.layers, self.specs):
            init = initializers.get(spec.initializer or layer.activation.default_initializer)
            layer.W[...] = init(layer.fan_in, layer.units, rng)
            layer.b[...] = 0

    def forward(self, X: np.ndarray, training: bool = False) -> np.ndarray:
        """X (n_samples, n_inputs) -> output (n_samples, n_outputs).

        The result is an internal buffer, valid until the next forward with the same batch size and
        ``training`` flag;
        copy it to keep it (``predict_output`` does)."""
        a = X
        for layer in self.layers:
            a = layer.forward(a, training, self.dropout_rng)
        return a

    def backward(self, delta: np.ndarray, *, fused: bool) -> None:
        """Backpropagate dL/d(output) (n_samples, n_outputs) and fill ``grads``.

        ``fused``: delta is already dL/dz of the output layer (softmax+cross-entropy, sigmoid+BCE)."""
        grad = delta
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            grad = self.layers[i].backward(grad, is_dz=fused and i == last, need_dx=i > 0)

    def predict_output(self, X: np.ndarray, chunk: int = 8192) -> np.ndarray:
        """Network output for any number of rows, in chunks, as a new array."""
        X = np.asarray(X, dtype=self.dtype)
        out = np.empty((X.shape[0], self.n_outputs), self.dtype)
        for start in range(0, X.shape[0], chunk):
            out[start:start + chunk] = self.forward(X[start:start + chunk], training=False)
        return out

    # -- weights in and out (the run directory's weights.npz layout) --
    def weights_dict(self) -> dict[str, np.ndarray]:
        out = {}
        for i, layer in enumerate(self.layers):
            out[f"layers.{i}.weight"] = layer.W.copy()
            out[f"layers.{i}.bias"] = layer.b.copy()
        return out

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        for i, layer in enumerate(self.layers):
            layer.W[...] = weights[f"layers.{i}.weight"]
            layer.b[...] = weights[f"layers.{i}.bias"]
