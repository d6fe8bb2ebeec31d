"""The boundary over training (`nncli plot RUN_DIR --evolution`): one frame per snapshot.

Needs the run's snapshots.npz (`training.snapshots: N`). Two-input classification: the decision
regions at each snapshot, with the data on top; one-input regression: the fitted curve ŷ(x) over the
data. Each frame is titled with its epoch and the training (and validation) loss of those weights.

  evolution.png   the frames in a grid (at most GRID_MAX of them, evenly chosen, first and last kept)
  evolution.gif   every frame, animated (matplotlib's PillowWriter; Pillow comes with matplotlib)
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..errors import UsageError

GRID_MAX = 12       # frames in evolution.png
GRID_POINTS = 120   # decision-region resolution per side
FPS = 3


def evolution_kind(run) -> str | None:
    """'decision' (2-input classification), 'fit' (1-input, 1-target regression) or None."""
    pre = run.preprocessor
    if pre.categories:
        return None
    if pre.task == "classification" and pre.n_inputs == 2:
        return "decision"
    if pre.task == "regression" and pre.n_inputs == 1 and len(pre.targets) == 1:
        return "fit"
    return None


class Frames:
    """What every frame needs, computed once: the data, the grid, and per snapshot its picture.

    values[i]: decision -> predicted class per grid point (GRID_POINTS, GRID_POINTS), plus the
    class-1 probability for two classes; fit -> ŷ over the x grid (n_grid,)."""

    def __init__(self, run, snapshots: dict[str, np.ndarray]):
        from ..api import build_network
        from .figures import _raw_points

        self.run, self.kind = run, evolution_kind(run)
        self.parts = _raw_points(run)
        self.epochs = [int(e) for e in snapshots["epoch"]]
        self.loss = [float(v) for v in snapshots["loss"]]
        self.val_loss = [float(v) for v in snapshots["val_loss"]] if "val_loss" in snapshots else None
        net = build_network(run.config, run.preprocessor.n_inputs)
        keys = [k for k in snapshots if k.startswith("layers.")]
        allX = np.vstack([X for _, X, _ in self.parts])
        pre = run.preprocessor
        if self.kind == "decision":
            lo, hi = allX.min(axis=0), allX.max(axis=0)
            pad = 0.1 * np.maximum(hi - lo, 1e-9)
            self.lo, self.hi = lo - pad, hi + pad
            self.gx, self.gy = np.meshgrid(np.linspace(self.lo[0], self.hi[0], GRID_POINTS),
                                           np.linspace(self.lo[1], self.hi[1], GRID_POINTS))
            grid = np.column_stack([self.gx.ravel(), self.gy.ravel()])
        else:
            lo, hi = float(allX.min()), float(allX.max())
            pad = 0.05 * max(hi - lo, 1e-9)
            self.grid = np.linspace(lo - pad, hi + pad, 300)
            grid = self.grid[:, None]
            ally = np.concatenate([np.asarray(y, np.float64)[:, 0] for _, _, y in self.parts])
            span = max(float(ally.max() - ally.min()), 1e-9)
            self.ylim = (float(ally.min()) - 0.25 * span, float(ally.max()) + 0.25 * span)
        scaled = pre.scale_features(grid, net.dtype)
        from ..training import make_loss

        loss = make_loss(run.config)
        self.values, self.p1 = [], []
        for i in range(len(self.epochs)):
            net.load_weights({k: snapshots[k][i] for k in keys})
            out = net.predict_output(scaled)
            if self.kind == "decision":
                proba = np.asarray(loss.probabilities(out, net.output_activation), np.float64)
                self.k = proba.shape[1]
                self.values.append(proba.argmax(axis=1).reshape(self.gx.shape))
                self.p1.append(proba[:, 1].reshape(self.gx.shape) if self.k == 2 else None)
            else:
                self.values.append(np.asarray(out[:, 0], np.float64))

    def title(self, i: int) -> str:
        text = f"epoch {self.epochs[i]} · loss {self.loss[i]:.4g}"
        if self.val_loss is not None:
            text += f" · val {self.val_loss[i]:.4g}"
        return text

    def draw(self, ax, i: int, small: bool = False) -> None:
        """Frame i on ax (cleared first)."""
        ax.clear()
        pre = self.run.preprocessor
        if self.kind == "decision":
            import matplotlib
            from matplotlib.colors import ListedColormap

            cmap = matplotlib.colormaps["tab10" if self.k <= 10 else "tab20"]
            colors = [cmap(c) for c in range(self.k)]
            ax.pcolormesh(self.gx, self.gy, self.values[i], cmap=ListedColormap(colors), vmin=-0.5,
                          vmax=self.k - 0.5, alpha=0.3, shading="auto")
            if self.p1[i] is not None and 0 < self.p1[i].min() < 0.5 < self.p1[i].max():
                ax.contour(self.gx, self.gy, self.p1[i], levels=[0.5], colors="k", linewidths=0.8)
            for label, X, y in self.parts:
                for c in range(self.k):
                    sel = y == c
                    if sel.any():
                        ax.scatter(X[sel, 0], X[sel, 1], s=(6 if small else 12) if len(X) > 50 else 40,
                                   marker="o" if label == "train" else "^", color=colors[c],
                                   edgecolors="k", linewidths=0.3)
            ax.set_xlim(self.lo[0], self.hi[0])
            ax.set_ylim(self.lo[1], self.hi[1])
        else:
            for label, X, y in self.parts:
                ax.scatter(X[:, 0], np.asarray(y)[:, 0], s=4 if small else 8, alpha=0.5,
                           color="tab:blue" if label == "train" else "tab:orange")
            ax.plot(self.grid, np.clip(self.values[i], *self.ylim), color="k", linewidth=1.5)
            ax.set_ylim(*self.ylim)
            ax.grid(True, alpha=0.3)
        if small:
            ax.tick_params(labelsize=6)
        else:
            ax.set_xlabel(pre.features[0])
            ax.set_ylabel(pre.features[1] if self.kind == "decision" else pre.targets[0])
        ax.set_title(self.title(i), fontsize=8 if small else 10)


def grid_indices(n: int, limit: int = GRID_MAX) -> list[int]:
    """At most `limit` of range(n), evenly spread, first and last included."""
    if n <= limit:
        return list(range(n))
    return sorted({int(round(j * (n - 1) / (limit - 1))) for j in range(limit)})


def write_evolution(run, path: Path, Figure, Canvas) -> list[Path]:
    """Write evolution.png and evolution.gif into the run directory `path`; returns both paths."""
    from ..run.snapshots import SNAPSHOTS, load_snapshots
    from .figures import _save

    kind = evolution_kind(run)
    if kind is None:
        pre = run.preprocessor
        raise UsageError(f"{path}: --evolution draws two-input classification or one-input regression; this run is a "
                         f"{pre.task} with {pre.n_inputs} inputs"
                         f"{'' if pre.task == 'classification' else f' and {len(pre.targets)} targets'}; "
                         f"use --network or nncli report instead")
    snaps = load_snapshots(path, run.network)
    if snaps is None:
        raise UsageError(f"{path / SNAPSHOTS}: missing, the run saved no snapshots; train with training.snapshots: N "
                         f"(e.g. nncli train CONFIG --set training.snapshots=20) to draw its evolution")
    frames = Frames(run, snaps)
    png = _save(grid_figure(frames, Figure), Canvas, path / "evolution.png")
    gif = path / "evolution.gif"
    from .figures import cannot_write

    with cannot_write(gif):
        write_bytes_of(gif, lambda tmp: animate(frames, Figure, tmp))
    return [png, gif]


def grid_figure(frames: Frames, Figure):
    idx = grid_indices(len(frames.epochs))
    cols = min(4, len(idx))
    rows = math.ceil(len(idx) / cols)
    fig = Figure(figsize=(3.1 * cols, 2.9 * rows + 0.5))
    for n, i in enumerate(idx):
        frames.draw(fig.add_subplot(rows, cols, n + 1), i, small=True)
    what = "decision regions" if frames.kind == "decision" else "fitted curve"
    note = f" ({len(idx)} of {len(frames.epochs)} snapshots)" if len(idx) < len(frames.epochs) else ""
    fig.suptitle(f"{frames.run.config.name}: {what} over training{note}", fontsize=11)
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.25 / h, top=1 - 0.55 / h, wspace=0.28, hspace=0.35)
    return fig


def animate(frames: Frames, Figure, target: Path) -> None:
    """Every frame into an animated GIF at `target` (PillowWriter)."""
    from matplotlib.animation import PillowWriter

    fig = Figure(figsize=(5.0, 4.4))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    # fixed margins, not tight_layout: measuring every frame's text would cost more than drawing it
    fig.subplots_adjust(left=0.15, right=0.96, bottom=0.12, top=0.92)
    writer = PillowWriter(fps=FPS)
    with writer.saving(fig, str(target), dpi=80):
        for i in range(len(frames.epochs)):
            frames.draw(ax, i)
            writer.grab_frame()


def write_bytes_of(target: Path, produce) -> None:
    """Let `produce(tmp_path)` write a file, then rename it over `target` (never half-written)."""
    tmp = target.with_name(f".{target.stem}.tmp-{os.getpid()}{target.suffix}")
    try:
        produce(tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
