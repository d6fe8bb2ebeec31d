"""Pictures of a run, for `nncli plot RUN_DIR` (matplotlib is an optional extra: nncli[plot]).

Writes into the run directory, each file atomically (temporary name, then rename):

* ``loss.png``      train and validation loss per epoch, and the tracked metric (accuracy for
                    classification, R² for regression) beside it;
* ``decision.png``  two-input classification: the class the network predicts at every point of the
                    plane (decision regions), with the training (and validation) points on top;
* ``fit.png``       one-input regression: the learned curve ŷ(x) over the data points.

The data is regenerated from the run's config (file or generator, seeded) through the same
preparation as training, so the points are exactly the ones the network saw. matplotlib is imported
here, lazily, with its Agg backend (no display needed); without it a one-line message says how to
install it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .figures import _matplotlib, _raw_points, _save


def plot_run(run_dir: str | Path, network: bool = False, evolution: bool = False) -> list[Path]:
    """Write the plots that fit this run; returns the paths written.

    Default: loss.png and decision.png or fit.png. network: network.png instead; evolution:
    evolution.png and evolution.gif (needs snapshots.npz) instead; both: all three."""
    from ..api import load_run

    Figure, Canvas = _matplotlib()
    run = load_run(run_dir)
    path = Path(run_dir)
    if network or evolution:
        written = []
        if evolution:  # checked first: it is the one that can refuse the run
            from .evolution import write_evolution

            written += write_evolution(run, path, Figure, Canvas)
        if network:
            from .network_plot import network_figure

            written.insert(0, _save(network_figure(run, Figure), Canvas, path / "network.png"))
        return written
    written = [_save(_loss_figure(run, Figure), Canvas, path / "loss.png")]
    pre = run.preprocessor
    if pre.task == "classification" and pre.n_inputs == 2 and not pre.categories:
        written.append(_save(_decision_figure(run, Figure), Canvas, path / "decision.png"))
    elif pre.task == "regression" and pre.n_inputs == 1 and len(pre.targets) == 1 and not pre.categories:
        written.append(_save(_fit_figure(run, Figure), Canvas, path / "fit.png"))
    return written


def _loss_figure(run, Figure):
    cols = run.history.columns
    epochs = np.asarray(cols.get("epoch", []), dtype=float)
    metric = "accuracy" if run.task == "classification" else next(
        (m for m in ("r2", "mae", "mse") if f"train_{m}" in cols), None)
    panels = 2 if metric else 1
    fig = Figure(figsize=(6 * panels, 4.2))
    ax = fig.add_subplot(1, panels, 1)
    ax.plot(epochs, cols["train_loss"], label="train", color="tab:blue")
    if "val_loss" in cols:
        ax.plot(epochs, cols["val_loss"], label="validation", color="tab:orange")
    loss = np.asarray(cols["train_loss"], dtype=float)
    if loss.size and np.all(loss > 0) and loss.max() / max(loss.min(), 1e-300) > 100:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss ({run.config.training.loss.name})")
    ax.set_title(f"{run.config.name}: loss")
    ax.grid(True, alpha=0.3)
    ax.legend()
    if metric:
        ax2 = fig.add_subplot(1, panels, 2)
        ax2.plot(epochs, cols[f"train_{metric}"], label="train", color="tab:blue")
        if f"val_{metric}" in cols:
            ax2.plot(epochs, cols[f"val_{metric}"], label="validation", color="tab:orange")
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("R²" if metric == "r2" else metric)
        ax2.set_title(f"{run.config.name}: {'R²' if metric == 'r2' else metric}")
        if metric in ("accuracy", "r2"):
            lo = min(0.0, np.nanmin(cols[f"train_{metric}"])) if metric == "r2" else 0.0
            ax2.set_ylim(max(lo, -1.0), 1.02)
        ax2.grid(True, alpha=0.3)
        ax2.legend()
    fig.tight_layout()
    return fig


def _decision_figure(run, Figure):
    parts = _raw_points(run)
    pre = run.preprocessor
    allX = np.vstack([X for _, X, _ in parts])
    lo, hi = allX.min(axis=0), allX.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    lo, hi = lo - pad, hi + pad
    g = 300
    xs, ys = np.linspace(lo[0], hi[0], g), np.linspace(lo[1], hi[1], g)
    gx, gy = np.meshgrid(xs, ys)
    proba = run.predict_proba(np.column_stack([gx.ravel(), gy.ravel()]))
    k = proba.shape[1]
    cmap_name = "tab10" if k <= 10 else "tab20"
    fig = Figure(figsize=(6.4, 5.6))
    ax = fig.add_subplot(1, 1, 1)
    import matplotlib

    cmap = matplotlib.colormaps[cmap_name]
    colors = [cmap(i) for i in range(k)]
    from matplotlib.colors import ListedColormap

    regions = ListedColormap(colors)
    cls = proba.argmax(axis=1).reshape(g, g)
    ax.pcolormesh(gx, gy, cls, cmap=regions, vmin=-0.5, vmax=k - 0.5, alpha=0.3, shading="auto")
    if k == 2:  # the p = 0.5 boundary as a line
        ax.contour(gx, gy, proba[:, 1].reshape(g, g), levels=[0.5], colors="k", linewidths=1)
    names = [str(c) for c in pre.classes]
    for label, X, y in parts:
        marker = "o" if label == "train" else "^"
        for c in range(k):
            sel = y == c
            if sel.any():
                ax.scatter(X[sel, 0], X[sel, 1], s=18 if len(X) > 50 else 60, marker=marker, color=colors[c],
                           edgecolors="k", linewidths=0.5,
                           label=f"{names[c]} ({label})" if len(parts) > 1 else names[c])
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(pre.features[0])
    ax.set_ylabel(pre.features[1])
    acc = run.metrics.get("train", {}).get("accuracy")
    ax.set_title(f"{run.config.name}: decision regions" + (f" (train accuracy {acc:.3f})" if acc is not None else ""))
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    fig.tight_layout()
    return fig


def _fit_figure(run, Figure):
    parts = _raw_points(run)
    pre = run.preprocessor
    allX = np.concatenate([X[:, 0] for _, X, _ in parts])
    lo, hi = allX.min(), allX.max()
    pad = 0.05 * max(hi - lo, 1e-9)
    grid = np.linspace(lo - pad, hi + pad, 400)
    pred = run.predict(grid[:, None])[:, 0]
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    colors = {"train": "tab:blue", "validation": "tab:orange"}
    for label, X, y in parts:
        ax.scatter(X[:, 0], np.asarray(y)[:, 0], s=10, alpha=0.6, color=colors[label], label=f"{label} data")
    ax.plot(grid, pred, color="k", linewidth=2, label="network ŷ(x)")
    ax.set_xlabel(pre.features[0])
    ax.set_ylabel(pre.targets[0])
    r2 = run.metrics.get("validation", run.metrics.get("train", {})).get("r2")
    which = "validation" if "validation" in run.metrics else "train"
    ax.set_title(f"{run.config.name}: learned curve" + (f" ({which} R² {r2:.4f})" if r2 is not None else ""))
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
