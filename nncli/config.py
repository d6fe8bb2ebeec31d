"""The config: pydantic models (strict: an unknown key is an error), YAML loading that keeps
line:column, --set overrides, and the checks across fields that run before any training.

Allowed names (activations, losses, optimizers, initializers, schedules, generators) come from the
same registries the engine uses, so a typo fails here, before any NumPy runs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError

from . import yamlsource
from .errors import ConfigError
from .generators import GeneratorParams
from .nn import activations, initializers, losses

ActivationName = Literal[activations.names()]  # type: ignore[valid-type]
InitializerName = Literal[initializers.names()]  # type: ignore[valid-type]
LossName = Literal[losses.names()]  # type: ignore[valid-type]

CLASSIFICATION_LOSSES = frozenset(n for n, cls in losses.REGISTRY.items() if cls.task == "classification")
CLASSIFICATION_METRICS = ("accuracy", "f1")
REGRESSION_METRICS = ("mae", "mse", "r2")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _name_shorthand(value: Any) -> Any:
    """Allow `optimizer: adam` for `optimizer: {name: adam}` (as Keras accepts a string)."""
    return {"name": value} if isinstance(value, str) else value


# ---------------------------------------------------------------- model
class LayerConfig(Strict):
    units: int = Field(gt=0, description="Number of neurons in the layer (its output width).")
    activation: ActivationName = Field(description="Activation f in a = f(XW + b).")
    dropout: float = Field(0.0, ge=0, lt=1, description="Inverted-dropout probability, active only while training.")
    initializer: InitializerName | None = Field(
        None, description="Weight initializer; default he_uniform for the ReLU family, glorot_uniform otherwise."
    )


class ModelConfig(Strict):
    layers: list[LayerConfig] = Field(min_length=1, description="Dense layers, input to output; the last is the output layer.")


# ---------------------------------------------------------------- optimizers (discriminated on name)
class SGDConfig(Strict):
    """w ← w − η·g; with momentum μ: v ← μv − ηg, w ← w + v."""

    name: Literal["sgd"]
    learning_rate: float = Field(0.01, gt=0, description="η")
    momentum: float = Field(0.0, ge=0, lt=1, description="μ; 0 is plain gradient descent.")
    nesterov: bool = Field(False, description="Nesterov's look-ahead momentum.")


class AdamConfig(Strict):
    name: Literal["adam"]
    learning_rate: float = Field(0.001, gt=0, description="η")
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    epsilon: float = Field(1e-8, gt=0)


class AdamWConfig(AdamConfig):
    name: Literal["adamw"]  # type: ignore[assignment]
    weight_decay: float = Field(0.01, ge=0, description="Decoupled decay λ: w ← w − ηλw, weights only.")


class RMSpropConfig(Strict):
    name: Literal["rmsprop"]
    learning_rate: float = Field(0.001, gt=0)
    rho: float = Field(0.9, ge=0, lt=1)
    epsilon: float = Field(1e-8, gt=0)


class AdagradConfig(Strict):
    name: Literal["adagrad"]
    learning_rate: float = Field(0.01, gt=0)
    epsilon: float = Field(1e-8, gt=0)


OptimizerConfig = Annotated[
    Union[SGDConfig, AdamConfig, AdamWConfig, RMSpropConfig, AdagradConfig],
    Field(discriminator="name"),
    BeforeValidator(_name_shorthand),
]


# ---------------------------------------------------------------- schedules (discriminated on name)
class ConstantSchedule(Strict):
    name: Literal["constant"]


class StepSchedule(Strict):
    name: Literal["step"]
    step_size: int = Field(10, gt=0, description="Multiply η by gamma every step_size epochs.")
    gamma: float = Field(0.1, gt=0, le=1)


class ExponentialSchedule(Strict):
    name: Literal["exponential"]
    gamma: float = Field(0.95, gt=0, le=1, description="η_e = η·gamma^e")


class CosineSchedule(Strict):
    name: Literal["cosine"]
    warmup_epochs: int = Field(0, ge=0, description="Linear warmup epochs before the cosine decay.")
    min_lr: float = Field(0.0, ge=0)


class PlateauSchedule(Strict):
    name: Literal["reduce_on_plateau"]
    monitor: str = Field("val_loss", description="A history column, e.g. val_loss, train_loss, val_accuracy.")
    factor: float = Field(0.5, gt=0, lt=1)
    patience: int = Field(5, ge=0)
    min_lr: float = Field(0.0, ge=0)
    min_delta: float = Field(0.0, ge=0)


ScheduleConfig = Annotated[
    Union[ConstantSchedule, StepSchedule, ExponentialSchedule, CosineSchedule, PlateauSchedule],
    Field(discriminator="name"),
    BeforeValidator(_name_shorthand),
]


# ---------------------------------------------------------------- losses
class PlainLoss(Strict):
    name: Literal[tuple(n for n in losses.names() if n != "huber")]  # type: ignore[valid-type]


class HuberLoss(Strict):
    name: Literal["huber"]
    delta: float = Field(1.0, gt=0, description="Where the loss turns from quadratic to linear.")


LossConfig = Annotated[Union[PlainLoss, HuberLoss], Field(discriminator="name"), BeforeValidator(_name_shorthand)]


class EarlyStoppingConfig(Strict):
    monitor: str = Field("val_loss", description="A history column to watch.")
    patience: int = Field(10, ge=0, description="Epochs without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as an improvement.")
    restore_best: bool = Field(True, description="Keep the weights of the best epoch, not the last.")


class TrainingConfig(Strict):
    epochs: int = Field(100, gt=0)
    batch_size: Union[int, Literal["full"]] = Field(
        32, description="Samples per gradient step, or 'full' for full-batch gradient descent."
    )
    shuffle: bool = Field(True, description="Reshuffle the training data every epoch.")
    loss: LossConfig = Field(description="mse, mae, huber, binary_crossentropy or cross_entropy.")
    optimizer: OptimizerConfig = Field(default_factory=lambda: AdamConfig(name="adam"))
    schedule: ScheduleConfig = Field(default_factory=lambda: ConstantSchedule(name="constant"))
    l2: float = Field(0.0, ge=0, description="L2 penalty λ·Σw² added to the loss (weights only, not biases).")
    l1: float = Field(0.0, ge=0, description="L1 penalty λ·Σ|w| added to the loss (weights only, not biases).")
    clip_norm: float | None = Field(None, gt=0, description="Rescale the gradient when its global L2 norm exceeds this.")
    class_weight: Union[Literal["balanced"], dict[str, float], None] = Field(
        None, description="'balanced' (n_samples / (n_classes·count)) or a mapping label -> weight."
    )
    metrics: list[Literal["accuracy", "f1", "mae", "mse", "r2"]] | None = Field(
        None, description="Metrics tracked per epoch; default accuracy (classification) or r2 (regression)."
    )
    early_stopping: EarlyStoppingConfig | None = None
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
    data: DataConfig = Field(default_factory=DataConfig)
    model: ModelConfig
    training: TrainingConfig
    output: OutputConfig = Field(default_factory=OutputConfig)

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
        return yamlsource.position_prefix(self._source, tuple(path))

    def resolved(self) -> dict:
        """Every key with its default filled in, as plain data (what config.yaml in a run holds)."""
        return self.model_dump(mode="json")


# ---------------------------------------------------------------- loading
def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read, validate and cross-check a YAML config. Raises ConfigError listing every problem."""
    source = yamlsource.load_yaml(str(path))
    return _from_source(source, Path(path).parent, overrides)


