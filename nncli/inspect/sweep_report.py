"""A sweep's page for `nncli report SWEEP_DIR`: the results table (sortable) and the best trial's curves.

Reads the sweep folder's own files only — sweep.json (metric, direction), results.csv (one row per
trial) and best.json (the best trial) — so it works on any finished or partly finished sweep.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..errors import NncliError, RunDirError
from .htmlpage import SORT_JS, esc, figure_html, fmt, page, png_uri, table_html


def _number(cell: str):
    """A results.csv cell as a float when it is one (for sorting and formatting), else the text."""
    try:
        return float(cell)
    except ValueError:
        return cell


def sweep_page(path: Path) -> str:
    from ..run.files import read_json

    meta = read_json(path / "sweep.json")
    csv_path = path / "results.csv"
    if not csv_path.is_file():
        raise RunDirError(f"{csv_path}: missing; the sweep has not finished a trial yet — run it with: nncli sweep ...")
    try:
        with open(csv_path, newline="", encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RunDirError(f"{csv_path}: cannot read ({exc})") from None
    if not rows:
        raise RunDirError(f"{csv_path}: empty; re-run the sweep to write it")
    header, body = rows[0], rows[1:]
    metric, direction = str(meta.get("metric", "")), str(meta.get("direction", ""))
    best = None
    if (path / "best.json").is_file():
        best = read_json(path / "best.json")
    best_id = str(best.get("trial")) if best else None
    drop = {"path", "error"} if not any(r[header.index("error")] for r in body if "error" in header) else {"path"}
    keep = [i for i, h in enumerate(header) if h not in drop]
    table_rows = [[_number(r[i]) if i < len(r) and h not in ("trial", "status") else (r[i] if i < len(r) else "")
                   for i, h in ((i, header[i]) for i in keep)] for r in body]
    row_classes = ["best" if r and r[0] == best_id else "" for r in body]
    results = (f'<p class="note">{len(body)} trials; metric <b>{esc(metric)}</b> ({esc(direction)}). '
               f"Click a column heading to sort.</p>"
               + table_html([header[i] for i in keep], table_rows, cls="sortable", row_classes=row_classes))
    sections = [("results", "Results", results)]
    if best:
        sections.append(("best", f"Best trial: {best_id}", _best_html(path, best, metric)))
    name = str(meta.get("name", path.name))
    base = str(meta.get("base", ""))
    return page(f"nncli sweep: {name}", f"{len(body)} trials of {base}", sections, script=SORT_JS)


def _best_html(path: Path, best: dict, metric: str) -> str:
    from matplotlib.figure import Figure

    from ..api import load_run
    from .plot import _loss_figure

    params = best.get("params") or {}
    items = [("value", f"{metric} = {fmt(best.get('value'))}")] + [(k, json.dumps(v)) for k, v in params.items()]
    dl = "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items) + "</dl>"
    trial_dir = path / str(best.get("trial", ""))
    try:
        run = load_run(trial_dir)
    except NncliError as exc:
        return dl + f'<p class="note">The best trial\'s run could not be read ({esc(exc.message.splitlines()[0])}).</p>'
    fig = figure_html(png_uri(_loss_figure(run, Figure)), f"loss and metric per epoch of trial {best.get('trial')}")
    return dl + fig + f'<p class="note">Its own page: nncli report {esc(trial_dir)}</p>'
