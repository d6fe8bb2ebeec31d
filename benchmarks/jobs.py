"""The benchmark jobs, described once, engine-neutrally, plus their synthetic data.

Every engine (nncli, scikit-learn, PyTorch, the GEMM floor) reads the same ``Job`` so the math
cannot drift apart: same layer sizes, activations, loss, optimizer, batch size, epochs and data.
Data generation is deterministic (seeded) and never timed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

# Name nncli uses for the identity output activation of a regression net.
LINEAR = "linear"


@dataclass(frozen=True)
class Job:
    name: str
    n_samples: int
    n_features: int
    layers: tuple[tuple[int, str], ...]  # (units, activation) per dense layer, output last
    loss: str  # nncli loss name: cross_entropy | binary_crossentropy | mse
    optimizer: dict = field(default_factory=dict)  # nncli optimizer dict: name, learning_rate, ...
    epochs: int = 1
    batch_size: int = 32
    seed: int = 0

    @property
    def classification(self) -> bool:
        return self.loss in ("cross_entropy", "binary_crossentropy")

    @property
    def sizes(self) -> list[int]:
        """Layer widths including the input: e.g. [784, 256, 128, 10]."""
        return [self.n_features] + [u for u, _ in self.layers]

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_samples // self.batch_size)

    def with_(self, **kw) -> "Job":
        return replace(self, **kw)


def big(n_samples: int = 20000, width: tuple[int, int] = (256, 128), epochs: int = 3) -> Job:
    return Job(
        name="big",
        n_samples=n_samples,
        n_features=784,
        layers=((width[0], "relu"), (width[1], "relu"), (10, "softmax")),
        loss="cross_entropy",
        optimizer={"name": "adam", "learning_rate": 1e-3},
        epochs=epochs,
        batch_size=128,
    )


def small(epochs: int = 50) -> Job:
    return Job(
        name="small",
        n_samples=2000,
        n_features=2,
        layers=((16, "tanh"), (16, "tanh"), (1, "sigmoid")),
        loss="binary_crossentropy",
        optimizer={"name": "sgd", "learning_rate": 0.1, "momentum": 0.0},
        epochs=epochs,
        batch_size=32,
    )


def regression(n_samples: int = 50000, epochs: int = 5) -> Job:
    return Job(
        name="regression",
        n_samples=n_samples,
        n_features=32,
        layers=((256, "relu"), (256, "relu"), (1, LINEAR)),
        loss="mse",
        optimizer={"name": "sgd", "learning_rate": 0.01, "momentum": 0.9},
        epochs=epochs,
        batch_size=256,
    )


def tanh(n_samples: int = 20000, epochs: int = 5) -> Job:
    """A deeper tanh net with small batches: per-step overhead (Python, elementwise passes) counts."""
    return Job(
        name="tanh",
        n_samples=n_samples,
        n_features=64,
        layers=((128, "tanh"), (128, "tanh"), (128, "tanh"), (5, "softmax")),
        loss="cross_entropy",
        optimizer={"name": "adam", "learning_rate": 1e-3},
        epochs=epochs,
        batch_size=64,
    )


JOBS = {"big": big, "small": small, "regression": regression, "tanh": tanh}


def make_data(job: Job) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic float32 data for ``job``: X (n, d); y int labels (n,) or float (n, 1)."""
    rng = np.random.default_rng(1234 + job.n_features)
    n, d = job.n_samples, job.n_features
    if job.name == "small":
        X = rng.uniform(-1.0, 1.0, size=(n, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
        return X.astype(np.float32), y
    if job.loss == "cross_entropy":
        # 10 classes from a fixed random linear teacher plus Gumbel noise (softmax sampling),
        # so the task is learnable but not separable: losses stay comparable, not ~0.
        k = job.layers[-1][0]
        teacher = rng.standard_normal((d, k)) * (3.0 / np.sqrt(d))
        X = rng.standard_normal((n, d), dtype=np.float32)
        logits = X @ teacher.astype(np.float32) + rng.gumbel(size=(n, k)).astype(np.float32)
        return X, logits.argmax(axis=1).astype(np.int64)
    # regression: a smooth nonlinear teacher plus noise, target standardised to unit variance
    A = rng.standard_normal((d, 16)) / np.sqrt(d)
    b = rng.standard_normal(16) / np.sqrt(16)
    X = rng.standard_normal((n, d))
    y = np.tanh(2.0 * X @ A) @ b + 0.1 * rng.standard_normal(n)
    y = (y - y.mean()) / y.std()
    return X.astype(np.float32), y.reshape(-1, 1).astype(np.float32)


def nncli_config(job: Job) -> dict:
    """The nncli config dict (CONTRACT.md) for ``job``; data is passed in memory."""
    opt = dict(job.optimizer)
    if opt.get("name") == "sgd" and not opt.get("momentum"):
        opt.pop("momentum", None)  # plain SGD: rely on nncli's default (no momentum)
    return {
        "name": f"bench-{job.name}",
        "seed": job.seed,
        "model": {"layers": [{"units": u, "activation": a} for u, a in job.layers]},
        "training": {
            "epochs": job.epochs,
            "batch_size": job.batch_size,
            "loss": job.loss,
            "optimizer": opt,
        },
        "data": {"scaling": "none", "validation_split": 0.0},
    }