def config_from_dict(data: dict, *, base_dir: str | Path = ".", overrides=(), display: str = "<config>") -> Config:
    return _from_source(yamlsource.source_from_data(data, display), Path(base_dir), overrides)


def _from_source(source, base_dir: Path, overrides) -> Config:
    if overrides:
        source = yamlsource.apply_overrides(source, list(overrides))
    if not isinstance(source.data, dict):
        raise ConfigError(f"{source.path}:1:1: the config must be a mapping of keys (name, data, model, training, ...)")
    try:
        cfg = Config.model_validate(source.data)
    except ValidationError as exc:
        raise ConfigError(yamlsource.format_validation_error(exc, source, Config)) from None
    cfg._source, cfg._base_dir, cfg._overrides = source, base_dir, tuple(overrides)
    errors, warnings = check_config(cfg)
    if errors:
        raise ConfigError(errors)
    cfg._warnings = warnings
    return cfg


def check_config(cfg: Config) -> tuple[list[str], list[str]]:
    """Checks across fields that need no data. Returns (errors, warnings), each a positioned line."""
    errors: list[str] = []
    warnings: list[str] = []
    tr, layers = cfg.training, cfg.model.layers
    out = layers[-1]
    last = len(layers) - 1
    loss_cls = losses.REGISTRY.get(tr.loss.name)
    if loss_cls.allowed_activations is not None and out.activation not in loss_cls.allowed_activations:
        wants = " or ".join(sorted(loss_cls.allowed_activations))
        errors.append(
            f"{cfg.where('model', 'layers', last, 'activation')}: model.layers[{last}].activation: "
            f"{tr.loss.name} needs a {wants} output layer, got {out.activation!r}"
        )
    if tr.loss.name == "binary_crossentropy" and out.units != 1:
        errors.append(
            f"{cfg.where('model', 'layers', last, 'units')}: model.layers[{last}].units: "
            f"binary_crossentropy needs one output unit (the probability of the positive class), got {out.units}"
        )
    if tr.loss.name == "cross_entropy" and out.units < 2:
        errors.append(
            f"{cfg.where('model', 'layers', last, 'units')}: model.layers[{last}].units: "
            f"cross_entropy needs one output unit per class (at least 2), got {out.units}; "
            f"for two classes use 2 softmax units or binary_crossentropy with 1 sigmoid unit"
        )
    if cfg.task == "regression" and out.activation in ("softmax", "sigmoid"):
        warnings.append(
            f"{cfg.where('model', 'layers', last, 'activation')}: warning: {tr.loss.name} on a {out.activation} "
            f"output is allowed but unusual; for classification use "
            f"{'cross_entropy' if out.activation == 'softmax' else 'binary_crossentropy'}"
        )
    if out.dropout > 0:
        errors.append(f"{cfg.where('model', 'layers', last, 'dropout')}: model.layers[{last}].dropout: "
                      f"dropout on the output layer would zero predictions; put it on hidden layers")
    if cfg.task == "regression":
        if tr.class_weight is not None:
            errors.append(f"{cfg.where('training', 'class_weight')}: training.class_weight: only for classification losses")
        bad = [m for m in cfg.metrics_tracked() if m in CLASSIFICATION_METRICS]
    else:
        bad = [m for m in cfg.metrics_tracked() if m in REGRESSION_METRICS]
    for m in bad:
        errors.append(f"{cfg.where('training', 'metrics')}: training.metrics: {m!r} does not fit a {cfg.task} loss "
                      f"({tr.loss.name}); use {', '.join(CLASSIFICATION_METRICS if cfg.task == 'classification' else REGRESSION_METRICS)}")
    has_val = cfg.data.validation_split > 0 or cfg.data.validation is not None
    monitors = {"train_loss", *(f"train_{m}" for m in cfg.metrics_tracked())}
    if has_val:
        monitors |= {"val_loss", *(f"val_{m}" for m in cfg.metrics_tracked())}
    watched = []
    if tr.early_stopping is not None:
        watched.append((("training", "early_stopping", "monitor"), tr.early_stopping.monitor))
    if isinstance(tr.schedule, PlateauSchedule):
        watched.append((("training", "schedule", "monitor"), tr.schedule.monitor))
    for path, monitor in watched:
        if monitor not in monitors:
            hint = yamlsource.did_you_mean(monitor, sorted(monitors))
            why = " (there is no validation data: set data.validation_split)" if monitor.startswith("val_") and not has_val else ""
            errors.append(f"{cfg.where(*path)}: {'.'.join(path)}: unknown metric {monitor!r}{why}"
                          + (f" — did you mean {hint!r}?" if hint else "") + f" (available: {', '.join(sorted(monitors))})")
    if cfg.data.validation_split + cfg.data.test_split >= 1:
        errors.append(f"{cfg.where('data', 'test_split')}: data.test_split: validation_split + test_split must be < 1, "
                      f"got {cfg.data.validation_split + cfg.data.test_split:g}")
    if cfg.data.path is not None and cfg.data.generator is not None:
        errors.append(f"{cfg.where('data', 'generator')}: data: give either path or generator, not both")
    if cfg.data.y_path is not None and (cfg.data.path is None or not cfg.data.path.endswith(".npy")):
        errors.append(f"{cfg.where('data', 'y_path')}: data.y_path: only with an .npy data.path")
    if not math.isfinite(tr.optimizer.learning_rate):
        errors.append(f"{cfg.where('training', 'optimizer', 'learning_rate')}: training.optimizer.learning_rate: must be finite")
    return errors, warnings
