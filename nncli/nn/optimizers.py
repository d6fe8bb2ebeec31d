"""Optimizers: each owns its state and exposes ``step(params, grads)`` over the flat buffers.

Notation as in the thread: w are the parameters, g = ∂L/∂w, η the learning rate. Every update is a
handful of vectorized operations over *all* parameters at once (one flat buffer, see network.py).
``decay`` is the slice of the buffer holding weights (not biases) for decoupled weight decay.
"""

from __future__ import annotations

import math

import numpy as np

from ._registry import Registry

REGISTRY: Registry["Optimizer"] = Registry("optimizer")

#: Elements per chunk for multi-pass updates: 128 KiB of float32, so a chunk stays in L2 cache.
CHUNK = 32768


def get(name: str, size: int, **hyper) -> "Optimizer":
    return REGISTRY.get(name)(size, **hyper)


def names() -> tuple[str, ...]:
    return REGISTRY.names()


class Optimizer:
    name = "?"
    _state_arrays: tuple[str, ...] = ()

    def __init__(self, size: int, learning_rate: float, dtype=np.float32):
        self.learning_rate = float(learning_rate)
        self.size, self.dtype = size, np.dtype(dtype)
        self.t = 0  # steps taken
        for key in self._state_arrays:
            setattr(self, key, np.zeros(size, self.dtype))
        self._tmp = np.empty(size, self.dtype)
        self._chunks = [slice(i, min(i + CHUNK, size)) for i in range(0, size, CHUNK)]

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        state = {key: getattr(self, key) for key in self._state_arrays}
        state["t"] = np.array(self.t, np.int64)
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        for key in self._state_arrays:
            getattr(self, key)[...] = state[key]
        self.t = int(state["t"])


@REGISTRY.register("sgd")
class SGD(Optimizer):
    """Gradient descent: w ← w − η·g.

    With momentum μ: v ← μ·v − η·g; w ← w + v. Nesterov looks ahead: w ← w + μ·v − η·g.
    (Velocity includes η, as in scikit-learn; with a constant η this equals PyTorch's form.)
    """

    _state_arrays = ("velocity",)

    def __init__(self, size, learning_rate=0.01, momentum=0.0, nesterov=False, dtype=np.float32):
        super().__init__(size, learning_rate, dtype)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self._mv = np.empty(size, self.dtype) if self.nesterov else None  # μ·v, without a new array per step

    def step(self, params, grads):
        self.t += 1
        lr, mu = self.dtype.type(self.learning_rate), self.dtype.type(self.momentum)
        if mu == 0:
            np.multiply(grads, lr, out=self._tmp)
            params -= self._tmp
            return
        v = self.velocity
        v *= mu
        np.multiply(grads, lr, out=self._tmp)
        v -= self._tmp
        if self.nesterov:
            params += np.multiply(v, mu, out=self._mv)  # μ·v
            params -= self._tmp  # − η·g
        else:
            params += v


