"""The config: pydantic models (strict: an unknown key is an error) and loading them: positioned
YAML (load.py), --set overrides (overrides.py), then the checks across fields (checks.py).

Allowed names (activations, losses, optimizers, initializers, schedules, generators) come from the
same registries the engine uses, so a typo fails here, before any NumPy runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

from .load import load_yaml, source_from_data
from .messages import format_validation_error, position_prefix
from .overrides import apply_overrides
from .checks import check_config
from ..errors import ConfigError
from ..data.generators import GeneratorParams
from ..nn import activations, initializers, losses, optimizers, schedules

ActivationName = Literal[activations.names()]  # type: ignore[valid-type]
InitializerName = Literal[initializers.names()]  # type: ignore[valid-type]
LossName = Literal[losses.names()]  # type: ignore[valid-type]

CLASSIFICATION_LOSSES = frozenset(n for n, cls in losses.REGISTRY.items() if cls.task == "classification")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _label_keys(value: Any) -> Any:
    """class_weight keys are labels as they appear in the data: YAML reads `{0: 1, 1: 5}` with int
    keys, so turn numbers into the text the data's labels compare by (1.0 -> '1')."""
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if isinstance(k, float) and k.is_integer():
            k = int(k)
        out[k if isinstance(k, str) else str(k)] = v
    return out


def _name_shorthand(value: Any) -> Any:
    """Allow `optimizer: adam` for `optimizer: {name: adam}` (as Keras accepts a string)."""
    return {"name": value} if isinstance(value, str) else value


def _default_name(default: str):
    """`optimizer: {learning_rate: 0.01}` (or --set training.optimizer.learning_rate=0.01 on a config
    without an optimizer) keeps the default's name, so only the keys given change."""

    def fill(value: Any) -> Any:
        value = _name_shorthand(value)
        if isinstance(value, dict) and "name" not in value:
            return {"name": default, **value}
        return value

    return fill


# ---------------------------------------------------------------- model
def _initializer_text() -> str:
    """Each initializer's distribution and which activations default to it, from the registries."""
    by_default: dict[str, list[str]] = {}
    for act, cls in activations.REGISTRY.items():
        by_default.setdefault(cls.default_initializer, []).append(act)
    kinds = "; ".join(f"{n}: {cls.formula}" for n, cls in initializers.REGISTRY.items())
    defaults = "; ".join(f"{init} for {', '.join(acts)}" for init, acts in by_default.items())
    return f"Weight initializer: {kinds}. Default by activation: {defaults}. Biases start at 0."


class LayerConfig(Strict):
    units: int = Field(gt=0, description="Number of neurons in the layer (its output width).")
    activation: ActivationName = Field(description="Activation f in a = f(XW + b): " + "; ".join(
        f"{n}: {cls.formula}" for n, cls in activations.REGISTRY.items()) + ".")
    dropout: float = Field(0.0, ge=0, lt=1, description="p: while training, each output unit is zeroed with probability p and the rest "
                                                        "scaled by 1/(1−p) (inverted dropout, seeded from seed); off in predict and evaluate. Hidden layers only.")
    initializer: InitializerName | None = Field(None, description=_initializer_text())


class ModelConfig(Strict):
    layers: list[LayerConfig] = Field(min_length=1, description="Dense layers, input to output; the last is the output layer.")


# ---------------------------------------------------------------- optimizers (discriminated on name)
# Each model's docstring is its optimizer's formula and each default its optimizer's own
# (nn/optimizers.py): written once, there.
_SGD, _ADAM, _ADAMW = optimizers.defaults("sgd"), optimizers.defaults("adam"), optimizers.defaults("adamw")
_RMSPROP, _ADAGRAD = optimizers.defaults("rmsprop"), optimizers.defaults("adagrad")


class SGDConfig(Strict):
    __doc__ = optimizers.REGISTRY.get("sgd").formula

    name: Literal["sgd"]
    learning_rate: float = Field(_SGD["learning_rate"], gt=0, description="η, the step size in w ← w − η·g (g = ∂L/∂w); a schedule starts from it.")
    momentum: float = Field(_SGD["momentum"], ge=0, lt=1, description="μ: v ← μ·v − η·g, w ← w + v; 0 is plain gradient descent.")
    nesterov: bool = Field(_SGD["nesterov"], description="Nesterov's look-ahead momentum: w ← w + μ·v − η·g (after v ← μ·v − η·g).")


