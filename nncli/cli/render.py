"""Text rendering shared by explain, gradcheck and weights: numbers, matrices, headings.

On a terminal the lines go through Rich with styles; otherwise they are printed as plain text with
no control characters (for files, pipes and tests). Numbers use ASCII '-' so they can be parsed.
"""

from __future__ import annotations

import sys

FULL_LIMIT = 64  # arrays with at most this many numbers are shown in full
SAMPLES = 4  # entries shown for a larger array


def num(v) -> str:
    v = float(v)
    if v == 0:
        return "0"
    return f"{v:.6g}"


def shape_text(shape) -> str:
    return "×".join(str(s) for s in shape) if shape else "scalar"


def matrix_lines(arr, limit: int = FULL_LIMIT) -> list[str]:
    """A small array as aligned rows '[ a  b ]'; a large one as shape, norm and sample entries."""
    import numpy as np

    a = np.asarray(arr)
    if a.size > limit:
        flat = a.reshape(-1)
        idx = [np.unravel_index(i, a.shape) for i in range(min(SAMPLES, flat.size))]
        samples = ", ".join(f"[{','.join(map(str, ix))}] = {num(a[ix])}" for ix in idx)
        return [f"shape {shape_text(a.shape)}, ‖·‖ = {num(np.linalg.norm(flat.astype(np.float64)))}, "
                f"mean {num(flat.mean(dtype=np.float64))}, min {num(flat.min())}, max {num(flat.max())}",
                f"first entries: {samples}, …"]
    if a.ndim <= 1:
        return ["[ " + "  ".join(num(v) for v in a.reshape(-1)) + " ]"]
    rows = [[num(v) for v in row] for row in a.reshape(a.shape[0], -1)]
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    return ["[ " + "  ".join(c.rjust(w) for c, w in zip(r, widths)) + " ]" for r in rows]


def is_scalar(arr) -> bool:
    import numpy as np

    return np.asarray(arr).size == 1


def scalar(arr) -> str:
    import numpy as np

    return num(np.asarray(arr).reshape(-1)[0])


class Out:
    """Writes styled lines: Rich on a terminal, plain text otherwise."""

    STYLES = {"title": "bold", "section": "bold cyan", "label": "", "note": "dim", "good": "bold green",
              "bad": "bold red"}

    def __init__(self, stream=None, rich: bool | None = None):
        self.stream = stream or sys.stdout
        self.rich = self.stream.isatty() if rich is None else rich
        if self.rich:
            from rich.console import Console

            self.console = Console(file=self.stream, highlight=False)

    def line(self, text: str = "", style: str = "label", indent: int = 0) -> None:
        text = " " * indent + text
        if self.rich:
            from rich.text import Text

            self.console.print(Text(text, style=self.STYLES.get(style, style)), soft_wrap=True)
        else:
            print(text, file=self.stream)

    def title(self, text: str) -> None:
        self.line(text, "title")

    def section(self, text: str) -> None:
        self.line("")
        self.line(text, "section")

    def note(self, text: str, indent: int = 2) -> None:
        self.line(text, "note", indent)

    def value(self, label: str, arr, indent: int = 2) -> None:
        """'label = v' for a single number, else 'label (shape):' and the matrix below."""
        import numpy as np

        a = np.asarray(arr)
        if a.size == 1:
            self.line(f"{label} = {scalar(a)}", indent=indent)
            return
        self.line(f"{label} ({shape_text(a.shape)}):", indent=indent)
        for ln in matrix_lines(a):
            self.line(ln, indent=indent + 2)

    def table(self, headers: list[str], rows: list[list[str]], title: str | None = None, indent: int = 2) -> None:
        if self.rich:
            from rich.table import Table

            t = Table(title=title, title_justify="left", show_edge=False)
            for i, h in enumerate(headers):
                t.add_column(h, justify="left" if i == 0 else "right")
            for r in rows:
                t.add_row(*r)
            self.console.print(t)
            return
        if title:
            self.line(title, indent=0)
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
        fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
        self.line(fmt(headers), indent=indent)
        for r in rows:
            self.line(fmt(r), indent=indent)
