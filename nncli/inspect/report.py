"""One page to share (`nncli report DIR` -> DIR/report.html), for a run or a sweep.

The page is one self-contained HTML file: no network access, no external scripts, styles or fonts
(the system's sans-serif), every picture inline as a base64 data: URI. Everything that is text —
the config, metrics, tables, provenance — is HTML text, so it can be searched and copied; the
layout is one column that narrows to a phone's width (tables scroll sideways on their own).

A run's page: summary, network picture, loss and metric curves, the final decision regions or fit,
the evolution over training (with snapshots.npz), evaluation on the validation and test data
(or the training data when there is neither: per-class table and confusion matrix, or MSE/MAE/R²),
the config and the provenance (seed, versions, overrides, seconds).

A sweep's page: the results table (click a column heading to sort; a few lines of inline script)
and the best trial's curves.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from ..errors import NncliError
from .evolution import evolution_kind
from .htmlpage import esc, figure_html, fmt, page, png_uri, table_html

REPORT = "report.html"


# ---------------------------------------------------------------- a run
def report(target: str | Path) -> Path:
    """Write report.html into a run directory or a sweep folder; returns its path."""
    from ..extras import require

    require("matplotlib", "plot", "nncli report")  # the one-line install hint before anything else
    path = Path(target)
    if path.is_dir() and (path / "sweep.json").is_file() and not (path / "config.yaml").exists():
        from .sweep_report import sweep_page

        text = sweep_page(path)
    else:
        text = run_page(path)
    from ..run.files import write_text_atomic

    from .figures import cannot_write

    out = path / REPORT
    with cannot_write(out):
        write_text_atomic(out, text)
    return out


def run_page(path: Path) -> str:
    from matplotlib.figure import Figure

    from ..api import load_run
    from .network_plot import network_figure
    from .plot import _decision_figure, _fit_figure, _loss_figure

    run = load_run(path)
    pre, m = run.preprocessor, run.metrics
    prepared, data_problem = None, None
    try:
        from ..data.prepare import prepare

        prepared = prepare(run.config)
        run.prepared_cache = prepared  # the pictures below regenerate the same data; read it once
    except NncliError as exc:
        data_problem = exc.message.splitlines()[0]

    sections = [("summary", "Summary", summary_html(run))]
    no_data = f'<p class="note">The run\'s data could not be read again ({esc(data_problem)}); pictures that need it are left out.</p>'
    tiles_need_data = run.network.n_inputs <= 2
    if data_problem is None or not tiles_need_data:
        net_img = figure_html(png_uri(network_figure(run, Figure), dpi=100), "the network: every neuron and weight",
                              "Blue lines are positive weights, orange negative; width grows with |w|.")
    else:
        net_img = no_data
    sections.append(("network", "The network", net_img))
    sections.append(("curves", "Loss and metrics over training",
                     figure_html(png_uri(_loss_figure(run, Figure)), "loss and metric per epoch")))
    kind = evolution_kind(run)
    if kind:
        if data_problem is None:
            fig = _decision_figure(run, Figure) if kind == "decision" else _fit_figure(run, Figure)
            inner = figure_html(png_uri(fig), "decision regions" if kind == "decision" else "fitted curve")
        else:
            inner = no_data
        sections.append(("final", "Final decision regions" if kind == "decision" else "Final fit", inner))
    evo = evolution_html(run, path, data_problem)
    if evo:
        sections.append(("evolution", "Over training", evo))
    sections.append(("evaluation", "Evaluation", evaluation_html(run, prepared, data_problem)))
    cfg_text = (path / "config.yaml").read_text(encoding="utf-8")
    sections.append(("config", "Config", f"<pre>{esc(cfg_text)}</pre>"))
    sections.append(("provenance", "Provenance", provenance_html(run, path)))
    subtitle = (f"{pre.task}, {pre.n_inputs} input{'s' if pre.n_inputs != 1 else ''} → "
                f"{' → '.join(str(l.units) for l in run.config.model.layers)}, {m.get('epochs_run', len(run.history))} epochs")
    return page(f"nncli run: {run.config.name}", subtitle, sections)


def summary_html(run) -> str:
    m = run.metrics
    cards = []
    for split in ("train", "validation", "test"):
        part = m.get(split)
        if not isinstance(part, dict):
            continue
        for key in ("accuracy", "r2", "loss"):
            if key in part:
                label = {"r2": "R²"}.get(key, key)
                cards.append((fmt(part[key]), f"{split} {label}"))
                break
    cards.append((fmt(m.get("epochs_run", len(run.history))), "epochs"))
    cards.append((fmt(m.get("n_parameters", run.network.n_params)), "parameters"))
    cards.append((f"{run.seconds:.2f} s", "training time"))
    body = "".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for v, k in cards)
    rows = []
    names = sorted({k for s in ("train", "validation", "test") if isinstance(m.get(s), dict) for k in m[s]})
    for split in ("train", "validation", "test"):
        if isinstance(m.get(split), dict):
            rows.append([split] + [m[split].get(k) for k in names])
    table = table_html(["data"] + names, rows) if rows else ""
    return f'<div class="cards">{body}</div><h3>Final metrics</h3>{table}'


def evolution_html(run, path: Path, data_problem) -> str:
    from ..run.snapshots import load_snapshots

    snaps = load_snapshots(path, run.network)
    if snaps is None:
        return ""
    rows = [[int(e), float(l)] + ([float(snaps["val_loss"][i])] if "val_loss" in snaps else [])
            for i, (e, l) in enumerate(zip(snaps["epoch"], snaps["loss"]))]
    header = ["epoch", "train loss"] + (["validation loss"] if "val_loss" in snaps else [])
    table = f"<h3>Loss of each snapshot</h3>{table_html(header, rows)}"
    from .evolution import Frames, grid_figure

    if evolution_kind(run) is None:
        return (f'<p class="note">{len(rows)} snapshots were saved; pictures of the boundary over training '
                f'need two-input classification or one-input regression.</p>{table}')
    if data_problem is not None:
        return f'<p class="note">The data could not be read again ({esc(data_problem)}).</p>{table}'
    from matplotlib.figure import Figure

    frames = Frames(run, snaps)
    grid = figure_html(png_uri(grid_figure(frames, Figure)), "the boundary at each snapshot")
    import tempfile

    from .evolution import animate

    with tempfile.TemporaryDirectory() as tmp:
        gif = Path(tmp) / "evolution.gif"
        animate(frames, Figure, gif)
        gif_uri = "data:image/gif;base64," + base64.b64encode(gif.read_bytes()).decode("ascii")
    anim = figure_html(gif_uri, "animation of the boundary over training",
                       f"{len(frames.epochs)} frames, epoch and loss on each.")
    return f'<div class="two">{anim}<div>{table}</div></div>{grid}'


def split_outputs(run, split) -> np.ndarray:
    """Network outputs (n, n_outputs) for a prepared split (scaled X; memory-mapped rows in chunks)."""
    X = split.X
    if isinstance(X, np.ndarray):
        return run.network.predict_output(X)
    n, chunk = len(X), 8192
    return np.concatenate([run.network.predict_output(X.rows(np.arange(s, min(s + chunk, n)))) for s in range(0, n, chunk)])


def evaluation_html(run, prepared, data_problem) -> str:
    if prepared is None:
        return f'<p class="note">The run\'s data could not be read again ({esc(data_problem)}).</p>'
    from .. import metrics as M
    from ..training import make_loss
    from .evaluation import classification_report, regression_report, report_tables

    pre, net = run.preprocessor, run.network
    splits = [(n, s) for n, s in (("validation", prepared.validation), ("test", prepared.test)) if s is not None]
    note = ""
    if not splits:
        splits = [("training", prepared.train)]
        note = '<p class="note">The run holds out no validation or test data; this is the training data.</p>'
    loss = make_loss(run.config)
    out_html = [note]
    for name, split in splits:
        out = split_outputs(run, split)
        y = split.y
        total = float(loss(out, y, np.empty_like(out), None, net.output_activation)) / max(len(y), 1)
        if pre.task == "classification":
            rep = classification_report(np.asarray(y), M.predicted_classes(out, net.output_activation), pre.classes)
        else:
            rep = regression_report(y, np.asarray(out, np.float64), pre.targets)
        rep.update({"task": pre.task, "n_samples": len(y), "loss": total})
        out_html.append(f"<h3>{esc(name.capitalize())} data ({len(y)} rows)</h3>")
        for title, header, rows in report_tables(rep):
            shade = None
            if title.startswith("Confusion"):
                cm = np.asarray(rep["confusion_matrix"], np.float64)
                shade = (cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)).tolist()
            out_html.append(f'<p class="note">{esc(title)}</p>' + table_html(header, rows, shade=shade))
    return "".join(out_html)


def provenance_html(run, path: Path) -> str:
    import platform

    import matplotlib

    m = run.metrics
    versions = m.get("versions", {}) if isinstance(m.get("versions"), dict) else {}
    overrides = m.get("overrides") or []
    items = [("run directory", str(path.resolve())), ("seed", m.get("seed", run.config.seed)),
             ("overrides", ", ".join(map(str, overrides)) if overrides else "none"),
             ("training seconds", f"{run.seconds:.3f}"),
             ("epochs run / configured", f"{m.get('epochs_run', len(run.history))} / {m.get('epochs_configured', run.config.training.epochs)}"),
             ("stopped early", m.get("stopped_early", False))]
    if "best_epoch" in m:
        items.append(("best epoch", m["best_epoch"]))
    if "resumed_from_epoch" in m:
        items.append(("resumed from epoch", m["resumed_from_epoch"]))
    items += [(f"{k} (training)", v) for k, v in versions.items()]
    from .. import __version__

    items += [("nncli (report)", __version__), ("matplotlib (report)", matplotlib.__version__),
              ("python (report)", platform.python_version())]
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(fmt(v))}</dd>" for k, v in items) + "</dl>"
