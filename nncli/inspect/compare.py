"""Runs side by side, for `nncli compare RUN_DIR... | SWEEP_DIR`.

Each run becomes one row: its name, the config keys whose values differ between the runs (only
those), the final metrics of metrics.json flattened to history.csv's names (train_loss,
val_accuracy, test_r2, ...), the epochs run and the training seconds. A sweep folder (sweep.json)
stands for its finished trials. Nothing here prints: cli/compare.py renders the table.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

from ..errors import RunDirError, UsageError

_SPLIT_PREFIX = {"train": "train_", "validation": "val_", "test": "test_"}
# Higher is better for these; every other metric (losses, mse, mae, epochs, seconds) is lower-better.
HIGHER_IS_BETTER = ("accuracy", "f1", "r2")
IGNORED_KEYS = ("output.dir",)  # where a run was written says nothing about how it was trained


def expand(paths: list[str | Path]) -> tuple[list[tuple[str, Path]], list[str]]:
    """(name, run directory) for every argument, a sweep folder expanded to its trials in
    sweep.json's order; and notes about trials left out (not finished)."""
    runs: list[tuple[str, Path]] = []
    notes: list[str] = []
    for given in paths:
        path = Path(given)
        sweep_json = path / "sweep.json"
        if path.is_dir() and sweep_json.is_file() and not (path / "metrics.json").exists():
            try:
                spec = json.loads(sweep_json.read_text(encoding="utf-8"))
                ids = [str(t["id"]) for t in spec["trials"]]
            except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
                raise RunDirError(f"{sweep_json}: not a sweep.json nncli wrote ({exc.__class__.__name__}: {exc}); "
                                  f"give the trial directories instead") from None
            for tid in ids:
                trial = path / tid
                if (trial / "metrics.json").is_file():
                    runs.append((f"{given}/{tid}" if len(paths) > 1 else tid, trial))
                else:
                    notes.append(f"{trial}: trial not finished (no metrics.json); left out")
            if not any(p.parent == path for _, p in runs):
                raise RunDirError(f"{path}: no finished trial in this sweep folder; run it with: nncli sweep")
        else:
            runs.append((str(given), path))
    names = [n for n, _ in runs]
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise UsageError(f"{dup}: given twice; compare each run once")
    return runs, notes


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A resolved config as dotted keys: {"model": {"layers": [{"units": 16}]}} ->
    {"model.layers.0.units": 16}."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}{i}."))
        return out
    return {prefix[:-1]: value}


def final_metrics(metrics: dict) -> dict[str, float]:
    """metrics.json's {"train": {"loss": ..}, "validation": {"accuracy": ..}} as train_loss, val_accuracy."""
    out = {}
    for split, prefix in _SPLIT_PREFIX.items():
        values = metrics.get(split)
        if isinstance(values, dict):
            for name, v in values.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out[prefix + name] = float(v)
    return out


def compare(paths: list[str | Path], by: str | None = None) -> dict:
    """The comparison of runs (or sweep folders) as plain data:

    {"keys": [differing config keys], "metrics": [metric names], "by": metric or None,
     "rows": [{"name", "path", "config": {key: value}, "metrics": {name: value}, "epochs",
               "seconds"}], "notes": [...]}; rows sorted by ``by`` (best first) when given."""
    from ..api import load_run

    if not paths:
        raise UsageError("nncli compare: give at least one run directory or sweep folder")
    runs, notes = expand(paths)
    loaded = []
    for name, path in runs:
        run = load_run(path)  # every file checked: a damaged run is one line, not a wrong table
        loaded.append((name, path, run))
    flat = [flatten(run.config.resolved()) for _, _, run in loaded]
    keys = sorted({k for f in flat for k in f})
    # A key one run lacks counts as null there: a third layer's units differ from a two-layer run's
    # nothing, but init_from: null and init_from: {layers: null, ...} agree on init_from.layers.
    differing = [k for k in keys if not k.startswith(IGNORED_KEYS)
                 and len({json.dumps(f.get(k), sort_keys=True) for f in flat}) > 1]
    rows = []
    for (name, path, run), f in zip(loaded, flat):
        rows.append({
            "name": name, "path": str(path),
            "config": {k: f.get(k) for k in differing},
            "metrics": final_metrics(run.metrics),
            "epochs": int(run.metrics.get("epochs_run", len(run.history))),
            "seconds": float(run.seconds),
        })
    metric_names = []
    for split in _SPLIT_PREFIX.values():  # train, then validation, then test; loss first in each
        names = sorted({m for r in rows for m in r["metrics"] if m.startswith(split)},
                       key=lambda m: (m != f"{split}loss", m))
        metric_names += names
    if by is not None:
        rows = sort_rows(rows, by, metric_names)
    return {"keys": differing, "metrics": metric_names, "by": by, "rows": rows, "notes": notes}


