"""The dense layer: a = f(z), z = x·W + b for a whole batch at once.

x is (n_samples, fan_in), W is (fan_in, fan_out), b is (fan_out,), z and a are (n_samples, fan_out).
W and b are *views* into the network's one flat parameter buffer (and dW, db into its flat gradient
buffer), so an optimizer updates every layer with a few vectorized operations.

Forward caches exactly what backward needs: the input x (for dW = xᵀ·δ), the output a (for f'(z)
written from a), z only when the activation needs it, and the dropout mask.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from . import activations


class Dense:
    def __init__(self, fan_in: int, units: int, activation: str, W, b, dW, db, dropout: float = 0.0):
        self.fan_in, self.units = fan_in, units
        self.activation = activations.get(activation)
        self.activation_name = activation
        self.W, self.b, self.dW, self.db = W, b, dW, db
        self.dropout = float(dropout)
        self._buffers: OrderedDict[tuple[int, bool], dict[str, np.ndarray]] = OrderedDict()
        self._dx: dict[int, np.ndarray] = {}
        self._ones: dict[int, np.ndarray] = {}
        self._x = self._z = self._a = self._mask = None
        self.delta: np.ndarray | None = None  # δ = ∂L/∂z of the last backward (a buffer reused per batch)

    # Buffers are allocated once per batch size (steady state: the batch size and the last partial
    # batch), so training does no per-batch allocation for the big arrays.
    def _buffers_for(self, n: int, training: bool) -> dict[str, np.ndarray]:
        key = (n, training)
        bufs = self._buffers.get(key)
        if bufs is None:
            dt = self.W.dtype
            bufs = {"z": np.empty((n, self.units), dt)}
            bufs["a"] = np.empty((n, self.units), dt) if self.activation.needs_z else bufs["z"]
            if training and self.dropout > 0:
                bufs["out"] = np.empty((n, self.units), dt)
                bufs["rand"] = np.empty((n, self.units), dt)
                bufs["mask"] = np.empty((n, self.units), bool)
            self._buffers[key] = bufs
            while len(self._buffers) > 4:
                self._buffers.popitem(last=False)
        return bufs

    def forward(self, x: np.ndarray, training: bool = False, rng: np.random.Generator | None = None) -> np.ndarray:
        bufs = self._buffers_for(x.shape[0], training)
        z = bufs["z"]
        np.dot(x, self.W, out=z)  # np.dot: same BLAS call as matmul, less per-call overhead
        z += self.b
        a = self.activation.forward(z, bufs["a"])
        self._x, self._z, self._a = x, (z if self.activation.needs_z else None), a
        if training and self.dropout > 0:
            # Inverted dropout: zero each unit with probability p and scale the survivors by
            # 1/(1-p), so the expected activation is unchanged and inference needs no rescaling.
            rand, mask, out = bufs["rand"], bufs["mask"], bufs["out"]
            rng.random(dtype=rand.dtype, out=rand)  # float32 or float64, as the layer
            np.greater_equal(rand, self.dropout, out=mask)
            np.multiply(a, mask, out=out)
            out *= 1.0 / (1.0 - self.dropout)
            self._mask = mask
            return out
        self._mask = None
        return a

    @property
    def input(self) -> np.ndarray | None:
        """x (n, fan_in) of the last forward: what this layer received (a reference, not a copy)."""
        return self._x

    @property
    def output(self) -> np.ndarray | None:
        """a = f(z) (n, units) of the last forward, before dropout (a reference, not a copy)."""
        return self._a

    def backward(self, grad: np.ndarray, *, is_dz: bool = False, need_dx: bool = True) -> np.ndarray | None:
        """grad is dL/d(output) (n, units), overwritten in place; ``is_dz`` when it is already dL/dz
        (fused loss). Fills dW, db; returns dL/dx (n, fan_in) or None when not needed."""
        if not is_dz:
            if self._mask is not None:
                grad *= self._mask
                grad *= 1.0 / (1.0 - self.dropout)
            grad = self.activation.backward(self._z, self._a, grad)
        self.delta = grad
        np.dot(self._x.T, grad, out=self.dW)  # dL/dW = xᵀ·δ
        n = grad.shape[0]
        ones = self._ones.get(n)
        if ones is None:
            ones = self._ones[n] = np.ones(n, self.W.dtype)
        np.dot(ones, grad, out=self.db)  # dL/db = Σ_samples δ = 1ᵀ·δ (a BLAS call beats a reduce)
        if not need_dx:
            return None
        dx = self._dx.get(n)
        if dx is None:
            dx = self._dx[n] = np.empty((n, self.fan_in), self.W.dtype)
            while len(self._dx) > 4:
                self._dx.pop(next(iter(self._dx)))
        np.dot(grad, self.W.T, out=dx)  # dL/dx = δ·Wᵀ
        return dx
