"""Tables: rich when it is installed (and not disabled), aligned plain text otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""

    def add(self, *cells) -> None:
        self.rows.append([("" if c is None else str(c)) for c in cells])


def fmt_s(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}x"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


class Printer:
    def __init__(self, plain: bool = False):
        self.console = None
        if not plain:
            try:
                from rich.console import Console

                self.console = Console()
            except ImportError:
                self.console = None

    def line(self, text: str = "") -> None:
        if self.console is not None:
            self.console.print(text, highlight=False, markup=False)
        else:
            print(text, flush=True)

    def table(self, t: Table) -> None:
        if self.console is not None:
            from rich.table import Table as RichTable

            rt = RichTable(title=t.title, caption=t.note or None, title_justify="left")
            for i, c in enumerate(t.columns):
                rt.add_column(c, justify="left" if i == 0 else "right")
            for r in t.rows:
                styled = [self._style(c) for c in r]
                rt.add_row(*styled)
            self.console.print(rt)
            return
        widths = [len(c) for c in t.columns]
        for r in t.rows:
            widths = [max(w, len(c)) for w, c in zip(widths, r)]
        sep = "  "
        print(f"\n{t.title}")
        print(sep.join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(t.columns, widths))))
        print(sep.join("-" * w for w in widths))
        for r in t.rows:
            print(sep.join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if t.note:
            print(t.note)
        print(flush=True)

    @staticmethod
    def _style(cell: str):
        from rich.text import Text

        if cell == "PASS":
            return Text(cell, style="bold green")
        if cell in ("FAIL", "MISS"):
            return Text(cell, style="bold red")
        if cell.startswith("skipped"):
            return Text(cell, style="dim")
        return Text(cell)