class AdamConfig(Strict):
    __doc__ = optimizers.REGISTRY.get("adam").formula

    name: Literal["adam"]
    learning_rate: float = Field(_ADAM["learning_rate"], gt=0, description="η, the step size; a schedule starts from it.")
    beta1: float = Field(_ADAM["beta1"], ge=0, lt=1, description="β₁, decay of the running mean of gradients: m ← β₁·m + (1−β₁)·g.")
    beta2: float = Field(_ADAM["beta2"], ge=0, lt=1, description="β₂, decay of the running mean of squared gradients: v ← β₂·v + (1−β₂)·g².")
    epsilon: float = Field(_ADAM["epsilon"], gt=0, description="ε in w ← w − η·m̂/(√v̂ + ε); keeps the step finite where v̂ ≈ 0.")


class AdamWConfig(AdamConfig):
    __doc__ = optimizers.REGISTRY.get("adamw").formula

    name: Literal["adamw"]  # type: ignore[assignment]
    weight_decay: float = Field(_ADAMW["weight_decay"], ge=0, description="Decoupled decay λ: w ← w − η·λ·w before each Adam step, on weights only (not biases); not added to the loss or to g.")


class RMSpropConfig(Strict):
    __doc__ = optimizers.REGISTRY.get("rmsprop").formula

    name: Literal["rmsprop"]
    learning_rate: float = Field(_RMSPROP["learning_rate"], gt=0, description="η, the step size; a schedule starts from it.")
    rho: float = Field(_RMSPROP["rho"], ge=0, lt=1, description="ρ, decay of the running mean of squared gradients: s ← ρ·s + (1−ρ)·g².")
    epsilon: float = Field(_RMSPROP["epsilon"], gt=0, description="ε in w ← w − η·g/(√s + ε).")


class AdagradConfig(Strict):
    __doc__ = optimizers.REGISTRY.get("adagrad").formula

    name: Literal["adagrad"]
    learning_rate: float = Field(_ADAGRAD["learning_rate"], gt=0, description="η, the step size; a schedule starts from it.")
    epsilon: float = Field(_ADAGRAD["epsilon"], gt=0, description="ε in w ← w − η·g/(√G + ε), G the running sum of g².")


OptimizerConfig = Annotated[
    Union[SGDConfig, AdamConfig, AdamWConfig, RMSpropConfig, AdagradConfig],
    Field(discriminator="name"),
    BeforeValidator(_default_name("adam")),
]


# ---------------------------------------------------------------- schedules (discriminated on name)
_STEP, _EXP, _COSINE = schedules.defaults("step"), schedules.defaults("exponential"), schedules.defaults("cosine")
_PLATEAU = schedules.defaults("reduce_on_plateau")


class ConstantSchedule(Strict):
    __doc__ = schedules.REGISTRY.get("constant").formula + " (e counts from 0; history.csv's epoch column from 1)"

    name: Literal["constant"]


class StepSchedule(Strict):
    __doc__ = schedules.REGISTRY.get("step").formula

    name: Literal["step"]
    step_size: int = Field(_STEP["step_size"], gt=0, description="Multiply η by gamma every step_size epochs: η_e = η·γ^⌊e/step_size⌋ (e from 0).")
    gamma: float = Field(_STEP["gamma"], gt=0, le=1, description="γ, the factor applied every step_size epochs.")


class ExponentialSchedule(Strict):
    __doc__ = schedules.REGISTRY.get("exponential").formula

    name: Literal["exponential"]
    gamma: float = Field(_EXP["gamma"], gt=0, le=1, description="γ in η_e = η·γ^e (e counts epochs from 0).")


class CosineSchedule(Strict):
    __doc__ = schedules.REGISTRY.get("cosine").formula

    name: Literal["cosine"]
    warmup_epochs: int = Field(_COSINE["warmup_epochs"], ge=0, description="W: epochs of linear warmup η·(e+1)/W before the cosine decay (0: none).")
    min_lr: float = Field(_COSINE["min_lr"], ge=0, description="The floor the cosine decays towards: η_e = min_lr + ½(η − min_lr)(1 + cos(π(e − W)/(E − W))), E = epochs.")


class PlateauSchedule(Strict):
    __doc__ = schedules.REGISTRY.get("reduce_on_plateau").formula

    name: Literal["reduce_on_plateau"]
    monitor: str = Field(_PLATEAU["monitor"], description="A history column to watch, e.g. val_loss, train_loss, val_accuracy; "
                                                 "losses and mae/mse must fall, accuracy/f1/r2 must rise.")
    factor: float = Field(_PLATEAU["factor"], gt=0, lt=1, description="η ← max(min_lr, factor·η) when the monitor has not improved for patience epochs.")
    patience: int = Field(_PLATEAU["patience"], ge=0, description="Epochs in a row without improvement before η is reduced (the count then restarts).")
    min_lr: float = Field(_PLATEAU["min_lr"], ge=0, description="η is never reduced below this.")
    min_delta: float = Field(_PLATEAU["min_delta"], ge=0, description="An improvement must beat the best value so far by more than this.")


