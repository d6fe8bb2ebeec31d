"""Metrics as pure functions of targets and predictions.

Classification: y_true and y_pred are integer class indices (n_samples,).
Regression: y_true and y_pred are (n_samples, n_targets); results average over targets.
"""

from __future__ import annotations

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; rows are the true class, columns the predicted one."""
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def precision_recall_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    """Per-class precision, recall, F1 and support; a class never predicted has precision 0."""
    cm = confusion_matrix(y_true, y_pred, n_classes).astype(np.float64)
    tp = np.diag(cm)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def f1_macro(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None) -> float:
    k = n_classes or int(max(y_true.max(initial=0), y_pred.max(initial=0)) + 1)
    return float(precision_recall_f1(y_true, y_pred, k)["f1"].mean())


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    d = np.asarray(y_pred, np.float64) - y_true
    return float(np.mean(d * d))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y_pred, np.float64) - y_true)))


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination 1 - SS_res/SS_tot, averaged over targets."""
    y_true = np.asarray(y_true, np.float64).reshape(len(y_true), -1)
    y_pred = np.asarray(y_pred, np.float64).reshape(len(y_pred), -1)
    ss_res = ((y_true - y_pred) ** 2).sum(axis=0)
    ss_tot = ((y_true - y_true.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1), 0.0)
    return float(scores.mean())


def higher_is_better(column: str) -> bool:
    """Whether a history column (a loss, or train_/val_ and a metric) improves upwards."""
    return column.endswith(("accuracy", "f1", "r2"))


def improves(value: float, best: float | None, min_delta: float, maximize: bool) -> bool:
    """Whether ``value`` beats ``best`` (None: nothing yet) by more than ``min_delta``: the rule of
    early stopping and of reduce_on_plateau."""
    if best is None:
        return True
    return value > best + min_delta if maximize else value < best - min_delta


def compute(name: str, y_true: np.ndarray, y_pred: np.ndarray, n_classes: int | None = None) -> float:
    if name == "accuracy":
        return accuracy(y_true, y_pred)
    if name == "f1":
        return f1_macro(y_true, y_pred, n_classes)
    return {"mse": mse, "mae": mae, "r2": r2}[name](y_true, y_pred)


def predicted_classes(output: np.ndarray, output_activation: str) -> np.ndarray:
    """Class indices from a network output: argmax over units, or a threshold for one unit."""
    if output.shape[1] == 1:
        threshold = 0.5 if output_activation == "sigmoid" else 0.0  # probability or logit
        return (output[:, 0] > threshold).astype(np.int64)
    return output.argmax(axis=1)
