"""Optimizers: each owns its state and exposes ``step(params, grads)`` over the flat buffers.

Notation as in the thread: w are the parameters, g = ∂L/∂w, η the learning rate. Every update is a
handful of vectorized operations over *all* parameters at once (one flat buffer, see network.py).
``decay`` is the slice of the buffer holding weights (not biases) for decoupled weight decay.
"""

from __future__ import annotations

import math

import numpy as np

from ._registry import Registry, Setting, defaults as _defaults

REGISTRY: Registry["Optimizer"] = Registry("optimizer", facts=("formula", "settings"))

#: Elements per chunk for multi-pass updates: 128 KiB of float32, so a chunk stays in L2 cache.
CHUNK = 32768


def get(name: str, size: int, **hyper) -> "Optimizer":
    return REGISTRY.get(name)(size, **hyper)


def names() -> tuple[str, ...]:
    return REGISTRY.names()


_LEARNING_RATE = Setting("η, the step size; a schedule starts from it.", gt=0)


def defaults(name: str) -> dict:
    """An optimizer's settings and their defaults (learning_rate, momentum, ...), from its __init__."""
    return _defaults(REGISTRY.get(name), skip=("size", "dtype", "decay"))


class Optimizer:
    """Every registered optimizer states its update ``formula`` in its own class body (g = ∂L/∂w),
    and its settings' defaults once, in its ``__init__`` signature (the config takes them from
    there). ``variant`` and ``update_rule`` name the rule this instance's settings select."""

    name = "?"
    formula: str
    _state_arrays: tuple[str, ...] = ()

    def __init__(self, size: int, learning_rate: float, dtype=np.float32):
        self.learning_rate = float(learning_rate)
        self.size, self.dtype = size, np.dtype(dtype)
        self.t = 0  # steps taken
        for key in self._state_arrays:
            setattr(self, key, np.zeros(size, self.dtype))
        self._tmp = np.empty(size, self.dtype)
        self._chunks = [slice(i, min(i + CHUNK, size)) for i in range(0, size, CHUNK)]

    @property
    def variant(self) -> str:
        return self.name

    @property
    def update_rule(self) -> str:
        return self.formula

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
    """Gradient descent, with optional momentum μ; Nesterov looks ahead. (Velocity includes η, as
    in scikit-learn; with a constant η this equals PyTorch's form.)
    """

    RULES = {
        "sgd": "w_new = w_old − η·∂L/∂w",
        "sgd+momentum": "v ← μ·v − η·∂L/∂w;  w_new = w_old + v",
        "sgd+nesterov": "v ← μ·v − η·∂L/∂w;  w_new = w_old + μ·v − η·∂L/∂w",
    }
    formula = ("w_new = w_old − η·∂L/∂w; with momentum μ: v ← μ·v − η·∂L/∂w, w_new = w_old + v; "
               "with nesterov: w_new = w_old + μ·v − η·∂L/∂w (after the same v)")
    settings = {
        "learning_rate": Setting("η, the step size in w ← w − η·g (g = ∂L/∂w); a schedule starts from it.", gt=0),
        "momentum": Setting("μ: v ← μ·v − η·g, w ← w + v; 0 is plain gradient descent.", ge=0, lt=1),
        "nesterov": Setting("Nesterov's look-ahead momentum: w ← w + μ·v − η·g (after v ← μ·v − η·g)."),
    }
    _state_arrays = ("velocity",)

    def __init__(self, size, learning_rate=0.01, momentum=0.0, nesterov=False, dtype=np.float32):
        super().__init__(size, learning_rate, dtype)
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        self._mv = np.empty(size, self.dtype) if self.nesterov else None  # μ·v, without a new array per step

    @property
    def variant(self) -> str:
        if not self.momentum:
            return "sgd"
        return "sgd+nesterov" if self.nesterov else "sgd+momentum"

    @property
    def update_rule(self) -> str:
        return self.RULES[self.variant]

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
    """Adam (Kingma & Ba 2015).
    (``m`` and ``v`` are stored divided by (1−β₁) and (1−β₂); see step().)"""

    formula = "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w_new = w_old − η·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)"
    settings = {
        "learning_rate": _LEARNING_RATE,
        "beta1": Setting("β₁, decay of the running mean of gradients: m ← β₁·m + (1−β₁)·g.", ge=0, lt=1),
        "beta2": Setting("β₂, decay of the running mean of squared gradients: v ← β₂·v + (1−β₂)·g².", ge=0, lt=1),
        "epsilon": Setting("ε in w ← w − η·m̂/(√v̂ + ε); keeps the step finite where v̂ ≈ 0.", gt=0),
    }
    _state_arrays = ("m", "v")
    decoupled = False

    def __init__(self, size, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8, dtype=np.float32):
        super().__init__(size, learning_rate, dtype)
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)
        self.weight_decay = 0.0
        self.decay = slice(None)

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
    """AdamW (Loshchilov & Hutter 2019): Adam plus decoupled weight decay on weights only."""

    formula = "w ← w − η·λ·w (weights only);  then the adam update w_new = w − η·m̂/(√v̂ + ε)"
    settings = {
        **Adam.settings,
        "weight_decay": Setting("Decoupled decay λ: w ← w − η·λ·w before each Adam step, on weights only (not "
                                "biases); not added to the loss or to g.", ge=0),
    }
    decoupled = True

    def __init__(self, size, weight_decay=0.01, decay: slice | None = None, **adam):
        super().__init__(size, **adam)  # Adam's settings, with Adam's defaults
        self.weight_decay = float(weight_decay)
        self.decay = decay if decay is not None else slice(None)


def _adaptive_step(params, grads, acc, tmp, lr: float, eps: float) -> None:
    """w ← w − η·g/(√acc + ε), the step RMSprop and Adagrad share (``tmp`` is scratch)."""
    np.sqrt(acc, out=tmp)
    tmp += eps
    np.divide(grads, tmp, out=tmp)
    tmp *= lr
    params -= tmp


@REGISTRY.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop (Hinton)."""

    formula = "s ← ρ·s + (1−ρ)·g²;  w_new = w_old − η·g/(√s + ε)"
    settings = {
        "learning_rate": _LEARNING_RATE,
        "rho": Setting("ρ, decay of the running mean of squared gradients: s ← ρ·s + (1−ρ)·g².", ge=0, lt=1),
        "epsilon": Setting("ε in w ← w − η·g/(√s + ε).", gt=0),
    }

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
    """Adagrad (Duchi et al. 2011)."""

    formula = "G ← G + g²;  w_new = w_old − η·g/(√G + ε)"
    settings = {
        "learning_rate": _LEARNING_RATE,
        "epsilon": Setting("ε in w ← w − η·g/(√G + ε), G the running sum of g².", gt=0),
    }

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