def sort_rows(rows: list[dict], by: str, metric_names: list[str]) -> list[dict]:
    """Best first: lower losses/errors/epochs/seconds, higher accuracy/f1/r2; runs without the
    metric last."""
    choices = metric_names + ["epochs", "seconds"]
    if by not in choices:
        from ..config.messages import did_you_mean

        guess = did_you_mean(by, choices)
        raise UsageError(f"--by: no metric {by!r} in these runs" + (f" — did you mean {guess!r}?" if guess else "")
                         + f" (available: {', '.join(choices)})")
    sign = -1.0 if by.rsplit("_", 1)[-1] in HIGHER_IS_BETTER else 1.0

    def key(indexed):
        i, r = indexed
        v = r[by] if by in ("epochs", "seconds") else r["metrics"].get(by)
        ok = v is not None and math.isfinite(v)
        return (not ok, sign * v if ok else 0.0, i)

    return [r for _, r in sorted(enumerate(rows), key=key)]


def format_value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return str(v)


def table(report: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows of cells for the text and rich renderings."""
    header = ["run", *report["keys"], *report["metrics"], "epochs", "seconds"]
    rows = []
    for r in report["rows"]:
        rows.append([r["name"], *(format_value(r["config"][k]) for k in report["keys"]),
                     *(format_value(r["metrics"].get(m)) for m in report["metrics"]),
                     str(r["epochs"]), f"{r['seconds']:.2f}"])
    return header, rows


def format_text(report: dict) -> str:
    """Aligned plain text (stdout is not a terminal, or for logs)."""
    header, rows = table(report)
    widths = [max(len(c) for c in col) for col in zip(header, *rows)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
             for cells in [header, *rows]]
    return "\n".join(lines) + "\n"


def plot_losses(report: dict, out: str | Path) -> Path:
    """Overlay every run's train loss (solid) and validation loss (dashed, same colour) on one
    axis; written to ``out`` as PNG, atomically. Needs matplotlib (the plot extra)."""
    from ..api import load_run
    from ..extras import require
    from ..run.files import write_bytes_atomic

    out = Path(out)
    if out.is_dir():
        raise UsageError(f"--plot: {out} is a directory; give a .png file name")
    if not out.parent.is_dir():
        raise UsageError(f"--plot: the folder {out.parent} does not exist; create it or choose another path")
    require("matplotlib", "plot", "nncli compare --plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg as Canvas
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    ax = fig.add_subplot(1, 1, 1)
    positive = True
    for i, r in enumerate(report["rows"]):
        cols = load_run(r["path"]).history.columns
        colour = f"C{i % 10}"
        ax.plot(cols["epoch"], cols["train_loss"], color=colour, label=f"{r['name']} train")
        positive &= min(cols["train_loss"], default=1.0) > 0
        if "val_loss" in cols:
            ax.plot(cols["epoch"], cols["val_loss"], color=colour, linestyle="--", label=f"{r['name']} validation")
            positive &= min(cols["val_loss"], default=1.0) > 0
    if positive:
        ax.set_yscale("log")  # losses of different runs span decades; a log axis keeps all visible
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("loss per epoch (solid: train, dashed: validation)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    Canvas(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    try:
        write_bytes_atomic(out, buf.getvalue())
    except OSError as exc:
        raise UsageError(f"--plot: {out}: cannot write ({exc.strerror}); check the folder is writable") from None
    return out
