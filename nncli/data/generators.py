"""Built-in seeded synthetic datasets (pure NumPy, vectorized).

Each generator has a pydantic params model (``extra="forbid"``, with a ``name`` literal used as the
discriminator of :data:`GeneratorParams`) and a function ``(params, rng) -> (X, y)``.

Shapes and dtypes returned by :func:`generate`:

* ``X``: float64, shape ``(n_samples, n_features)``
* classification: ``y`` int64 labels ``0..k-1``, shape ``(n_samples,)``
* regression: ``y`` float64, shape ``(n_samples, 1)``

Same params and the same seed give identical arrays. Rows are shuffled with the same ``rng``, so a
split that takes the last rows for validation does not get one class only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

__all__ = [
    "XorParams",
    "LineParams",
    "LinearParams",
    "SineParams",
    "SpiralsParams",
    "MoonsParams",
    "CirclesParams",
    "BlobsParams",
    "GeneratorParams",
    "GeneratorSpec",
    "GENERATORS",
    "generate",
    "get",
    "parse_params",
]


# --------------------------------------------------------------------------- params models


class _Params(BaseModel):
    # extra="forbid" so a typo in a config (e.g. `n_sample`) is an error, not a silent default.
    model_config = ConfigDict(extra="forbid")

    n_samples: int = Field(500, gt=0, description="total number of rows")
    noise: float = Field(0.1, ge=0, description="standard deviation of the Gaussian noise")

    def _min_samples(self, minimum: int, why: str) -> None:
        if self.n_samples < minimum:
            raise ValueError(f"n_samples must be at least {minimum} ({why}), got {self.n_samples}")


class XorParams(_Params):
    """Points scattered around the four corners of the unit square; label = x1 xor x2 of the corner."""

    name: Literal["xor"] = "xor"

    @model_validator(mode="after")
    def _enough(self) -> "XorParams":
        self._min_samples(4, "one point per corner of the square")
        return self


class LineParams(_Params):
    """Regression ``y = slope * x + intercept + noise``, ``x ~ U[low, high]``."""

    name: Literal["line"] = "line"
    slope: float = 3.0
    intercept: float = 2.0
    low: float = -2.0
    high: float = 2.0

    @model_validator(mode="after")
    def _range(self) -> "LineParams":
        if not self.low < self.high:
            raise ValueError(f"low must be less than high, got low={self.low}, high={self.high}")
        return self


class LinearParams(_Params):
    """Regression on several features: ``y = Σ wᵢ·xᵢ + bias + noise``, each ``xᵢ ~ U[low, high]``."""

    name: Literal["linear"] = "linear"
    weights: list[float] = Field(default_factory=lambda: [2.0, -1.0, 0.5], min_length=1,
                                 description="the generating weights wᵢ, one per feature")
    bias: float = 1.0
    low: float = -2.0
    high: float = 2.0

    @model_validator(mode="after")
    def _range(self) -> "LinearParams":
        if not self.low < self.high:
            raise ValueError(f"low must be less than high, got low={self.low}, high={self.high}")
        return self


class SineParams(_Params):
    """Regression ``y = sin(x) + noise``, ``x ~ U[low, high]``."""

    name: Literal["sine"] = "sine"
    low: float = -math.pi
    high: float = math.pi

    @model_validator(mode="after")
    def _range(self) -> "SineParams":
        if not self.low < self.high:
            raise ValueError(f"low must be less than high, got low={self.low}, high={self.high}")
        return self


class SpiralsParams(_Params):
    """``classes`` interleaved spiral arms from the origin out to radius 1 (``n_samples`` in total)."""

    name: Literal["spirals"] = "spirals"
    classes: int = Field(3, ge=2, description="number of arms (= classes)")
    turns: float = Field(1.0, gt=0, description="how many times each arm winds round the origin")

    @model_validator(mode="after")
    def _enough(self) -> "SpiralsParams":
        self._min_samples(self.classes, "at least one point per class")
        return self


class MoonsParams(_Params):
    """Two interleaving half circles, as scikit-learn's ``make_moons``."""

    name: Literal["moons"] = "moons"

    @model_validator(mode="after")
    def _enough(self) -> "MoonsParams":
        self._min_samples(2, "at least one point per class")
        return self


class CirclesParams(_Params):
    """Two concentric circles: class 0 on radius 1, class 1 on radius ``factor``."""

    name: Literal["circles"] = "circles"
    noise: float = Field(0.05, ge=0, description="standard deviation of the Gaussian noise")
    factor: float = Field(0.5, gt=0, lt=1, description="inner radius relative to the outer one")

    @model_validator(mode="after")
    def _enough(self) -> "CirclesParams":
        self._min_samples(2, "at least one point per class")
        return self


