"""Backpropagation checked against central finite differences, for `nncli gradcheck`.

The configured network is built in float64 with the seed's initialization, and its trainer, as
`nncli train` builds them (api.build_network, Trainer.from_prepared: the same class weights and
targets), and evaluated on a small batch of the real training data with the trainer's own
``forward_loss()`` and ``backward()``. For every parameter θ:

    numerical ∂L/∂θ ≈ (L(θ + ε) − L(θ − ε)) / 2ε        (error O(ε²))

and for each parameter array (each layer's W and b) the relative error

    ‖numerical − backprop‖ / (‖numerical‖ + ‖backprop‖)

is compared with a tolerance. When a gradient is exactly zero (an MAE bias with as many residuals
above as below), the relative error of two numbers at rounding level means nothing: an array
whose every |numerical − backprop| is within the finite differences' rounding error
(≈ 100·machine ε·|L|/ε) passes as "≈ 0". Where a perturbation moves a unit of a kinked activation
across its kink at z = 0 (ReLU; the registry's ``kinked``), or an output of a kinked loss across
ŷ = y (MAE), the derivative is not defined there and finite differences say nothing about
backprop: such entries are skipped and counted. L is the data loss (the batch mean, with class
weights when configured), in inference mode: dropout is off, L1/L2 penalties are not part of
backpropagation. Layers are numbered from 0, as in weights.npz and model.layers[i].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError

DEFAULT_TOLERANCE = 1e-6
DEFAULT_EPSILON = 1e-6
MAX_CHECKED = 2000  # entries per array checked by finite differences (a seeded sample beyond that)


@dataclass
class ArrayCheck:
    layer: int  # 0-based, as in weights.npz
    kind: str  # "weights" or "biases"
    shape: tuple[int, ...]
    checked: int  # entries compared
    skipped: int  # entries whose ±ε straddled a kink (ReLU at z = 0, MAE at ŷ = y)
    error: float  # relative error
    max_abs_diff: float
    norm: float  # ‖backprop gradient‖ over the checked entries
    noise: float = 0.0  # rounding error of one central difference: below it, a difference means nothing
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def at_noise_level(self) -> bool:
        return self.error > self.tolerance and self.max_abs_diff <= self.noise

    @property
    def ok(self) -> bool:
        return self.error <= self.tolerance or self.max_abs_diff <= self.noise

    @property
    def name(self) -> str:
        return f"layer {self.layer} {self.kind}"


@dataclass
class GradcheckResult:
    name: str
    tolerance: float
    epsilon: float
    batch: int
    loss: float
    architecture: str
    loss_name: str
    arrays: list[ArrayCheck] = field(default_factory=list)

    @property
    def worst(self) -> ArrayCheck:
        failing = [a for a in self.arrays if not a.ok]
        return max(failing or [a for a in self.arrays if not a.at_noise_level] or self.arrays, key=lambda a: a.error)

    @property
    def passed(self) -> bool:
        return all(a.ok for a in self.arrays)


def relative_error(numeric: np.ndarray, analytic: np.ndarray) -> float:
    denom = np.linalg.norm(numeric) + np.linalg.norm(analytic)
    if denom == 0:
        return 0.0
    return float(np.linalg.norm(numeric - analytic) / max(denom, 1e-300))


def gradcheck(config, *, tolerance: float = DEFAULT_TOLERANCE, batch: int = 8, epsilon: float = DEFAULT_EPSILON,
              overrides=(), max_checked: int = MAX_CHECKED) -> GradcheckResult:
    from ..api import as_config, build_network
    from ..data.checks import prepare_checked
    from ..seeding import Stream, rng as seeded_rng
    from ..training import Trainer

    if not tolerance > 0:
        raise UsageError(f"--tolerance: must be > 0, got {tolerance}")
    if batch < 1:
        raise UsageError(f"--batch: must be 1 or more, got {batch}")
    cfg = as_config(config, overrides)
    prepared = prepare_checked(cfg)
    # The same config in float64: finite differences need the precision (the initial weights are
    # the same draws, before training's cast to float32).
    cfg = cfg.model_copy(update={"training": cfg.training.model_copy(update={"dtype": "float64"})})
    pre = prepared.preprocessor
    net = build_network(cfg, pre.n_inputs, seeded_rng(cfg.seed, Stream.INIT))
    trainer = Trainer.from_prepared(cfg, net, prepared)
    X, y, weights = trainer.first_rows(batch)
    X = np.asarray(X, dtype=np.float64)
    if y.dtype.kind == "f":
        y = np.asarray(y, dtype=np.float64)
    n = len(X)
    loss = trainer.loss

    L = float(trainer.forward_loss(X, y, weights, training=False)) / n
    trainer.backward()
    analytic = net.grads.copy()

    kinked = [layer for layer in net.layers if layer.activation.kinked]

    def batch_loss() -> tuple[float, bytes]:
        value = float(trainer.forward_loss(X, y, weights, training=False)) / n
        # which side of every kink we are on: a unit on or off (a > 0 exactly when z > 0), the sign of ŷ − y
        sig = b"".join(np.packbits(layer.output > 0).tobytes() for layer in kinked)
        if loss.kinked:
            sig += np.sign(trainer.output - y).astype(np.int8).tobytes()
        return value, sig

    rng = np.random.default_rng(cfg.seed)
    noise = 100 * np.finfo(np.float64).eps * max(abs(L), 1e-3) / epsilon
    result = GradcheckResult(cfg.name, tolerance, epsilon, n, L,
                             " → ".join([str(pre.n_inputs)] + [f"{l.units} {l.activation_name}" for l in net.layers]),
                             loss.name)
    w_off, b_off = 0, net.n_weights
    for i, layer in enumerate(net.layers):
        for kind, size, start in (("weights", layer.W.size, w_off), ("biases", layer.b.size, b_off)):
            idx = np.arange(start, start + size)
            if size > max_checked:
                idx = np.sort(rng.choice(idx, max_checked, replace=False))
            numeric = np.empty(len(idx))
            keep = np.ones(len(idx), bool)
            for j, p in enumerate(idx):
                old = net.params[p]
                net.params[p] = old + epsilon
                plus, sig_plus = batch_loss()
                net.params[p] = old - epsilon
                minus, sig_minus = batch_loss()
                net.params[p] = old
                numeric[j] = (plus - minus) / (2 * epsilon)
                keep[j] = sig_plus == sig_minus
            numeric, a = numeric[keep], analytic[idx][keep]
            result.arrays.append(ArrayCheck(i, kind, layer.W.shape if kind == "weights" else layer.b.shape,
                                            int(keep.sum()), int((~keep).sum()), relative_error(numeric, a),
                                            float(np.max(np.abs(numeric - a))) if len(a) else 0.0,
                                            float(np.linalg.norm(a)), noise, tolerance))
        w_off += layer.W.size
        b_off += layer.b.size
    return result
