"""Live progress of training: a Rich bar on a terminal, plain throttled lines otherwise.

The only core module that imports rich. Output goes to the console given (stdout by default).
"""

from __future__ import annotations

import math
import sys
import time

from ..training import Callback

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 40) -> str:
    """A one-line loss curve: the values resampled to ``width`` bars, low to high."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return ""
    if len(vals) > width:
        step = len(vals) / width
        vals = [vals[min(len(vals) - 1, int(i * step))] for i in range(width)]
    lo, hi = min(vals), max(vals)
    span = hi - lo or 1.0
    return "".join(SPARK[min(len(SPARK) - 1, int((v - lo) / span * (len(SPARK) - 1) + 0.5))] for v in vals)


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def _row_text(row: dict[str, float]) -> str:
    parts = []
    for key, value in row.items():
        if key in ("epoch", "seconds", "lr"):
            continue
        parts.append(f"{key} {_fmt(value)}")
    return "  ".join(parts)


def _short_text(row: dict[str, float]) -> str:
    """The live line's statistics: the losses, then the first tracked metric (train/val)."""
    parts = [f"loss {_fmt(row['train_loss'])}"]
    if "val_loss" in row:
        parts.append(f"val_loss {_fmt(row['val_loss'])}")
    metric = next((k[len("train_"):] for k in row if k.startswith("train_") and k != "train_loss"), None)
    if metric is not None:
        value = _fmt(row[f"train_{metric}"])
        if f"val_{metric}" in row:
            value += f"/{_fmt(row[f'val_{metric}'])}"
        parts.append(f"{metric} {value}")
    return "  ".join(parts)


class PlainProgress(Callback):
    """One line per epoch at most, and at most one per ``interval`` seconds (plus the last)."""

    def __init__(self, stream=None, interval: float = 1.0):
        self.stream = stream or sys.stdout
        self.interval = interval
        self._last = -math.inf

    def on_train_begin(self, trainer):
        self.total = trainer.cfg.training.epochs
        self._t0 = time.monotonic()

    def on_epoch_end(self, trainer, row):
        now = time.monotonic()
        epoch = int(row["epoch"])
        if epoch == 1 or epoch == self.total or now - self._last >= self.interval:
            self._last = now
            print(f"epoch {epoch}/{self.total}  {_row_text(row)}  {now - self._t0:.1f}s", file=self.stream, flush=True)


class RichProgress(Callback):
    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console()

    def on_train_begin(self, trainer):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        # Fixed-width columns first, so a narrow terminal cuts the statistics, never the counts;
        # the full row of every metric is in history.csv and the summary table.
        self.progress = Progress(
            TextColumn("[bold]epoch"), MofNCompleteColumn(), BarColumn(bar_width=24),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[stats]}"),
            console=self.console, transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=trainer.cfg.training.epochs, completed=trainer.epoch, stats="")
        self._last = 0.0

    def on_epoch_end(self, trainer, row):
        now = time.monotonic()
        # Repainting costs time: update the text at most 10 times a second.
        if now - self._last >= 0.1 or trainer.epoch >= trainer.cfg.training.epochs:
            stats = _short_text(row)
            room = max(0, self.console.width - 56)  # what the counts, bar and times leave
            if len(stats) > room:
                stats = stats[: max(0, room - 1)] + "…" if room else ""
            self.progress.update(self.task, completed=trainer.epoch, stats=stats)
            self._last = now

    def on_train_end(self, trainer):
        self.progress.update(self.task, completed=trainer.epoch)
        self.progress.stop()


def make_progress(quiet: bool, stream=None) -> Callback | None:
    if quiet:
        return None
    stream = stream or sys.stdout
    if stream.isatty():
        return RichProgress()
    return PlainProgress(stream)


def print_summary(run, console_stream=None, warnings: list[str] | None = None) -> None:
    """The end-of-training table: final metrics per split, epochs, time, a loss sparkline."""
    stream = console_stream or sys.stdout
    m = run.metrics
    splits = [s for s in ("train", "validation", "test") if s in m]
    keys: list[str] = []
    for s in splits:
        keys += [k for k in m[s] if k not in keys]
    if stream.isatty():
        from rich.console import Console
        from rich.table import Table

        console = Console(file=stream)
        table = Table(title=f"{run.config.name}: {m['epochs_run']} epochs in {run.seconds:.2f}s", title_justify="left")
        table.add_column("metric")
        for s in splits:
            table.add_column(s, justify="right")
        for k in keys:
            table.add_row(k, *(_fmt(m[s].get(k, float("nan"))) for s in splits))
        console.print(table)
        console.print(f"loss  {sparkline(run.history.train_loss)}")
        if run.path is not None:
            console.print(f"run directory: [bold]{run.path}[/bold]")
        return
    print(f"{run.config.name}: {m['epochs_run']} epochs in {run.seconds:.2f}s", file=stream)
    for k in keys:
        print(f"  {k:<10} " + "  ".join(f"{s} {_fmt(m[s].get(k, float('nan')))}" for s in splits), file=stream)
    print(f"  loss curve {sparkline(run.history.train_loss)}", file=stream)
    if run.path is not None:
        print(f"run directory: {run.path}", file=stream)
