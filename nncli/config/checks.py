"""Checks across fields of a validated config that need no data (loss vs output layer, metrics vs
task, monitors, splits).  Each problem is one positioned line, ``FILE:LINE:COL: path: message``.

Imports nothing from schema.py (schema.py calls :func:`check_config` after validation).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from ..nn import losses
from .messages import did_you_mean

if TYPE_CHECKING:
    from .schema import Config

__all__ = ["CLASSIFICATION_METRICS", "REGRESSION_METRICS", "check_config"]

CLASSIFICATION_METRICS = ("accuracy", "f1")
# scheme://... (http, https, s3, ftp, file, ...): a URL is never a local path, whatever the scheme
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
REGRESSION_METRICS = ("mae", "mse", "r2")


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
    if tr.schedule is not None and tr.schedule.name == "reduce_on_plateau":
        watched.append((("training", "schedule", "monitor"), tr.schedule.monitor))
    for path, monitor in watched:
        if monitor not in monitors:
            hint = did_you_mean(monitor, sorted(monitors))
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
    for key in ("path", "y_path", "validation", "test"):
        value = getattr(cfg.data, key)
        if value is not None and _URL.match(value):
            errors.append(f"{cfg.where('data', key)}: data.{key}: {value!r} is a URL and nncli reads local files only — "
                          f"download the file first (e.g. curl -LO {value}) and give its local path")
    if not math.isfinite(tr.optimizer.learning_rate):
        errors.append(f"{cfg.where('training', 'optimizer', 'learning_rate')}: training.optimizer.learning_rate: must be finite")
    return errors, warnings
