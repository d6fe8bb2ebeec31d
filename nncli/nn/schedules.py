"""Learning-rate schedules: the η used in each epoch (epochs count from 0 here, from 1 in history).

``lr(epoch)`` gives η for an epoch before it runs; ``end_epoch(epoch, logs)`` lets reduce_on_plateau
watch a metric. State (for checkpoints) is plain numbers in ``state_dict()``.
"""

from __future__ import annotations

import math

from ..metrics import higher_is_better, improves
from ._registry import Registry, Setting, defaults as _defaults

REGISTRY: Registry["Schedule"] = Registry("schedule", facts=("formula", "settings"))


def get(name: str, base_lr: float, epochs: int, **params) -> "Schedule":
    return REGISTRY.get(name)(base_lr, epochs, **params)


def names() -> tuple[str, ...]:
    return REGISTRY.names()


def defaults(name: str) -> dict:
    """A schedule's settings and their defaults, from its __init__."""
    return _defaults(REGISTRY.get(name), skip=("base_lr", "epochs"))


class Schedule:
    """Every registered schedule states its ``formula`` (η_e, the rate in epoch e, from the
    optimizer's η) in its own class body, and its settings' defaults once, in ``__init__``."""

    name = "?"
    formula: str

    def __init__(self, base_lr: float, epochs: int):
        self.base_lr, self.epochs = float(base_lr), int(epochs)

    def lr(self, epoch: int) -> float:
        raise NotImplementedError

    def end_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


@REGISTRY.register("constant")
class Constant(Schedule):
    formula = "η_e = η in every epoch e"
    settings: dict[str, Setting] = {}

    def lr(self, epoch):
        return self.base_lr


@REGISTRY.register("step")
class Step(Schedule):
    """Multiply by γ every step_size epochs."""

    formula = "η_e = η·γ^⌊e / step_size⌋"
    settings = {
        "step_size": Setting("Multiply η by gamma every step_size epochs: η_e = η·γ^⌊e/step_size⌋ (e from 0).", gt=0),
        "gamma": Setting("γ, the factor applied every step_size epochs.", gt=0, le=1),
    }

    def __init__(self, base_lr, epochs, step_size: int = 10, gamma: float = 0.1):
        super().__init__(base_lr, epochs)
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


@REGISTRY.register("exponential")
class Exponential(Schedule):
    formula = "η_e = η·γ^e"
    settings = {"gamma": Setting("γ in η_e = η·γ^e (e counts epochs from 0).", gt=0, le=1)}

    def __init__(self, base_lr, epochs, gamma: float = 0.95):
        super().__init__(base_lr, epochs)
        self.gamma = float(gamma)

    def lr(self, epoch):
        return self.base_lr * self.gamma**epoch


@REGISTRY.register("cosine")
class Cosine(Schedule):
    """Linear warmup from η/W to η over W = ``warmup_epochs``, then cosine decay to ``min_lr``."""

    formula = ("warmup η_e = η·(e+1)/W for e < W, then η_e = min_lr + ½(η − min_lr)(1 + cos(π(e − W)/(E − W))), "
               "E = epochs")
    settings = {
        "warmup_epochs": Setting("W: epochs of linear warmup η·(e+1)/W before the cosine decay (0: none).", ge=0),
        "min_lr": Setting("The floor the cosine decays towards: η_e = min_lr + ½(η − min_lr)(1 + cos(π(e − W)/(E − W))), "
                          "E = epochs.", ge=0),
    }

    def __init__(self, base_lr, epochs, warmup_epochs: int = 0, min_lr: float = 0.0):
        super().__init__(base_lr, epochs)
        self.warmup, self.min_lr = int(warmup_epochs), float(min_lr)

    def lr(self, epoch):
        if epoch < self.warmup:
            return self.base_lr * (epoch + 1) / self.warmup
        span = max(1, self.epochs - self.warmup)
        progress = min(1.0, (epoch - self.warmup) / span)
        return self.min_lr + 0.5 * (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * progress))


@REGISTRY.register("reduce_on_plateau")
class ReduceOnPlateau(Schedule):
    """Keras' ReduceLROnPlateau: an improvement must beat the best value by more than
    ``min_delta``."""

    formula = "η ← max(min_lr, factor·η) after `patience` epochs in a row without improvement of `monitor`"
    # `mode` (auto/min/max) is the engine's own: the config derives it from the monitor's name
    settings = {
        "monitor": Setting("A history column to watch, e.g. val_loss, train_loss, val_accuracy; losses and mae/mse "
                           "must fall, accuracy/f1/r2 must rise."),
        "factor": Setting("η ← max(min_lr, factor·η) when the monitor has not improved for patience epochs.", gt=0, lt=1),
        "patience": Setting("Epochs in a row without improvement before η is reduced (the count then restarts).", ge=0),
        "min_lr": Setting("η is never reduced below this.", ge=0),
        "min_delta": Setting("An improvement must beat the best value so far by more than this.", ge=0),
    }

    def __init__(self, base_lr, epochs, monitor: str = "val_loss", factor: float = 0.5,
                 patience: int = 5, min_lr: float = 0.0, min_delta: float = 0.0, mode: str = "auto"):
        super().__init__(base_lr, epochs)
        self.monitor, self.factor, self.patience = monitor, float(factor), int(patience)
        self.min_lr, self.min_delta = float(min_lr), float(min_delta)
        self.maximize = mode == "max" or (mode == "auto" and higher_is_better(monitor))
        self.current = self.base_lr
        self.best: float | None = None
        self.wait = 0

    def lr(self, epoch):
        return self.current

    def end_epoch(self, epoch, logs):
        value = logs.get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        if improves(value, self.best, self.min_delta, self.maximize):
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.current = max(self.min_lr, self.current * self.factor)
            self.wait = 0

    def state_dict(self):
        return {"current": self.current, "best": self.best, "wait": self.wait}

    def load_state_dict(self, state):
        self.current, self.best, self.wait = state["current"], state["best"], state["wait"]
