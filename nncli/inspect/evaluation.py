"""`nncli evaluate`: a trained run on labelled raw data -> a report (a plain dict, JSON-ready).

Classification: loss, accuracy, macro precision/recall/F1, per-class precision/recall/F1/support
and the confusion matrix (rows: true class, columns: predicted class, both in the run's class
order). Regression: loss, MSE, MAE, R² (averaged over targets; per target too when several).

The data goes through the run's saved preprocessing (raw columns in), read in chunks, so the
features of a large file are never all in memory (only targets and predictions are kept). The
loss is the unweighted mean over the rows, as in metrics.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .. import metrics as M
from ..data.preprocess import label_text
from ..data.csvread import read_csv_chunks
from ..data.tables import Table, read_npz_xy
from ..errors import DataError

CHUNK_ROWS: int | None = None  # None: blocks of about csvread.CHUNK_BYTES bytes of text, whatever the width


def data_tables(run, data: str, chunk_rows: int | None = CHUNK_ROWS) -> Iterator[Table]:
    """Raw labelled data as Tables: a CSV read in chunks, or an .npz with arrays X and y."""
    path = Path(data)
    if path.suffix.lower() == ".npz":
        yield _npz_table(run, path, data)
        return
    if path.suffix.lower() == ".npy":
        raise DataError(f"{data}: evaluate reads a CSV or an .npz with arrays X and y; "
                        f"for an .npy pair, save them together with numpy.savez(path, X=X, y=y)")
    yield from read_csv_chunks(path, data, chunk_rows, text_columns=set(run.preprocessor.categories))


def _npz_table(run, path: Path, display: str) -> Table:
    pre = run.preprocessor
    X, y, names = read_npz_xy(path, display)
    if X.ndim != 2 or X.dtype.kind not in "fiub":
        raise DataError(f"{display}: X must be a numeric 2-D array, got {X.dtype} with shape {X.shape}")
    if len(y) != len(X):
        raise DataError(f"{display}: X has {len(X)} rows but y has {len(y)}")
    if names is None:
        if X.shape[1] != len(pre.features):
            raise DataError(f"{display}: X has {X.shape[1]} columns but the run was trained on {len(pre.features)} "
                            f"features ({', '.join(pre.features)})")
        names = list(pre.features)
    columns: dict[str, np.ndarray] = {n: np.asarray(X[:, i], np.float64) for i, n in enumerate(names)}
    y2 = y.reshape(len(y), -1)
    for i, t in enumerate(pre.targets[: y2.shape[1]]):
        columns[t] = y2[:, i] if y2.dtype.kind in "US" else np.asarray(y2[:, i], np.float64)
    missing = {n: np.zeros(len(X), bool) for n in columns}
    return Table(display, columns, missing, np.arange(len(X)))


def evaluate_run(run, data: str, chunk_rows: int | None = CHUNK_ROWS) -> dict[str, Any]:
    """Evaluate ``run`` (nncli.api.Run) on the labelled file ``data``; returns the report."""
    from ..training import make_loss

    pre, net = run.preprocessor, run.network
    loss = make_loss(run.config)
    classification = pre.task == "classification"
    drop = run.config.data.missing == "drop"
    out_act = net.output_activation
    total, n = np.float64(0), 0
    truths, preds = [], []
    for table in data_tables(run, data, chunk_rows):
        table.require(pre.targets, "target", " — evaluate needs the target column(s) to compare against")
        if drop:  # the run was trained with data.missing: drop; rows with an empty cell are skipped alike
            keep = ~np.any([table.missing[c] for c in pre.features + pre.targets if c in table.missing], axis=0)
            table = table.take(np.flatnonzero(keep))
            if table.n_rows == 0:
                continue
        if classification:
            tcol = pre.targets[0]
            if table.missing[tcol].any():
                r = np.flatnonzero(table.missing[tcol])[0]
                raise DataError(f"{table.path}:{table.lines[r]}: target column {tcol!r} is empty")
        y = pre.encode_targets(table, net.dtype)
        out = net.predict_output(pre.transform(table, net.dtype))
        total += loss(out, y, np.empty_like(out), None, out_act)
        n += len(y)
        truths.append(y)
        preds.append(M.predicted_classes(out, out_act) if classification else out.astype(np.float64))
    if n == 0:
        raise DataError(f"{data}: no rows left to evaluate (every row has an empty cell and data.missing is drop)")
    y_true, y_pred = np.concatenate(truths), np.concatenate(preds)
    report: dict[str, Any] = {"run": str(run.path) if run.path else None, "data": str(data),
                              "task": pre.task, "n_samples": int(n), "loss": float(total / n)}
    if classification:
        report.update(classification_report(y_true, y_pred, pre.classes))
    else:
        report.update(regression_report(y_true, y_pred, pre.targets))
    return report


def classification_report(y_true: np.ndarray, y_pred: np.ndarray, classes: list) -> dict[str, Any]:
    k = len(classes)
    prf = M.precision_recall_f1(y_true, y_pred, k)
    cm = M.confusion_matrix(y_true, y_pred, k)
    return {
        "accuracy": M.accuracy(y_true, y_pred),
        "macro_precision": float(prf["precision"].mean()),
        "macro_recall": float(prf["recall"].mean()),
        "macro_f1": float(prf["f1"].mean()),
        "classes": list(classes),
        "per_class": [{"class": c, "precision": float(prf["precision"][i]), "recall": float(prf["recall"][i]),
                       "f1": float(prf["f1"][i]), "support": int(prf["support"][i])} for i, c in enumerate(classes)],
        "confusion_matrix": cm.astype(int).tolist(),
    }


def regression_report(y_true: np.ndarray, y_pred: np.ndarray, targets: list[str]) -> dict[str, Any]:
    y_true = np.asarray(y_true, np.float64).reshape(len(y_true), -1)
    report: dict[str, Any] = {"mse": M.mse(y_true, y_pred), "mae": M.mae(y_true, y_pred), "r2": M.r2(y_true, y_pred),
                              "targets": list(targets)}
    if y_true.shape[1] > 1:
        report["per_target"] = [{"target": t, "mse": M.mse(y_true[:, i], y_pred[:, i]),
                                 "mae": M.mae(y_true[:, i], y_pred[:, i]), "r2": M.r2(y_true[:, i], y_pred[:, i])}
                                for i, t in enumerate(targets)]
    return report


# ---------------------------------------------------------------- plain text (not a terminal)
def _num(v: float) -> str:
    return f"{v:.4f}"


def _grid(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return [fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows]


def report_tables(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The report as (title, header, rows) tables: what both the plain and the Rich output show."""
    tables = []
    if report["task"] == "classification":
        names = [label_text(c) for c in report["classes"]]
        summary = [["samples", str(report["n_samples"])], ["loss", _num(report["loss"])],
                   ["accuracy", _num(report["accuracy"])], ["macro precision", _num(report["macro_precision"])],
                   ["macro recall", _num(report["macro_recall"])], ["macro F1", _num(report["macro_f1"])]]
        tables.append(("Summary", ["metric", "value"], summary))
        per = [[names[i], _num(r["precision"]), _num(r["recall"]), _num(r["f1"]), str(r["support"])]
               for i, r in enumerate(report["per_class"])]
        tables.append(("Per class", ["class", "precision", "recall", "F1", "support"], per))
        cm = [[names[i]] + [str(v) for v in row] for i, row in enumerate(report["confusion_matrix"])]
        tables.append(("Confusion matrix (rows: true class, columns: predicted)", ["true \\ predicted"] + names, cm))
    else:
        summary = [["samples", str(report["n_samples"])], ["loss", _num(report["loss"])],
                   ["MSE", _num(report["mse"])], ["MAE", _num(report["mae"])], ["R²", _num(report["r2"])]]
        tables.append(("Summary", ["metric", "value"], summary))
        if "per_target" in report:
            per = [[r["target"], _num(r["mse"]), _num(r["mae"]), _num(r["r2"])] for r in report["per_target"]]
            tables.append(("Per target", ["target", "MSE", "MAE", "R²"], per))
    return tables


def format_text(report: dict[str, Any]) -> str:
    lines = [f"{report['task']} on {report['data']} ({report['n_samples']} rows), run {report['run']}"]
    for title, header, rows in report_tables(report):
        lines += ["", title] + _grid(header, rows)
    return "\n".join(lines) + "\n"