ScheduleConfig = Annotated[
    Union[ConstantSchedule, StepSchedule, ExponentialSchedule, CosineSchedule, PlateauSchedule],
    Field(discriminator="name"),
    BeforeValidator(_default_name("constant")),
]


# ---------------------------------------------------------------- losses
class PlainLoss(Strict):
    name: Literal[tuple(n for n in losses.names() if n != "huber")]  # type: ignore[valid-type]


class HuberLoss(Strict):
    name: Literal["huber"]
    delta: float = Field(losses.defaults("huber")["delta"], gt=0, description="δ, where the loss turns from quadratic to linear: ½r² for |r| ≤ δ, δ(|r| − ½δ) beyond (r = ŷ − y).")


LossConfig = Annotated[Union[PlainLoss, HuberLoss], Field(discriminator="name"), BeforeValidator(_name_shorthand)]


class EarlyStoppingConfig(Strict):
    monitor: str = Field("val_loss", description="A history column to watch.")
    patience: int = Field(10, ge=0, description="Epochs without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as an improvement.")
    restore_best: bool = Field(True, description="Keep the weights of the best epoch, not the last.")


class TrainingConfig(Strict):
    epochs: int = Field(100, gt=0, description="Passes over the training data.")
    batch_size: Union[Annotated[int, Field(gt=0)], Literal["full"]] = Field(
        32, description="Samples per gradient step (the last batch of an epoch may be smaller), or 'full': one step "
                        "per epoch on the whole training set — plain gradient descent w ← w − η·∂L/∂w."
    )
    shuffle: bool = Field(True, description="Reshuffle the training data every epoch.")
    loss: LossConfig = Field(description="A name or {name: huber, delta: 1.0}: " + "; ".join(
        f"{n}: {cls.formula}" for n, cls in losses.REGISTRY.items()) + ".")
    optimizer: OptimizerConfig = Field(
        default_factory=lambda: AdamConfig(name="adam"),
        description=f"{', '.join(optimizers.names())}, with its settings; a mapping without name is adam.",
    )
    schedule: ScheduleConfig = Field(
        default_factory=lambda: ConstantSchedule(name="constant"),
        description=f"Learning-rate schedule over epochs: {', '.join(schedules.names())}.",
    )
    l2: float = Field(0.0, ge=0, description="λ₂ of the L2 penalty λ₂·Σw²: adds 2λ₂·w to each weight's gradient every step "
                                             "(weights only, not biases; not included in history's train_loss).")
    l1: float = Field(0.0, ge=0, description="λ₁ of the L1 penalty λ₁·Σ|w|: adds λ₁·sign(w) to each weight's gradient every step "
                                             "(weights only, not biases; not included in history's train_loss).")
    clip_norm: float | None = Field(None, gt=0, description="c: when the global norm ‖g‖ = √(Σ g²) over all weights and biases exceeds c, "
                                                             "g ← g·c/‖g‖ before the optimizer step (direction kept).")
    class_weight: Union[Literal["balanced"], Annotated[dict[str, Annotated[float, Field(ge=0)]], BeforeValidator(_label_keys)], None] = Field(
        None, description="Per-class loss weights c_y for classification: the training loss becomes (1/n)·Σᵢ c_{yᵢ}·Lᵢ. "
                          "'balanced': c_k = n/(K·n_k) (n training rows, K classes, n_k rows of class k); or a mapping "
                          "label -> weight (labels as in the data, e.g. {0: 1, 1: 5}; classes not listed get 1)."
    )
    metrics: list[Literal["accuracy", "f1", "mae", "mse", "r2"]] | None = Field(
        None, description="Metrics tracked per epoch, as train_<m> and val_<m> columns of history.csv and in the progress "
                          "line: accuracy, f1 (macro) for classification; mae, mse, r2 for regression. Default accuracy "
                          "(classification) or r2 (regression); [] tracks none."
    )
    early_stopping: EarlyStoppingConfig | None = Field(None, description="Stop when the monitored value stops improving.")
    checkpoint_every: int | None = Field(
        None, ge=1, description="Save a resumable checkpoint every N epochs; default: after the first epoch, then at most once every 30 seconds."
    )
    dtype: Literal["float32", "float64"] = Field("float32", description="Floating point type of the network.")

    def batch_size_for(self, n_samples: int) -> int:
        return n_samples if self.batch_size == "full" else min(int(self.batch_size), n_samples)


