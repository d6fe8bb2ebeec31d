"""Loss functions L(ŷ, y) with their gradients, averaged over the batch.

Every loss returns the *sum* of per-sample losses (float64, so an epoch's total accumulates without
a Python float per batch) and writes the gradient of the *batch mean* into ``delta``.

Classification targets are integer class indices, shape (n_samples,). Regression targets are
floats, shape (n_samples, n_outputs). ``weights`` (n_samples,) are per-sample weights (class
weights); the batch loss is then mean(wᵢ·Lᵢ), as in Keras.

Fusion. cross_entropy after softmax and binary_crossentropy after sigmoid are computed together
with their activation, so ``delta`` is dL/dz = (ŷ - y)/n directly: the activation's own derivative
is never multiplied in (it would cancel). With a ``linear`` output the same losses take logits and
apply softmax/sigmoid themselves; the delta is the same ŷ - y.
"""

from __future__ import annotations

import numpy as np

from ._registry import Registry, Setting, defaults as _defaults

REGISTRY: Registry["Loss"] = Registry("loss", ("formula", "gradient", "kinked"))


def get(name: str, **params) -> "Loss":
    return REGISTRY.get(name)(**params)


def names() -> tuple[str, ...]:
    return REGISTRY.names()


def defaults(name: str) -> dict:
    """A loss's settings and their defaults (huber: delta), from its __init__."""
    return _defaults(REGISTRY.get(name))


class Loss:
    """Every registered loss states, in its own class body, ``formula`` (L over a batch of n, in
    `nncli explain`'s notation: ŷ the output, y the target, k the outputs per sample), ``gradient``
    (how ∂L/∂ŷ, or the fused ∂L/∂z, is formed) and ``kinked`` (True when ∂L/∂ŷ jumps where ŷ = y:
    `nncli gradcheck` then skips entries whose ±ε moves an output across it)."""

    name = "?"
    formula: str
    gradient: str
    kinked: bool
    task = "regression"
    #: output activations this loss fuses with (delta is then dL/dz, not dL/da)
    fused_activations: frozenset[str] = frozenset()
    #: output activations this loss accepts at all (None: any)
    allowed_activations: frozenset[str] | None = None
    #: config settings beyond the name (huber: delta); defaults in __init__ (see _registry.Setting)
    settings: dict[str, Setting] = {}

    def __call__(self, a, y, delta, weights=None, output_activation: str = "linear") -> np.float64:
        """Loss sum over the batch; writes dL/da (or dL/dz when fused) of the batch mean into delta."""
        raise NotImplementedError

    def prepare_targets(self, y: np.ndarray, dtype) -> np.ndarray:
        """Targets in the form __call__ wants, converted once per training run, not per batch."""
        return y

    def fuses_with(self, output_activation: str) -> bool:
        return output_activation in self.fused_activations

    def probabilities(self, a: np.ndarray, output_activation: str) -> np.ndarray:
        """Class probabilities from the network output (classification losses only)."""
        raise NotImplementedError


def _batch_mean(delta: np.ndarray, factor: float, per_sample: np.ndarray, weights) -> np.float64:
    """The tail every loss shares: scale dL/dŷ (in ``delta``) by ``factor`` to the batch mean, weight
    each sample's row, and return the weighted sum of per-sample losses."""
    delta *= factor
    if weights is not None:
        delta *= weights[:, None]
    return _weighted_sum(per_sample, weights)


def _weighted_sum(per_sample: np.ndarray, weights) -> np.float64:
    if weights is None:
        return per_sample.sum(dtype=np.float64)
    return np.dot(per_sample.astype(np.float64, copy=False), weights)


@REGISTRY.register("mse")
class MSE(Loss):
    """Mean squared error."""

    formula = "L = (1/n)·Σ mean_k (ŷ − y)²"
    gradient = "∂L/∂ŷ = 2(ŷ − y)/(n·k)"
    kinked = False

    def __call__(self, a, y, delta, weights=None, output_activation="linear"):
        n, k = a.shape
        np.subtract(a, y, out=delta)
        per_sample = np.einsum("ij,ij->i", delta, delta) / k
        return _batch_mean(delta, 2.0 / (n * k), per_sample, weights)


@REGISTRY.register("mae")
class MAE(Loss):
    """Mean absolute error."""

    formula = "L = (1/n)·Σ mean_k |ŷ − y|"
    gradient = "∂L/∂ŷ = sign(ŷ − y)/(n·k)"
    kinked = True

    def __call__(self, a, y, delta, weights=None, output_activation="linear"):
        n, k = a.shape
        np.subtract(a, y, out=delta)
        per_sample = np.abs(delta).sum(axis=1) / k
        np.sign(delta, out=delta)
        return _batch_mean(delta, 1.0 / (n * k), per_sample, weights)


