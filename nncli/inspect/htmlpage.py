"""The HTML of nncli's report pages: one self-contained file, built from text.

No network access, no external scripts, styles or fonts (the system's sans-serif); pictures go in as
base64 data: URIs. One column that narrows to a phone's width; wide tables scroll on their own.
report (a run's page) and sweep_report (a sweep's page) build on this module.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np

DPI = 80  # pictures at 80 dpi: sharp at 1280 px, and the page stays a few hundred kB

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f5f6f8; color: #1c2128; line-height: 1.45;
       font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 12px 16px 40px; }
header h1 { font-size: 1.6rem; margin: 12px 0 4px; overflow-wrap: anywhere; }
header p { margin: 0; color: #4b5563; }
nav { margin: 10px 0; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: .95rem; }
nav a { color: #0b63a6; text-decoration: none; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 10px 16px 14px; margin: 14px 0; }
h2 { font-size: 1.2rem; margin: 6px 0 8px; }
h3 { font-size: 1rem; margin: 12px 0 6px; }
p.note { color: #4b5563; font-size: .9rem; margin: 4px 0; }
figure { margin: 8px 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { font-size: .85rem; color: #4b5563; text-align: center; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; }
.card { border: 1px solid #e3e6ea; border-radius: 6px; padding: 6px 10px; }
.card b { display: block; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.card span { font-size: .8rem; color: #4b5563; }
.two { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr)); gap: 12px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .92rem; margin: 4px 0; }
th, td { padding: 4px 9px; border-bottom: 1px solid #e5e7eb; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f4f6; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " ▲"; }
table.sortable th[aria-sort="descending"]::after { content: " ▼"; }
tr.best td { background: #e8f3fb; font-weight: 600; }
pre { background: #f3f4f6; padding: 8px 10px; border-radius: 6px; overflow-x: auto; font-size: .85rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 4px 0; }
dt { color: #4b5563; } dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 600px) { main { padding: 6px 8px 30px; } section { padding: 8px 10px; } header h1 { font-size: 1.3rem; } }
"""

SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.querySelectorAll("th");
  heads.forEach(function (th, col) {
    th.tabIndex = 0;
    function sort() {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
        var nx = parseFloat(x), ny = parseFloat(y), c;
        if (x === "" && y === "") c = 0; else if (x === "") return 1; else if (y === "") return -1;
        else if (!isNaN(nx) && !isNaN(ny) && String(nx) === x && String(ny) === y) c = nx - ny;
        else c = x < y ? -1 : (x > y ? 1 : 0);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    }
    th.addEventListener("click", sort);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
  });
});
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}" if abs(float(v)) < 1e5 else f"{float(v):.5g}"
    return str(v)


def png_uri(fig, dpi: int = DPI) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(uri: str, alt: str, caption: str = "") -> str:
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{esc(alt)}" src="{uri}">{cap}</figure>'


def table_html(header: list[str], rows: list[list[Any]], *, cls: str = "", row_classes: list[str] | None = None,
               shade: list[list[float]] | None = None) -> str:
    """An HTML table; every cell's raw value also goes in data-v (for sorting). shade: per-cell
    0..1 background intensity (confusion matrices), first column excluded."""
    out = [f'<div class="scroll"><table{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}><thead><tr>']
    out += [f'<th scope="col">{esc(h)}</th>' for h in header]
    out.append("</tr></thead><tbody>")
    for r, row in enumerate(rows):
        rc = row_classes[r] if row_classes and row_classes[r] else ""
        out.append(f'<tr class="{rc}">' if rc else "<tr>")
        for c, cell in enumerate(row):
            style = ""
            if shade is not None and c > 0:
                a = shade[r][c - 1]
                style = f' style="background: rgba(8, 119, 189, {0.08 + 0.6 * a:.2f})"' if a > 0 else ""
            raw = "" if cell is None else (repr(float(cell)) if isinstance(cell, (float, np.floating)) else str(cell))
            out.append(f'<td data-v="{esc(raw)}"{style}>{esc(fmt(cell) if cell is not None else "")}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def page(title: str, subtitle: str, sections: list[tuple[str, str, str]], script: str = "") -> str:
    """sections: (id, heading, inner HTML)."""
    nav = "".join(f'<a href="#{esc(i)}">{esc(h)}</a>' for i, h, _ in sections)
    body = "".join(f'<section id="{esc(i)}"><h2>{esc(h)}</h2>{inner}</section>' for i, h, inner in sections)
    js = f"<script>{script}</script>" if script else ""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header><nav>{nav}</nav>{body}</main>{js}"
            f"</body></html>\n")


