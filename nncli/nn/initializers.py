"""Weight initializers: draw a (fan_in, fan_out) matrix from a seeded numpy Generator.

Biases always start at zero. The default follows the activation: He for the ReLU family (keeps the
variance of activations steady when half the units are zero), Glorot otherwise.
"""

from __future__ import annotations

import math

import numpy as np

from ._registry import Registry

REGISTRY: Registry["Initializer"] = Registry("initializer")

RELU_FAMILY = frozenset({"relu", "leaky_relu", "elu", "gelu", "silu"})


def get(name: str) -> "Initializer":
    return REGISTRY.get(name)()


def names() -> tuple[str, ...]:
    return REGISTRY.names()


def default_for(activation: str) -> str:
    return "he_uniform" if activation in RELU_FAMILY else "glorot_uniform"


class Initializer:
    name = "?"

    def __call__(self, fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


@REGISTRY.register("glorot_uniform")
class GlorotUniform(Initializer):
    """U(-l, l), l = √(6 / (fan_in + fan_out)) (Glorot & Bengio 2010; Keras' default)."""

    def __call__(self, fan_in, fan_out, rng):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))


@REGISTRY.register("glorot_normal")
class GlorotNormal(Initializer):
    """N(0, σ²), σ = √(2 / (fan_in + fan_out)) (a plain, not truncated, normal)."""

    def __call__(self, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


@REGISTRY.register("he_uniform")
class HeUniform(Initializer):
    """U(-l, l), l = √(6 / fan_in) (He et al. 2015, for ReLU-family activations)."""

    def __call__(self, fan_in, fan_out, rng):
        limit = math.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))


@REGISTRY.register("he_normal")
class HeNormal(Initializer):
    """N(0, σ²), σ = √(2 / fan_in)."""

    def __call__(self, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


@REGISTRY.register("lecun_normal")
class LecunNormal(Initializer):
    """N(0, σ²), σ = √(1 / fan_in) (LeCun 1998; suits tanh/selu-like units)."""

    def __call__(self, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=(fan_in, fan_out))