@REGISTRY.register("adam")
class Adam(Optimizer):
    """Adam (Kingma & Ba 2015):
    m ← β₁·m + (1−β₁)·g;  v ← β₂·v + (1−β₂)·g²;  m̂ = m/(1−β₁ᵗ);  v̂ = v/(1−β₂ᵗ);
    w ← w − η·m̂/(√v̂ + ε).
    (``m`` and ``v`` are stored divided by (1−β₁) and (1−β₂); see step().)"""

    _state_arrays = ("m", "v")
    decoupled = False

    def __init__(self, size, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 weight_decay=0.0, decay: slice | None = None, dtype=np.float32):
        super().__init__(size, learning_rate, dtype)
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)
        self.weight_decay = float(weight_decay)
        self.decay = decay if decay is not None else slice(None)

    def step(self, params, grads):
        self.t += 1
        b1, b2, t = self.beta1, self.beta2, self.t
        if self.decoupled and self.weight_decay:
            # AdamW: shrink the weights directly, w ← w − η·λ·w, outside the adaptive scaling.
            params[self.decay] *= 1.0 - self.learning_rate * self.weight_decay
        # The state is kept divided by (1−β): m' = m/(1−β₁), v' = v/(1−β₂). Their updates are
        # then m' ← β₁m' + g and v' ← β₂v' + g², two passes fewer than the textbook form, and
        # every constant moves into two scalars:
        #   η·m̂/(√v̂ + ε) = s · m'/(√v' + ε'),  s = η(1−β₁)√(1−β₂ᵗ)/((1−β₁ᵗ)√(1−β₂)),
        #   ε' = ε√(1−β₂ᵗ)/√(1−β₂)  — the same number as PyTorch's Adam, up to float rounding.
        # (math.sqrt, not np.sqrt: a NumPy float64 scalar would drag float32 arrays through float64.)
        root_bc2 = math.sqrt(1.0 - b2**t)
        root_1mb2 = math.sqrt(1.0 - b2)
        eps = self.epsilon * root_bc2 / root_1mb2
        scale = self.learning_rate * (1.0 - b1) * root_bc2 / ((1.0 - b1**t) * root_1mb2)
        m, v, tmp = self.m, self.v, self._tmp
        # Ten passes per chunk, with the chunk still in L2 cache from the pass before: about a
        # quarter faster than passes over the whole buffer.
        for sl in self._chunks:
            mc, vc, tc, gc = m[sl], v[sl], tmp[sl], grads[sl]
            mc *= b1
            mc += gc
            np.multiply(gc, gc, out=tc)  # g²
            vc *= b2
            vc += tc
            np.sqrt(vc, out=tc)
            tc += eps
            np.divide(mc, tc, out=tc)
            tc *= scale
            params[sl] -= tc


@REGISTRY.register("adamw")
class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam plus decoupled weight decay on weights only:
    w ← w − η·λ·w, then the Adam update w ← w − η·m̂/(√v̂ + ε). Default λ = 0.01."""

    decoupled = True

    def __init__(self, size, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 weight_decay=0.01, decay: slice | None = None, dtype=np.float32):
        super().__init__(size, learning_rate, beta1, beta2, epsilon, weight_decay, decay, dtype)


def _adaptive_step(params, grads, acc, tmp, lr: float, eps: float) -> None:
    """w ← w − η·g/(√acc + ε), the step RMSprop and Adagrad share (``tmp`` is scratch)."""
    np.sqrt(acc, out=tmp)
    tmp += eps
    np.divide(grads, tmp, out=tmp)
    tmp *= lr
    params -= tmp


@REGISTRY.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop (Hinton): s ← ρ·s + (1−ρ)·g²;  w ← w − η·g/(√s + ε)."""

    _state_arrays = ("s",)

    def __init__(self, size, learning_rate=0.001, rho=0.9, epsilon=1e-8, dtype=np.float32):
        super().__init__(size, learning_rate, dtype)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def step(self, params, grads):
        self.t += 1
        s, tmp = self.s, self._tmp
        s *= self.rho
        np.multiply(grads, grads, out=tmp)
        tmp *= 1.0 - self.rho
        s += tmp
        _adaptive_step(params, grads, s, tmp, self.learning_rate, self.epsilon)


@REGISTRY.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011): G ← G + g²;  w ← w − η·g/(√G + ε)."""

    _state_arrays = ("G",)

    def __init__(self, size, learning_rate=0.01, epsilon=1e-8, dtype=np.float32):
        super().__init__(size, learning_rate, dtype)
        self.epsilon = float(epsilon)

    def step(self, params, grads):
        self.t += 1
        G, tmp = self.G, self._tmp
        np.multiply(grads, grads, out=tmp)
        G += tmp
        _adaptive_step(params, grads, G, tmp, self.learning_rate, self.epsilon)
