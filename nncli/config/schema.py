"""The config: pydantic models (strict: an unknown key is an error) and loading them: positioned
YAML (load.py), --set overrides (overrides.py), then the checks across fields (checks.py).

Allowed names (activations, losses, optimizers, initializers, schedules, generators) come from the
same registries the engine uses, so a typo fails here, before any NumPy runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, create_model

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


# Bounds of the counts (epochs, batch_size, checkpoint_every, patience) and of the seed: a
# 3000-digit value would otherwise be accepted and train for ever; a billion epochs is beyond any run.
MAX_COUNT = 1_000_000_000
MAX_SEED = 2**64 - 1


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


def _run_shorthand(value: Any) -> Any:
    """Allow `init_from: runs/iris` for `init_from: {run: runs/iris}`."""
    return {"run": value} if isinstance(value, str) else value


class InitFromConfig(Strict):
    run: str = Field(description="Run directory written by nncli train; relative to the config file.")
    layers: list[Annotated[int, Field(ge=0)]] | None = Field(
        None, description="Layers to take from the run (0 is the first dense layer); the others are initialized as usual. "
                          "Default: every layer, and each must match the run's shape.")
    preprocessing: Literal["source", "refit"] = Field(
        "source", description="source: reuse the run's feature preprocessing (features, one-hot categories, fill values, "
                              "scaling) so the inputs mean what they meant; refit: fit it on this config's data.")


class ModelConfig(Strict):
    layers: list[LayerConfig] = Field(min_length=1, description="Dense layers, input to output; the last is the output layer.")
    init_from: Annotated[Union[InitFromConfig, None], BeforeValidator(_run_shorthand)] = Field(
        None, description="Warm start: begin from a trained run's weights instead of the initializers: a run directory, "
                          "or {run, layers, preprocessing}. Recorded in metrics.json.")


# ---------------------------------------------------------------- registry entries with settings
def _entry_model(model_name: str, name: str, entry: type, defaults: dict[str, Any], doc: str) -> type[BaseModel]:
    """The pydantic model of one registry entry: ``name`` plus each of the entry's settings, typed
    by and defaulting to its ``__init__`` default, described and bounded by its Setting. Built here
    so that an optimizer, schedule or loss is described in one place: its class in nncli/nn/."""
    unknown = set(entry.settings) - set(defaults)
    if unknown:
        raise TypeError(f"{name}: settings {sorted(unknown)} have no default in {entry.__name__}.__init__")
    fields: dict[str, Any] = {"name": (Literal[name], ...)}
    for key, setting in entry.settings.items():
        default = defaults[key]
        fields[key] = (type(default), Field(default, description=setting.description, **setting.bounds()))
    return create_model(model_name, __base__=Strict, __doc__=doc, __module__=__name__, **fields)


def _union(models: list[type[BaseModel]], default: str | None):
    fill = _default_name(default) if default else _name_shorthand
    return Annotated[Union[tuple(models)], Field(discriminator="name"), BeforeValidator(fill)]


# optimizers and schedules, discriminated on name: SGDConfig, AdamConfig, ..., StepSchedule, ...
OPTIMIZER_MODELS = {name: _entry_model(f"{cls.__name__}Config", name, cls, optimizers.defaults(name), cls.formula)
                    for name, cls in optimizers.REGISTRY.items()}
SCHEDULE_MODELS = {name: _entry_model(f"{cls.__name__}Schedule", name, cls, schedules.defaults(name),
                                      cls.formula + (" (e counts from 0; history.csv's epoch column from 1)"
                                                     if not cls.settings else ""))
                   for name, cls in schedules.REGISTRY.items()}
OptimizerConfig = _union(list(OPTIMIZER_MODELS.values()), "adam")
ScheduleConfig = _union(list(SCHEDULE_MODELS.values()), "constant")


# losses: the ones without settings share one model (a name); each with settings has its own
class PlainLoss(Strict):
    name: Literal[tuple(n for n, cls in losses.REGISTRY.items() if not cls.settings)]  # type: ignore[valid-type]


LOSS_MODELS = {name: _entry_model(f"{cls.__name__}Loss", name, cls, losses.defaults(name), cls.formula)
               for name, cls in losses.REGISTRY.items() if cls.settings}
LossConfig = Annotated[Union[(PlainLoss, *LOSS_MODELS.values())], Field(discriminator="name"),
                       BeforeValidator(_name_shorthand)]


class EarlyStoppingConfig(Strict):
    monitor: str = Field("val_loss", description="A history column to watch.")
    patience: int = Field(10, ge=0, le=MAX_COUNT, description="Epochs without improvement before stopping.")
    min_delta: float = Field(0.0, ge=0, description="Smallest change that counts as an improvement.")
    restore_best: bool = Field(True, description="Keep the weights of the best epoch, not the last.")


class TrainingConfig(Strict):
    epochs: int = Field(100, gt=0, le=MAX_COUNT, description="Passes over the training data.")
    batch_size: Union[Annotated[int, Field(gt=0, le=MAX_COUNT)], Literal["full"]] = Field(
        32, description="Samples per gradient step (the last batch of an epoch may be smaller), or 'full': one step "
                        "per epoch on the whole training set — plain gradient descent w ← w − η·∂L/∂w."
    )
    shuffle: bool = Field(True, description="Reshuffle the training data every epoch.")
    loss: LossConfig = Field(description="A name or {name: huber, delta: 1.0}: " + "; ".join(
        f"{n}: {cls.formula}" for n, cls in losses.REGISTRY.items()) + ".")
    optimizer: OptimizerConfig = Field(
        default_factory=lambda: OPTIMIZER_MODELS["adam"](name="adam"),
        description=f"{', '.join(optimizers.names())}, with its settings; a mapping without name is adam.",
    )
    schedule: ScheduleConfig = Field(
        default_factory=lambda: SCHEDULE_MODELS["constant"](name="constant"),
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
        None, ge=1, le=MAX_COUNT, description="Save a resumable checkpoint every N epochs; default: after the first epoch, then at most once every 30 seconds."
    )
    snapshots: int | None = Field(
        None, ge=1, le=1000, description="Save the weights at N evenly spaced epochs (N ≥ 2: the initial weights, the "
        "last epoch and N − 2 between; 1: the last epoch only) into the run directory as snapshots.npz, for "
        "`nncli plot RUN --evolution` and `nncli report`. Size: about N × (number of parameters) × 4 bytes "
        "(8 with float64), e.g. 20 snapshots of a 5,000-parameter network take 400 kB. Default: off."
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
    seed: int = Field(0, ge=0, le=MAX_SEED, description="Drives initialization, shuffling, splitting and dropout.")
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
        p = Path(os.path.expanduser(path))  # ~user of no user stays as typed (Path.expanduser raises)
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