class BlobsParams(BaseModel):
    """Isotropic Gaussian blobs, one class per center; centers drawn in ``[-center_box, center_box]``."""

    model_config = ConfigDict(extra="forbid")

    name: Literal["blobs"] = "blobs"
    n_samples: int = Field(500, gt=0, description="total number of rows")
    centers: int = Field(3, ge=2, description="number of blobs (= classes)")
    dimensions: int = Field(2, ge=1, description="number of features")
    spread: float = Field(1.0, gt=0, description="standard deviation of each blob")
    center_box: float = Field(10.0, gt=0, description="centers are uniform in [-center_box, center_box]")

    @model_validator(mode="after")
    def _enough(self) -> "BlobsParams":
        if self.n_samples < self.centers:
            raise ValueError(
                f"n_samples must be at least centers={self.centers} (one point per class), "
                f"got {self.n_samples}"
            )
        return self


# The type of `data.generator` in the config: pydantic picks the model by `name`.
GeneratorParams = Annotated[
    Union[XorParams, LineParams, LinearParams, SineParams, SpiralsParams, MoonsParams, CirclesParams, BlobsParams],
    Field(discriminator="name"),
]

_PARAMS_ADAPTER: TypeAdapter[Any] = TypeAdapter(GeneratorParams)


def parse_params(data: dict[str, Any]) -> BaseModel:
    """Validate a plain dict such as ``{"name": "spirals", "classes": 4}`` into its params model.

    Raises ``pydantic.ValidationError`` on an unknown name, unknown key or bad value.
    """
    return _PARAMS_ADAPTER.validate_python(data)


# --------------------------------------------------------------------------- helpers


def _balanced_labels(n: int, k: int) -> np.ndarray:
    """Labels 0..k-1, shape (n,), int64, each class n // k or n // k + 1 times (first classes get the rest)."""
    counts = n // k + (np.arange(k) < n % k)
    return np.repeat(np.arange(k, dtype=np.int64), counts)


def _shuffle(rng: np.random.Generator, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Generators build rows class by class; shuffle so any contiguous slice holds every class.
    order = rng.permutation(len(X))
    return X[order], y[order]


def _half_split(n: int) -> tuple[int, int]:
    # Same split as scikit-learn: the outer shape gets n // 2, the inner the rest.
    n_out = n // 2
    return n_out, n - n_out


# --------------------------------------------------------------------------- generators


def xor(params: XorParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 2) float64 around the corners (0,0),(0,1),(1,0),(1,1); y (n,) int64 = xor of the corner."""
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)
    corner = _balanced_labels(params.n_samples, 4)  # equal count per corner -> balanced classes
    y = corners[corner, 0] ^ corners[corner, 1]
    X = corners[corner].astype(np.float64) + params.noise * rng.standard_normal((params.n_samples, 2))
    return _shuffle(rng, X, y)


def line(params: LineParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 1) float64 uniform in [low, high]; y (n, 1) float64 = slope * x + intercept + noise."""
    X = rng.uniform(params.low, params.high, size=(params.n_samples, 1))
    y = params.slope * X + params.intercept + params.noise * rng.standard_normal((params.n_samples, 1))
    return X, y


def linear(params: LinearParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n, d) float64 uniform in [low, high], d = len(weights); y (n, 1) float64 = X·w + bias + noise."""
    w = np.asarray(params.weights, dtype=np.float64)
    X = rng.uniform(params.low, params.high, size=(params.n_samples, len(w)))
    y = X @ w[:, None] + params.bias + params.noise * rng.standard_normal((params.n_samples, 1))
    return X, y


def sine(params: SineParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 1) float64 uniform in [low, high]; y (n, 1) float64 = sin(x) + noise."""
    X = rng.uniform(params.low, params.high, size=(params.n_samples, 1))
    y = np.sin(X) + params.noise * rng.standard_normal((params.n_samples, 1))
    return X, y


def spirals(params: SpiralsParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 2) float64 on ``classes`` spiral arms; y (n,) int64 arm index, n // classes per arm (+1 for the first n % classes).

    Along arm k, t runs evenly over [0, 1]: radius = t and
    angle = 2*pi*(turns * t + k / classes), so the arms start evenly rotated and interleave.
    """
    n, k = params.n_samples, params.classes
    y = _balanced_labels(n, k)
    counts = np.bincount(y, minlength=k)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    # Position of each row within its arm, scaled to [0, 1]; max(...,1) keeps a 1-point arm at t=0.
    t = (np.arange(n) - starts[y]) / np.maximum(counts[y] - 1, 1)
    angle = 2 * np.pi * (params.turns * t + y / k)
    X = np.column_stack((t * np.cos(angle), t * np.sin(angle)))
    X = X + params.noise * rng.standard_normal((n, 2))
    return _shuffle(rng, X, y)


def moons(params: MoonsParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 2) float64 on two interleaving half circles; y (n,) int64 (0 upper moon, 1 lower moon).

    Class 0: unit upper half circle centred at (0, 0); class 1: lower half circle centred at (1, 0.5).
    """
    n_out, n_in = _half_split(params.n_samples)
    a_out = np.linspace(0, np.pi, n_out)
    a_in = np.linspace(0, np.pi, n_in)
    X = np.concatenate(
        (
            np.column_stack((np.cos(a_out), np.sin(a_out))),
            np.column_stack((1 - np.cos(a_in), 0.5 - np.sin(a_in))),
        )
    )
    y = np.concatenate((np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)))
    X = X + params.noise * rng.standard_normal(X.shape)
    return _shuffle(rng, X, y)


