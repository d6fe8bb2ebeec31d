"""Activation functions a = f(z), each with its derivative beside it.

Like scikit-learn's ACTIVATIONS/DERIVATIVES, the derivative is written from the cached *output*
``a`` wherever the math allows (tanh: 1 - a², sigmoid: a(1 - a), relu: a > 0), so a layer need not
keep z. Activations that need z (gelu, silu) say so with ``needs_z = True``.

Shapes: z, a, grad are all (n_samples, units). ``forward`` may write into ``out`` (which may be z
itself); ``backward`` turns dL/da (``grad``, overwritten in place) into dL/dz and returns it.
"""

from __future__ import annotations

import math

import numpy as np

from ._registry import Registry

REGISTRY: Registry["Activation"] = Registry("activation", ("formula", "derivative", "default_initializer", "kinked"))


def get(name: str) -> "Activation":
    return REGISTRY.get(name)()


def names() -> tuple[str, ...]:
    return REGISTRY.names()


class Activation:
    """Every registered activation states, in its own class body:

    formula              a = f(z), as `nncli explain` prints it and docs/config.md lists it
    derivative           f'(z), as `nncli explain` prints it
    default_initializer  the weight initializer a layer with this activation gets by default
                         (He for the ReLU family: it keeps the activations' variance steady when
                         about half the units are zero; Glorot otherwise)
    kinked               True when f' jumps at z = 0 (where a > 0 exactly when z > 0): `nncli
                         gradcheck` then skips entries whose ±ε moves a unit across the kink
    """

    name = "?"
    needs_z = False  # True when backward needs the pre-activation z, not just a = f(z)
    formula: str
    derivative: str
    default_initializer: str
    kinked: bool

    def forward(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, z: np.ndarray | None, a: np.ndarray, grad: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@REGISTRY.register("linear")
class Linear(Activation):
    """The identity: regression outputs, logits."""

    formula, derivative = "a = z", "f'(z) = 1"
    default_initializer, kinked = "glorot_uniform", False

    def forward(self, z, out):
        if out is not z:
            np.copyto(out, z)
        return out

    def backward(self, z, a, grad):
        return grad


@REGISTRY.register("sigmoid")
class Sigmoid(Activation):
    """A probability in (0, 1)."""

    formula, derivative = "a = 1/(1 + e^−z)", "f'(z) = a(1 − a)"
    default_initializer, kinked = "glorot_uniform", False

    def forward(self, z, out):
        # σ(z) = ½(1 + tanh(z/2)): the same function, with no e^-z to overflow and no branches.
        np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out *= 0.5
        out += 0.5
        return out

    def backward(self, z, a, grad):
        d = np.subtract(1.0, a)  # one temporary, not two; (1 - a)·a is the same number as a·(1 - a)
        d *= a
        grad *= d
        return grad


@REGISTRY.register("tanh")
class Tanh(Activation):
    """Zero-centred, in (−1, 1)."""

    formula, derivative = "a = tanh z", "f'(z) = 1 − a²"
    default_initializer, kinked = "glorot_uniform", False

    def forward(self, z, out):
        return np.tanh(z, out=out)

    def backward(self, z, a, grad):
        d = np.multiply(a, a)  # one temporary, not two
        np.subtract(1.0, d, out=d)
        grad *= d
        return grad


@REGISTRY.register("relu")
class ReLU(Activation):
    """Rectified linear unit."""

    formula, derivative = "a = max(0, z)", "f'(z) = 1 where z > 0, else 0"
    default_initializer, kinked = "he_uniform", True

    def forward(self, z, out):
        return np.maximum(z, 0, out=out)

    def backward(self, z, a, grad):
        grad *= a > 0
        return grad


@REGISTRY.register("leaky_relu")
class LeakyReLU(Activation):
    """ReLU with a small slope α = 0.01 below zero (a has the sign of z)."""

    alpha = 0.01
    formula, derivative = "a = z if z > 0 else 0.01·z", "f'(z) = 1 or 0.01"
    default_initializer, kinked = "he_uniform", True

    def forward(self, z, out):
        return np.maximum(z, self.alpha * z, out=out)

    def backward(self, z, a, grad):
        grad *= np.where(a > 0, 1.0, self.alpha).astype(grad.dtype, copy=False)
        return grad


@REGISTRY.register("elu")
class ELU(Activation):
    """Exponential linear unit, α = 1: smooth at 0 (both sides have slope 1)."""

    alpha = 1.0
    formula, derivative = "a = z if z > 0 else e^z − 1", "f'(z) = 1 or a + 1"
    default_initializer, kinked = "he_uniform", False

    def forward(self, z, out):
        negative = z <= 0
        neg = self.alpha * np.expm1(np.minimum(z, 0))
        if out is not z:
            np.copyto(out, z)
        np.copyto(out, neg, where=negative)
        return out

    def backward(self, z, a, grad):
        grad *= np.where(a > 0, 1.0, a + self.alpha).astype(grad.dtype, copy=False)
        return grad


@REGISTRY.register("softplus")
class Softplus(Activation):
    """A smooth ReLU; its derivative σ(z) is computed from the output as 1 − e^−a."""

    formula, derivative = "a = ln(1 + e^z)", "f'(z) = σ(z)"
    default_initializer, kinked = "glorot_uniform", False

    def forward(self, z, out):
        return np.logaddexp(z, 0, out=out)

    def backward(self, z, a, grad):
        grad *= -np.expm1(-a)
        return grad


@REGISTRY.register("silu")
class SiLU(Activation):
    """Also called swish."""

    needs_z = True
    formula, derivative = "a = z·σ(z)", "f'(z) = σ(z)(1 + z(1 − σ(z)))"
    default_initializer, kinked = "he_uniform", False

    def forward(self, z, out):
        s = _sigmoid(z)
        return np.multiply(z, s, out=out)

    def backward(self, z, a, grad):
        s = _sigmoid(z)
        grad *= s * (1.0 + z * (1.0 - s))
        return grad


@REGISTRY.register("gelu")
class GELU(Activation):
    """With the tanh approximation Φ(z) ≈ ½(1 + t), t = tanh(√(2/π)(z + 0.044715 z³)), whose
    derivative is ½(1 + t) + ½z(1 − t²)·√(2/π)(1 + 3·0.044715 z²)."""

    needs_z = True
    formula, derivative = "a = z·Φ(z) (tanh approximation)", "f'(z) = Φ(z) + z·φ(z) (approx.)"
    default_initializer, kinked = "he_uniform", False
    _c = math.sqrt(2.0 / math.pi)

    def forward(self, z, out):
        t = np.tanh(self._c * (z + 0.044715 * z**3))
        return np.multiply(0.5 * z, 1.0 + t, out=out)

    def backward(self, z, a, grad):
        t = np.tanh(self._c * (z + 0.044715 * z**3))
        d = 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * self._c * (1.0 + 3 * 0.044715 * z * z)
        grad *= d
        return grad


@REGISTRY.register("softmax")
class Softmax(Activation):
    """Probabilities over classes, row by row. Backward is the Jacobian-vector product; when
    softmax is the output layer and the loss is cross_entropy, the network skips it and uses the
    fused delta ŷ − y.
    """

    formula, derivative = "a_j = e^{z_j} / Σ_k e^{z_k}", "∂L/∂z = a ⊙ (∂L/∂a − Σ_k a_k ∂L/∂a_k)"
    default_initializer, kinked = "glorot_uniform", False

    def forward(self, z, out):
        # Subtracting the row maximum keeps e^z finite; it cancels in the ratio.
        np.subtract(z, z.max(axis=1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=1, keepdims=True)
        return out

    def backward(self, z, a, grad):
        dot = np.einsum("ij,ij->i", grad, a)[:, None]
        grad -= dot
        grad *= a
        return grad


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    return Sigmoid().forward(z, out)
