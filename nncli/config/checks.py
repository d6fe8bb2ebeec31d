"""Checks across fields of a validated config that need no data (loss vs output layer, metrics vs
task, monitors, splits).  Each problem is one positioned line, ``FILE:LINE:COL: path: message``.

Imports nothing from schema.py (schema.py calls :func:`check_config` after validation).
"""

from __future__ import annotations

import math
import os
import re
from typing import TYPE_CHECKING

from ..nn import losses
from .messages import did_you_mean, human_bytes

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
            errors.append(f"{cfg.where('data', key)}: data.{key}: {value!r} is a URL and nncli reads local files only"
                          f" — download the file first and give its local path")
    errors.extend(check_sizes(cfg))
    if not math.isfinite(tr.optimizer.learning_rate):
        errors.append(f"{cfg.where('training', 'optimizer', 'learning_rate')}: training.optimizer.learning_rate: must be finite")
    return errors, warnings


# Arrays of this many elements per parameter: the parameters, their gradients, the optimizer's state.
_OPTIMIZER_SLOTS = {"sgd": 1, "adam": 2, "adamw": 2, "rmsprop": 1, "adagrad": 1}
_GENERATOR_FEATURES = {"line": 1, "sine": 1}  # the others draw 2 features, blobs `dimensions`, linear len(weights)


def memory_limit() -> int:
    """Bytes of memory this process may use: the machine's physical memory, or less under ulimit -v
    (1 TiB where the system says neither)."""
    from ..machine import memory_bytes

    found = memory_bytes()
    return 1 << 40 if found is None else int(found)


def _generator_width(gen) -> int:
    if hasattr(gen, "dimensions"):
        return int(gen.dimensions)
    if hasattr(gen, "weights"):
        return len(gen.weights)
    return _GENERATOR_FEATURES.get(gen.name, 2)


def check_sizes(cfg: Config, limit: int | None = None, width: int | None = None,
                rows: int | None = None) -> list[str]:
    """Sizes that cannot fit, refused before anything is allocated: the network (parameters with
    their gradients and optimizer state, plus one batch of activations and deltas) and generated
    data, against ``limit`` bytes (default: this machine's memory).  Integer arithmetic, so
    ``units: 10**30`` is an estimate too, not an overflow.  Without the data the input width and
    the row count are taken as small as they can be: the estimate is a lower bound."""
    limit = memory_limit() if limit is None else limit
    errors = []
    tr, layers = cfg.training, cfg.model.layers
    itemsize = 8 if tr.dtype == "float64" else 4
    gen = cfg.data.generator
    known = width is not None  # called again with the data's input width and training rows
    width = width if known else (_generator_width(gen) if gen is not None else 1)
    # a batch is never larger than the data: with file data (row count unknown here) one row is the
    # lower bound, so a large batch_size on a small file is not refused
    n = rows if rows is not None else (gen.n_samples if gen is not None else None)
    rows = 1 if n is None else (n if tr.batch_size == "full" else min(int(tr.batch_size), n))
    widths = [width] + [layer.units for layer in layers]
    params = sum(a * b + b for a, b in zip(widths, widths[1:]))
    slots = _OPTIMIZER_SLOTS.get(tr.optimizer.name, 2)
    needed = itemsize * (params * (2 + slots) + 2 * rows * sum(widths[1:]))
    if known:  # measured: a checkpoint holds parameters and optimizer state twice more while it is
        # encoded, and the final evaluation runs every training row through the network at once
        needed += itemsize * (2 * params * (1 + slots) + n * sum(widths[1:]))
    # generated data as wide as it is long: the width (blobs' dimensions) is the one cause to name
    wide = gen is not None and not known and hasattr(gen, "dimensions") and width > max(l.units for l in layers)
    if needed > limit and not wide:
        i = max(range(len(layers)), key=lambda k: layers[k].units)
        at_least = "" if gen is not None or known else "at least "
        errors.append(
            f"{cfg.where('model', 'layers', i, 'units')}: model.layers[{i}].units: the network needs {at_least}"
            f"{human_bytes(needed)} of memory ({params:,} parameters in {tr.dtype} with their gradients and "
            f"{tr.optimizer.name}'s state, and "
            + (f"its checkpoint and the activations of {n:,} training rows), more than the {human_bytes(limit)} "
               f"of memory available" if known else "a batch of activations), more than this machine's memory")
            + " — use fewer units"
        )
    if gen is not None and not known:
        data_bytes = 8 * gen.n_samples * (width + 1)  # float64 X (rows × features) and y
        if wide and max(data_bytes, needed) > limit:
            errors.append(
                f"{cfg.where('data', 'generator', 'dimensions')}: data.generator.dimensions: the generated data and "
                f"the network need {human_bytes(max(data_bytes, needed))} of memory ({gen.n_samples:,} rows × "
                f"{width:,} features), more than this machine's memory — use fewer dimensions"
            )
        elif data_bytes > limit:
            errors.append(
                f"{cfg.where('data', 'generator', 'n_samples')}: data.generator.n_samples: the generated data needs "
                f"{human_bytes(data_bytes)} of memory ({gen.n_samples:,} rows × {width + 1} float64 columns), more "
                f"than this machine's memory — use fewer samples"
            )
    return errors