@REGISTRY.register("huber")
class Huber(Loss):
    """Huber loss with threshold δ: quadratic near the target, linear (robust to outliers) far
    from it; its derivative is continuous at r = 0 and at |r| = δ."""

    formula = "L = (1/n)·Σ mean_k huber_δ(ŷ − y)   (½r² for |r| ≤ δ, δ(|r| − ½δ) beyond)"
    gradient = "∂L/∂ŷ = clip(ŷ − y, −δ, δ)/(n·k)"
    kinked = False
    settings = {"delta": Setting("δ, where the loss turns from quadratic to linear: ½r² for |r| ≤ δ, δ(|r| − ½δ) "
                                 "beyond (r = ŷ − y).", gt=0)}

    def __init__(self, delta: float = 1.0):
        self.delta = float(delta)

    def __call__(self, a, y, delta, weights=None, output_activation="linear"):
        n, k = a.shape
        d = self.delta
        np.subtract(a, y, out=delta)
        r = np.abs(delta)
        per_element = np.where(r <= d, 0.5 * r * r, d * (r - 0.5 * d))
        per_sample = per_element.sum(axis=1) / k
        np.clip(delta, -d, d, out=delta)
        return _batch_mean(delta, 1.0 / (n * k), per_sample, weights)


@REGISTRY.register("binary_crossentropy")
class BinaryCrossEntropy(Loss):
    """For one sigmoid unit, y ∈ {0, 1}. Fused with sigmoid: ∂L/∂z = ŷ − y. With a linear output
    z is a logit and L = softplus(z) − y·z, computed without overflow.
    """

    formula = "L = −(1/n)·Σ [y·ln ŷ + (1 − y)·ln(1 − ŷ)]"
    gradient = "∂L/∂z = (ŷ − y)/n"
    kinked = False

    task = "classification"
    fused_activations = frozenset({"sigmoid", "linear"})
    allowed_activations = frozenset({"sigmoid", "linear"})

    def prepare_targets(self, y: np.ndarray, dtype) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(y).reshape(len(y), 1), dtype=dtype)

    def __call__(self, a, y, delta, weights=None, output_activation="sigmoid"):
        n = a.shape[0]
        target = y if (y.ndim == 2 and y.dtype == a.dtype) else self.prepare_targets(y, a.dtype)
        if output_activation == "linear":
            # logits: L = ln(1 + e^z) - y z, stable through logaddexp
            per_sample = (np.logaddexp(0, a) - target * a)[:, 0]
            np.subtract(np.reciprocal(1.0 + np.exp(-np.clip(a, -88, 88))), target, out=delta)
        else:
            # With y ∈ {0, 1} the probability given to the true class is 1 − |ŷ − y|, so
            # L = −ln(1 − |ŷ − y|); clamped so a saturated sigmoid gives a large, finite loss.
            np.subtract(a, target, out=delta)  # fused: dL/dz = ŷ - y
            miss = np.abs(delta)
            np.minimum(miss, 1 - np.finfo(a.dtype).eps, out=miss)
            np.negative(miss, out=miss)
            per_sample = np.log1p(miss, out=miss)[:, 0]
            np.negative(per_sample, out=per_sample)
        return _batch_mean(delta, 1.0 / n, per_sample, weights)

    def probabilities(self, a, output_activation):
        p1 = a[:, 0] if output_activation == "sigmoid" else 1.0 / (1.0 + np.exp(-np.clip(a[:, 0], -88, 88)))
        return np.stack([1.0 - p1, p1], axis=1)


@REGISTRY.register("cross_entropy")
class CrossEntropy(Loss):
    """Categorical cross-entropy over K classes with integer labels.

    Fused with softmax: ∂L/∂z = ŷ − onehot(y) — the softmax Jacobian and the log's 1/ŷ cancel, which
    is both cheaper and numerically stable. With a linear output z are logits and the softmax is
    taken here (log-sum-exp with the row maximum subtracted).
    """

    formula = "L = −(1/n)·Σ ln ŷ_y   (ŷ_y: the probability given to the true class)"
    gradient = "∂L/∂z = (ŷ − onehot(y))/n"
    kinked = False

    task = "classification"
    fused_activations = frozenset({"softmax", "linear"})
    allowed_activations = frozenset({"softmax", "linear"})

    def __init__(self):
        self._rows: dict[int, np.ndarray] = {}

    def __call__(self, a, y, delta, weights=None, output_activation="softmax"):
        n = a.shape[0]
        rows = self._rows.get(n)
        if rows is None:
            rows = self._rows[n] = np.arange(n)
        if output_activation == "linear":
            # logits: L = log Σ_k e^{z_k} − z_y, exact even where softmax underflows
            zmax = a.max(axis=1, keepdims=True)
            np.subtract(a, zmax, out=delta)
            np.exp(delta, out=delta)
            sums = delta.sum(axis=1, keepdims=True)
            delta /= sums
            per_sample = (np.log(sums) + zmax)[:, 0] - a[rows, y]
        else:
            np.copyto(delta, a)
            # ŷ_y may underflow to 0 in float32 only when the loss is already ~87: clip at the
            # smallest normal number so the loss stays finite.
            per_sample = -np.log(np.maximum(delta[rows, y], np.finfo(delta.dtype).tiny))
        delta[rows, y] -= 1.0  # fused: dL/dz = ŷ - onehot(y)
        return _batch_mean(delta, 1.0 / n, per_sample, weights)

    def probabilities(self, a, output_activation):
        if output_activation == "softmax":
            return a
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
