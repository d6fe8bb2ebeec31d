"""The data stage in one call: ``prepare_checked(cfg, data)`` reads, splits and preprocesses the
configured data (nncli.data.prepare), derives the class weights, and runs the checks that need both
the config and the data. train, validate, summary, explain and gradcheck all enter here, so they
agree on what a good config is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from .prepare import PreparedData, Split, class_weights, prepare
from .preprocess import label_text
from .tables import listing

if TYPE_CHECKING:
    from .preprocess import Preprocessor


@dataclass(frozen=True)
class CheckedData:
    """Everything data-related that training needs, checked against the config.

    prepared: the splits (train.X (n_samples, n_inputs), train.y labels (n_samples,) int or
    targets (n_samples, n_targets)) and the fitted preprocessing; class_weights: (n_classes,) or
    None; n_classes: the number of classes, None for a regression."""

    prepared: PreparedData
    class_weights: np.ndarray | None
    n_classes: int | None

    @property
    def preprocessor(self) -> Preprocessor:
        return self.prepared.preprocessor

    @property
    def train(self) -> Split:
        return self.prepared.train

    @property
    def validation(self) -> Split | None:
        return self.prepared.validation

    @property
    def test(self) -> Split | None:
        return self.prepared.test

    @property
    def splits(self) -> dict[str, Split | None]:
        """{"train": .., "validation": .., "test": ..} in the order metrics.json reports them."""
        return {"train": self.train, "validation": self.validation, "test": self.test}


def prepare_checked(cfg, data: tuple[np.ndarray, np.ndarray] | None = None) -> CheckedData:
    """Read the configured data (or the given (X, y) arrays), split and preprocess it, check it
    against the config (every problem reported at once, DataError) and compute the class weights."""
    from ..warmstart import check_layers, source_preprocessor  # model.init_from: a run's preprocessing

    prepared = prepare(cfg, data, fitted=source_preprocessor(cfg))
    check_against_data(cfg, prepared)
    if cfg.model.init_from is not None:  # the layer shapes need the data's input width
        check_layers(cfg, prepared.preprocessor.n_inputs)
    pre = prepared.preprocessor
    n_classes = len(pre.classes) if pre.task == "classification" else None
    cw = class_weights(cfg, pre, prepared.train.y) if n_classes else None
    return CheckedData(prepared, cw, n_classes)


def check_against_data(cfg, prepared: PreparedData) -> None:
    """Checks that need the data: output width, batch size, class weights (all reported at once)."""
    errors: list[str] = []
    pre = prepared.preprocessor
    last = len(cfg.model.layers) - 1
    units = cfg.model.layers[-1].units
    where = cfg.where("model", "layers", last, "units")
    if cfg.task == "classification":
        k = len(pre.classes)
        if cfg.training.loss.name == "binary_crossentropy" and k != 2:
            errors.append(f"{cfg.where('training', 'loss')}: training.loss: binary_crossentropy needs exactly 2 classes, "
                          f"the data has {k} ({listing(label_text(c) for c in pre.classes)}); use cross_entropy with {k} softmax units")
        if cfg.training.loss.name == "cross_entropy" and units != k:
            errors.append(f"{where}: model.layers[{last}].units: the output layer has {units} units but the data has "
                          f"{k} classes ({listing(label_text(c) for c in pre.classes)}); set units: {k}")
    elif units != len(pre.targets):
        errors.append(f"{where}: model.layers[{last}].units: the output layer has {units} units but there "
                      f"{'is' if len(pre.targets) == 1 else 'are'} {len(pre.targets)} target column(s) "
                      f"({listing(pre.targets)}); set units: {len(pre.targets)}")
    bs = cfg.training.batch_size
    n = len(prepared.train.X)
    # Only a batch size the config gives: the default (32) is capped at the training set.
    if bs != "full" and bs > n and "batch_size" in cfg.training.model_fields_set:
        errors.append(f"{cfg.where('training', 'batch_size')}: training.batch_size: {bs} is larger than the "
                      f"training set ({n} rows); use at most {n}, or 'full'")
    if cfg.task == "classification" and isinstance(cfg.training.class_weight, dict):
        try:
            class_weights(cfg, pre, prepared.train.y)
        except DataError as exc:
            errors.append(exc.message)
    from ..config.checks import check_sizes  # again, with the data's input width: before allocating

    errors.extend(check_sizes(cfg, width=pre.n_inputs, rows=n))
    if errors:
        raise DataError("\n".join(errors))
