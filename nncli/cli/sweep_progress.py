"""Showing a sweep's progress: a live Rich table on a terminal, one plain line per finished trial
otherwise, and the summary at the end.  The sweep itself only calls the hooks of
:class:`nncli.sweep.runner.SweepEvents`; this module is where they print.
"""

from __future__ import annotations

import sys
from typing import Any

from ..config.overrides import format_value
from ..sweep.results import SweepResult, TrialResult, metric_value
from ..sweep.runner import Sweep, SweepEvents

__all__ = ["LineReporter", "LiveReporter", "make_reporter", "summary_lines"]


class LineReporter(SweepEvents):
    """One plain line per finished trial (for logs and pipes)."""

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stdout
        self.total = 0
        self.finished = 0

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def start(self, sweep: Sweep, results: list[TrialResult], executor: str) -> None:
        self.sweep = sweep
        self.total = len(results)
        skipped = sum(r.status == "skipped" for r in results)
        self.finished = skipped
        extra = f", {skipped} already complete" if skipped else ""
        self._print(f"sweep {sweep.name}: {self.total} trials{extra}; {executor}; -> {sweep.dir}")

    def update(self, result: TrialResult) -> None:
        if result.status not in ("done", "failed"):
            return
        self.finished += 1
        head = f"[{self.finished}/{self.total}] {result.trial.id} {result.status}"
        if result.status == "failed":
            self._print(f"{head}: {result.error}")
        else:
            v = metric_value(result, self.sweep.metric)
            m = f" {self.sweep.metric}={v:.6g}" if v is not None else ""
            self._print(f"{head}{m} ({result.seconds or 0:.1f}s)")


class LiveReporter(SweepEvents):
    """A live Rich table of trials (on a terminal)."""

    MAX_ROWS = 30

    def __init__(self, console: Any = None):
        from rich.console import Console  # noqa: PLC0415

        self.console = console or Console()
        self.live = None

    def start(self, sweep: Sweep, results: list[TrialResult], executor: str) -> None:
        from rich.live import Live  # noqa: PLC0415

        self.sweep, self.results, self.executor = sweep, results, executor
        self.live = Live(self._render(), console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def _render(self) -> Any:
        from rich.table import Table  # noqa: PLC0415

        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in counts.items())
        table = Table(title=f"sweep {self.sweep.name} ({self.executor}): {summary}", title_justify="left")
        table.add_column("trial")
        table.add_column("status")
        table.add_column(self.sweep.metric, justify="right")
        table.add_column("seconds", justify="right")
        table.add_column("error", overflow="ellipsis", max_width=60)
        style = {"running": "cyan", "done": "green", "skipped": "green dim", "failed": "red", "pending": "dim"}
        rows = self.results
        if len(rows) > self.MAX_ROWS:  # the running and failed ones first, then recent
            rank = {"running": 0, "failed": 1, "done": 2, "skipped": 3, "pending": 4}
            rows = sorted(rows, key=lambda r: rank.get(r.status, 5))[: self.MAX_ROWS]
        for r in rows:
            v = metric_value(r, self.sweep.metric)
            table.add_row(
                r.trial.id,
                f"[{style.get(r.status, '')}]{r.status}[/]",
                "" if v is None else f"{v:.6g}",
                "" if r.seconds is None else f"{r.seconds:.1f}",
                r.error,
            )
        if len(self.results) > len(rows):
            table.caption = f"... {len(self.results) - len(rows)} more"
        return table

    def update(self, result: TrialResult) -> None:
        if self.live is not None:
            self.live.update(self._render())

    def stop(self) -> None:
        if self.live is not None:
            self.live.update(self._render())
            self.live.stop()
            self.live = None


def make_reporter(quiet: bool = False, console: Any = None) -> SweepEvents:
    if quiet:
        return SweepEvents()
    if console is None:
        from rich.console import Console  # noqa: PLC0415

        console = Console()
    if console.is_terminal:
        return LiveReporter(console)
    return LineReporter(console.file)


def summary_lines(res: SweepResult) -> list[str]:
    s = res.sweep
    parts = [f"{len(res.results)} trials: {res.n_done + res.n_skipped} done"]
    if res.n_skipped:
        parts[0] += f" ({res.n_skipped} already complete)"
    if res.n_failed:
        parts.append(f"{res.n_failed} failed")
    lines = [f"sweep {s.name}: " + ", ".join(parts)]
    if res.best is not None:
        params = " ".join(f"{k}={format_value(v)}" for k, v in res.best.trial.params.items())
        lines.append(f"best: {res.best.trial.id} {s.metric}={metric_value(res.best, s.metric):.6g} ({s.direction}) {params}")
        lines.append(f"      {res.best.path}")
    for r in res.results:
        if r.status == "failed":
            lines.append(f"failed: {r.trial.id}: {r.error}")
    lines.append(f"results: {res.results_csv}" + (f", {res.best_json}" if res.best_json else ""))
    return lines