# ---------------------------------------------------------------- data and output
class DataConfig(Strict):
    path: str | None = Field(None, description="CSV (with header), .npy (with y_path) or .npz (arrays X and y); relative to the config file.")
    y_path: str | None = Field(None, description="Targets as .npy, when path is an .npy of features.")
    target: Union[str, list[str], None] = Field(None, description="Target column (list of columns for multi-output regression).")
    features: list[str] | None = Field(None, description="Feature columns; default all columns but the target.")
    generator: GeneratorParams | None = Field(None, description="A built-in dataset instead of a file.")
    validation: str | None = Field(None, description="A separate validation file (same columns).")
    test: str | None = Field(None, description="A separate test file (same columns).")
    validation_split: float = Field(0.0, ge=0, lt=1, description="Fraction held out for validation (seeded, stratified).")
    test_split: float = Field(0.0, ge=0, lt=1, description="Fraction held out for testing (seeded, stratified).")
    scaling: Literal["standardize", "minmax", "none"] = Field("standardize", description="Feature scaling fitted on the training part only.")
    encode: Literal["onehot", "none"] = Field("none", description="onehot: one-hot encode string feature columns.")
    missing: Literal["error", "drop", "mean"] = Field("error", description="What to do with empty cells.")


class OutputConfig(Strict):
    dir: str | None = Field(None, description="Run directory; default runs/<name> beside the config's working directory.")


class Config(Strict):
    name: str = Field("run", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Run name.")
    seed: int = Field(0, ge=0, description="Drives initialization, shuffling, splitting and dropout.")
    data: DataConfig = Field(default_factory=DataConfig, description="Where the examples come from and how they are prepared.")
    model: ModelConfig = Field(description="The network: a stack of dense layers.")
    training: TrainingConfig = Field(description="Loss, optimizer and the training loop.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Where the run directory goes.")

    _source: Any = PrivateAttr(None)
    _base_dir: Path = PrivateAttr(default_factory=Path)
    _overrides: tuple[str, ...] = PrivateAttr(())
    _warnings: list[str] = PrivateAttr(default_factory=list)

    # -- derived facts
    @property
    def task(self) -> str:
        return "classification" if self.training.loss.name in CLASSIFICATION_LOSSES else "regression"

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def overrides(self) -> tuple[str, ...]:
        return self._overrides

    @property
    def warnings(self) -> list[str]:
        return self._warnings

    @property
    def source_path(self) -> str:
        return self._source.path if self._source is not None else "<config>"

    def metrics_tracked(self) -> list[str]:
        if self.training.metrics is not None:
            return list(self.training.metrics)
        return ["accuracy"] if self.task == "classification" else ["r2"]

    def resolve_path(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self._base_dir / p

    def output_dir(self) -> Path:
        return Path(self.output.dir) if self.output.dir else Path("runs") / self.name

    def where(self, *path: Any) -> str:
        """'FILE:LINE:COL' (or the --set text) of a value, for messages from later checks."""
        if self._source is None:
            return self.source_path
        return position_prefix(self._source, tuple(path))

    def resolved(self) -> dict:
        """Every key with its default filled in, as plain data (what config.yaml in a run holds)."""
        return self.model_dump(mode="json")

    def effective(self) -> dict:
        """What training will use, for people to read (``nncli config``): :meth:`resolved` with the
        defaults that depend on other keys written out -- the metrics of the task, each layer's
        initializer (its activation's default), the run directory -- and the keys that are unset
        (null: the feature is off or not used) left out.  Loading it gives the same training."""
        data = self.resolved()
        data["training"]["metrics"] = self.metrics_tracked()
        for layer, out in zip(self.model.layers, data["model"]["layers"]):
            if out["initializer"] is None:
                out["initializer"] = activations.REGISTRY.get(layer.activation).default_initializer
        data["output"]["dir"] = self.output_dir().as_posix()
        return _without_nulls(data)


def _without_nulls(value: Any) -> Any:
    """Mappings without their None values, at any depth (lists keep their items)."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


# ---------------------------------------------------------------- loading
def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read, validate and cross-check a YAML config. Raises ConfigError listing every problem."""
    source = load_yaml(str(path))
    return _from_source(source, Path(path).parent, overrides)


def config_from_dict(data: dict, *, base_dir: str | Path = ".", overrides=(), display: str = "<config>") -> Config:
    return _from_source(source_from_data(data, display), Path(base_dir), overrides)


def _from_source(source, base_dir: Path, overrides) -> Config:
    if overrides:
        source = apply_overrides(source, list(overrides))
    if not isinstance(source.data, dict):
        raise ConfigError(f"{source.path}:1:1: the config must be a mapping of keys (name, data, model, training, ...)")
    try:
        cfg = Config.model_validate(source.data, strict=True)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source, Config)) from None
    cfg._source, cfg._base_dir, cfg._overrides = source, base_dir, tuple(str(o) for o in overrides)
    errors, warnings = check_config(cfg)
    if errors:
        raise ConfigError(errors)
    cfg._warnings = warnings
    return cfg