def circles(params: CirclesParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 2) float64 on two concentric circles; y (n,) int64 (0 radius 1, 1 radius ``factor``)."""
    n_out, n_in = _half_split(params.n_samples)
    # endpoint=False: angle 2*pi would repeat the point at angle 0.
    a_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    a_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate(
        (
            np.column_stack((np.cos(a_out), np.sin(a_out))),
            params.factor * np.column_stack((np.cos(a_in), np.sin(a_in))),
        )
    )
    y = np.concatenate((np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)))
    X = X + params.noise * rng.standard_normal(X.shape)
    return _shuffle(rng, X, y)


def blobs(params: BlobsParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n, dimensions) float64 Gaussian blobs (sd ``spread``); y (n,) int64 blob index, balanced."""
    centers = rng.uniform(-params.center_box, params.center_box, size=(params.centers, params.dimensions))
    y = _balanced_labels(params.n_samples, params.centers)
    X = centers[y] + params.spread * rng.standard_normal((params.n_samples, params.dimensions))
    return _shuffle(rng, X, y)


# --------------------------------------------------------------------------- registry


def _xy(params: Any) -> list[str]:
    return ["x1", "x2"]


def _x(params: Any) -> list[str]:
    return ["x"]


def _linear_names(params: LinearParams) -> list[str]:
    return [f"x{i + 1}" for i in range(len(params.weights))]


def _blob_names(params: BlobsParams) -> list[str]:
    return [f"x{i + 1}" for i in range(params.dimensions)]


@dataclass(frozen=True)
class GeneratorSpec:
    """One registry entry: how to validate, run and describe a generator."""

    params_model: type[BaseModel]
    task: Literal["classification", "regression"]
    function: Callable[[Any, np.random.Generator], tuple[np.ndarray, np.ndarray]]
    feature_names: Callable[[Any], list[str]]  # params -> column names of X
    target_name: str = "y"


GENERATORS: dict[str, GeneratorSpec] = {
    "xor": GeneratorSpec(XorParams, "classification", xor, _xy),
    "line": GeneratorSpec(LineParams, "regression", line, _x),
    "linear": GeneratorSpec(LinearParams, "regression", linear, _linear_names),
    "sine": GeneratorSpec(SineParams, "regression", sine, _x),
    "spirals": GeneratorSpec(SpiralsParams, "classification", spirals, _xy),
    "moons": GeneratorSpec(MoonsParams, "classification", moons, _xy),
    "circles": GeneratorSpec(CirclesParams, "classification", circles, _xy),
    "blobs": GeneratorSpec(BlobsParams, "classification", blobs, _blob_names),
}


def get(name: str) -> GeneratorSpec:
    """The registry entry for ``name``; KeyError naming the known generators if there is none."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise KeyError(
            f"unknown generator {name!r}; known generators: {', '.join(sorted(GENERATORS))}"
        ) from None


def generate(
    params: BaseModel | dict[str, Any], rng: np.random.Generator | int
) -> tuple[np.ndarray, np.ndarray]:
    """Make ``(X, y)`` for ``params`` (a params model, or a dict validated with :func:`parse_params`).

    ``rng`` is a ``numpy.random.Generator`` (consumed) or an int seed.
    Returns X float64 ``(n_samples, n_features)`` and y int64 ``(n_samples,)`` for classification or
    float64 ``(n_samples, 1)`` for regression.
    """
    if isinstance(params, dict):
        params = parse_params(params)
    spec = get(params.name)  # type: ignore[attr-defined]
    if not isinstance(params, spec.params_model):
        raise TypeError(f"expected {spec.params_model.__name__}, got {type(params).__name__}")
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    X, y = spec.function(params, rng)
    return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(
        y, dtype=np.int64 if spec.task == "classification" else np.float64
    )
