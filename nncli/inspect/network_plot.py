"""The network as a picture (`nncli plot RUN_DIR --network` -> network.png).

Columns left to right: the inputs, then each layer. Every weight is a line from the neuron it leaves
to the neuron it feeds; its colour is its sign (blue positive, orange negative, TensorFlow
Playground's convention) and its width and opacity grow with |w| (scaled to the largest |w| shown).
Each neuron is labelled with its activation and its bias; a node's rim has the bias's colour.

Small networks (≤ 2 inputs, every hidden layer ≤ 16 units): each neuron is a tile showing its output
over the input plane (2 inputs: a heat map, blue high / orange low; 1 input: its curve), the same box
of the plane that decision.png draws. Layers wider than MAX_UNITS show the MAX_UNITS units with the
largest total |weight| in and out, and the picture says how many were left out.
"""

from __future__ import annotations

import numpy as np

MAX_UNITS = 16          # neurons drawn per column; wider layers are sampled
TILE_MAX_HIDDEN = 16    # tiles only when every hidden layer is at most this wide
TILE_GRID = 48          # pixels per side of a 2-input tile (48² forward passes, cheap)
POSITIVE, NEGATIVE = "#0877bd", "#f59322"  # Playground's blue and orange
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")
LABEL_BOX = {"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}


def playground_cmap():
    """orange (low) -> white -> blue (high)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("nncli_playground", [NEGATIVE, "#ffffff", POSITIVE])


def input_box(run) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi), each (n_inputs,): the raw data's range padded by 10%, as decision.png uses."""
    from .figures import _raw_points

    allX = np.vstack([X for _, X, _ in _raw_points(run)])
    lo, hi = allX.min(axis=0), allX.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    return lo - pad, hi + pad


def layer_outputs(network, X: np.ndarray) -> list[np.ndarray]:
    """Inference-mode outputs of every layer for scaled inputs X (n, n_inputs): [X, a1, …, aL],
    each (n, units), copied (the layers reuse their buffers)."""
    outs = [np.asarray(X, network.dtype)]
    a = outs[0]
    for layer in network.layers:
        a = layer.forward(a, False, None)
        outs.append(a.copy())
    return outs


def _pick(importance: np.ndarray) -> np.ndarray:
    """Indices of the units to draw: all, or the MAX_UNITS most important, in index order."""
    if importance.size <= MAX_UNITS:
        return np.arange(importance.size)
    return np.sort(np.argsort(-importance, kind="stable")[:MAX_UNITS])


def network_figure(run, Figure):
    """The matplotlib Figure of network.png."""
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Circle, Rectangle

    net, pre = run.network, run.preprocessor
    Ws = [np.asarray(l.W, np.float64) for l in net.layers]
    bs = [np.asarray(l.b, np.float64) for l in net.layers]
    sizes = [net.n_inputs] + [l.units for l in net.layers]
    n_cols = len(sizes)
    tiles = net.n_inputs <= 2 and all(s <= TILE_MAX_HIDDEN for s in sizes[1:-1])

    # which units each column shows
    shown = []
    for c, size in enumerate(sizes):
        imp = np.zeros(size)
        if c > 0:
            imp += np.abs(Ws[c - 1]).sum(axis=0)
        if c < n_cols - 1:
            imp += np.abs(Ws[c]).sum(axis=1)
        shown.append(_pick(imp))

    responses = _responses(run, shown) if tiles else None

    gap_x, gap_y, half = 3.2, 1.45, 0.42
    tallest = max(len(s) for s in shown)
    ys = [((len(s) - 1) / 2 - np.arange(len(s))) * gap_y for s in shown]
    width_in = max(6.0, 2.1 * n_cols + 1.5)
    height_in = max(3.6, 0.5 * tallest * gap_y + 1.8)
    fig = Figure(figsize=(width_in, height_in))
    ax = fig.add_axes((0.02, 0.09, 0.96, 0.80))
    ax.set_aspect("equal")
    ax.axis("off")

    # weights: one LineCollection for all, drawn under the neurons
    wmax = max((float(np.abs(W[np.ix_(shown[c], shown[c + 1])]).max()) for c, W in enumerate(Ws)), default=1.0) or 1.0
    segments, colors, widths = [], [], []
    for c, W in enumerate(Ws):
        x0, x1 = c * gap_x + half, (c + 1) * gap_x - half
        for i, src in enumerate(shown[c]):
            for j, dst in enumerate(shown[c + 1]):
                w = float(W[src, dst])
                rel = abs(w) / wmax
                segments.append(((x0, ys[c][i]), (x1, ys[c + 1][j])))
                rgb = POSITIVE if w >= 0 else NEGATIVE
                colors.append(to_rgba(rgb, 0.2 + 0.8 * rel))
                widths.append(0.3 + 4.2 * rel)
    if segments:
        ax.add_collection(LineCollection(segments, colors=colors, linewidths=widths, zorder=1))

    cmap = playground_cmap()
    bmax = max((float(np.abs(b).max()) for b in bs), default=0.0)
    for c, units in enumerate(shown):
        x = c * gap_x
        act = None if c == 0 else net.layers[c - 1].activation_name
        for i, u in enumerate(units):
            y = ys[c][i]
            bias = None if c == 0 else float(bs[c - 1][u])
            rim = "#555555" if bias is None else (POSITIVE if bias >= 0 else NEGATIVE)
            rim_w = 1.0 if bias is None or bmax == 0 else 1.0 + 2.5 * abs(bias) / bmax
            if responses is not None:
                _draw_tile(ax, responses[c][:, i], x, y, half, act, cmap, net.n_inputs)
                ax.add_patch(Rectangle((x - half, y - half), 2 * half, 2 * half, fill=False, edgecolor=rim,
                                       linewidth=rim_w, zorder=3))
            else:
                ax.add_patch(Circle((x, y), half * 0.8, facecolor="white", edgecolor=rim, linewidth=rim_w, zorder=3))
            if c == 0:
                ax.text(x - half - 0.12, y, pre.input_names[u], ha="right", va="center", fontsize=8, zorder=4,
                        bbox=LABEL_BOX)
            else:
                ax.text(x, y - half - 0.06, f"{act} b={bias:+.2f}", ha="center", va="top", fontsize=6.5, zorder=4,
                        bbox=LABEL_BOX)
            if c == n_cols - 1:
                ax.text(x + half + 0.12, y, _output_name(pre, u, net.n_outputs), ha="left", va="center", fontsize=8, zorder=4)
        top = ys[c][0] + half + 0.25 if len(units) else 0.0
        title = "inputs" if c == 0 else ("output" if c == n_cols - 1 else f"hidden {c}")
        ax.text(x, top + 0.35, f"{title}\n{sizes[c]} unit{'s' if sizes[c] != 1 else ''}"
                + (f"\n{len(units)} shown" if len(units) < sizes[c] else ""),  # own line: columns are close
                ha="center", va="bottom", fontsize=8.5, fontweight="bold")
        if len(units) < sizes[c]:
            ax.text(x, ys[c][-1] - half - 0.55, f"⋮ {sizes[c] - len(units)} more", ha="center", va="top",
                    fontsize=8, color="#444444")

    lo_y = min(float(y[-1]) for y in ys if len(y)) - half - 1.0
    hi_y = max(float(y[0]) for y in ys if len(y)) + half + 1.4
    ax.set_xlim(-2.4, (n_cols - 1) * gap_x + 2.4)
    ax.set_ylim(lo_y, hi_y)

    fig.suptitle(f"{run.config.name}: {' → '.join(map(str, sizes))} ({net.n_params} parameters)", fontsize=11)
    fig.text(0.5, 0.015, caption(sizes, shown, tiles, net.n_inputs), ha="center", va="bottom", fontsize=7.5,
             color="#333333")
    return fig


def caption(sizes, shown, tiles, n_inputs) -> str:
    """The legend line under the picture, including what was left out."""
    parts = ["lines: weights, blue > 0, orange < 0, width ∝ |w|; rim: bias sign; label: activation and bias b"]
    if tiles:
        parts.append("tiles: each neuron's output over the input plane (blue high, orange low)" if n_inputs == 2
                     else "tiles: each neuron's output as a curve over the input")
    sampled = [f"{'inputs' if c == 0 else f'layer {c}'} {len(s)} of {sizes[c]}" for c, s in enumerate(shown)
               if len(s) < sizes[c]]
    if sampled:
        parts.append("sampled: " + ", ".join(sampled) + " units shown (largest total |w|)")
    return "\n".join(parts)


def _output_name(pre, u: int, n_outputs: int) -> str:
    if pre.task == "classification":
        classes = list(pre.classes or [])
        if len(classes) == 2 and n_outputs == 1:  # one sigmoid unit: the probability of the second class
            return f"P({classes[1]})"
        return str(classes[u]) if u < len(classes) else f"out {u}"
    return pre.targets[u] if u < len(pre.targets) else f"out {u}"


def _responses(run, shown) -> list[np.ndarray]:
    """Per column, the output of each shown unit over the input plane: (grid points, shown units)."""
    lo, hi = input_box(run)
    if run.network.n_inputs == 2:
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], TILE_GRID), np.linspace(lo[1], hi[1], TILE_GRID))
        raw = np.column_stack([gx.ravel(), gy.ravel()])
    else:
        raw = np.linspace(lo[0], hi[0], 200)[:, None]
    outs = layer_outputs(run.network, run.preprocessor.scale_features(raw, run.network.dtype))
    return [np.asarray(o, np.float64)[:, s] for o, s in zip(outs, shown)]


def _draw_tile(ax, values: np.ndarray, x: float, y: float, half: float, act, cmap, n_inputs: int) -> None:
    extent = (x - half, x + half, y - half, y + half)
    if act in PROBABILITY_OUTPUTS:
        vmin, vmax = 0.0, 1.0
    else:
        m = float(np.abs(values).max()) or 1.0
        vmin, vmax = -m, m
    if n_inputs == 2:
        ax.imshow(values.reshape(TILE_GRID, TILE_GRID), origin="lower", extent=extent, cmap=cmap, vmin=vmin,
                  vmax=vmax, interpolation="bilinear", zorder=2)
    else:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((x - half, y - half), 2 * half, 2 * half, facecolor="white", zorder=2))
        t = np.linspace(x - half, x + half, values.size)
        v = (values - vmin) / (vmax - vmin)  # 0..1 inside the tile
        ax.plot(t, y - half + 0.08 + v * (2 * half - 0.16), color="#222222", linewidth=1.0, zorder=2.5)
        if vmin < 0 < vmax:  # the zero line
            z = y - half + 0.08 + (-vmin / (vmax - vmin)) * (2 * half - 0.16)
            ax.plot([x - half, x + half], [z, z], color="#aaaaaa", linewidth=0.5, zorder=2.4)
