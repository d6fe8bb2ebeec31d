"""Weight initializers: draw a (fan_in, fan_out) matrix from a seeded numpy Generator.

Biases always start at zero. The default for a layer is its activation's ``default_initializer``
(nn/activations.py). Each initializer states its distribution in ``formula``.
"""

from __future__ import annotations

import math

import numpy as np

from ._registry import Registry

REGISTRY: Registry["Initializer"] = Registry("initializer")


def get(name: str) -> "Initializer":
    return REGISTRY.get(name)()


def names() -> tuple[str, ...]:
    return REGISTRY.names()


class Initializer:
    name = "?"
    formula: str  # the distribution W is drawn from

    def __call__(self, fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError


@REGISTRY.register("glorot_uniform")
class GlorotUniform(Initializer):
    """Glorot & Bengio 2010; Keras' default."""

    formula = "U(−l, l), l = √(6/(fan_in + fan_out))"

    def __call__(self, fan_in, fan_out, rng):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))


@REGISTRY.register("glorot_normal")
class GlorotNormal(Initializer):
    """A plain, not truncated, normal."""

    formula = "N(0, σ²), σ = √(2/(fan_in + fan_out))"

    def __call__(self, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))


@REGISTRY.register("he_uniform")
class HeUniform(Initializer):
    """He et al. 2015, for ReLU-family activations."""

    formula = "U(−l, l), l = √(6/fan_in)"

    def __call__(self, fan_in, fan_out, rng):
        limit = math.sqrt(6.0 / fan_in)
        return rng.uniform(-limit, limit, size=(fan_in, fan_out))


@REGISTRY.register("he_normal")
class HeNormal(Initializer):
    """He et al. 2015, normal."""

    formula = "N(0, σ²), σ = √(2/fan_in)"

    def __call__(self, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_in, fan_out))


@REGISTRY.register("lecun_normal")
class LecunNormal(Initializer):
    """LeCun 1998; suits tanh/selu-like units."""

    formula = "N(0, σ²), σ = √(1/fan_in)"

    def __call__(self, fan_in, fan_out, rng):
        return rng.normal(0.0, math.sqrt(1.0 / fan_in), size=(fan_in, fan_out))
