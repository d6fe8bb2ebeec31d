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


def _live_items(row: dict[str, float]) -> list[str]:
    """The live display's statistics, named as on the plain lines (train_loss, val_accuracy, ...):
    what matters most first — the losses, then the main metric (the first tracked) for train and
    validation — then every other metric in the row's order."""
    keys = [k for k in row if k not in ("epoch", "seconds", "lr")]
    metrics = [k for k in keys if k.startswith("train_") and k != "train_loss"]
    first = ["train_loss", "val_loss"]
    if metrics:
        main = metrics[0][len("train_"):]
        first += [f"train_{main}", f"val_{main}"]
    order = [k for k in first if k in row] + [k for k in keys if k not in first]
    return [f"{k} {_fmt(row[k])}" for k in order]


def live_lines(done: int, total: int, times: str, items: list[str], width: int) -> list[str]:
    """The live display as plain lines no wider than ``width`` (≥ 20): the epoch count, a bar that
    takes what room is left (shrinking, then gone below 6 cells) and the times on the first line;
    then the statistics, each kept whole, flowed over as few lines as the width allows.

    Numbers are never cut: a cut number reads as a different number. The bar is the only part that
    gives way, since the count beside it already says how far training is."""
    digits = len(str(total))
    head = f"epoch {done:>{digits}}/{total}"
    room = width - len(head) - len(times) - 2
    fill = int(round(min(40, room) * done / max(total, 1))) if room >= 6 else 0
    bar = ("━" * fill + "─" * (min(40, room) - fill)) if room >= 6 else ""
    lines = [" ".join(p for p in (head, bar, times) if p)]
    line = ""
    for item in items:
        if line and len(line) + 2 + len(item) > width:
            lines.append(line)
            line = ""
        line = f"{line}  {item}" if line else item
    if line:
        lines.append(line)
    return lines


def _clock(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-:--:--"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


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
    """The live display on a terminal: see live_lines. Drawn only when a row arrives (no refresh
    thread), so once close() has run nothing is drawn again — not below an interruption message."""

    def __init__(self, console=None):
        from rich.console import Console

        self.console = console or Console()
        self.live = None

    def on_train_begin(self, trainer):
        from rich.live import Live

        self.total = trainer.cfg.training.epochs
        self.done0 = self.done = trainer.epoch
        self.items: list[str] = []
        self._t0 = time.monotonic()
        self._last = 0.0
        self.live = Live(self, console=self.console, auto_refresh=False, transient=False)
        self.live.start(refresh=True)

    def __rich_console__(self, console, options):
        from rich.text import Text

        elapsed = time.monotonic() - self._t0
        done_here = self.done - self.done0
        eta = elapsed / done_here * (self.total - self.done) if done_here else math.inf
        times = f"{_clock(elapsed)} eta {_clock(eta)}"
        for line in live_lines(self.done, self.total, times, self.items, max(20, options.max_width)):
            yield Text(line, no_wrap=True, overflow="crop")

    def on_epoch_end(self, trainer, row):
        now = time.monotonic()
        self.done, self.items = trainer.epoch, _live_items(row)
        # Repainting costs time: at most 10 times a second, and always the last epoch.
        if self.live is not None and (now - self._last >= 0.1 or trainer.epoch >= self.total):
            self.live.refresh()
            self._last = now

    def on_train_end(self, trainer):
        self.done = trainer.epoch
        self.close()

    def close(self) -> None:
        """Draw the last state once and let go of the terminal; safe to call twice."""
        if self.live is not None:
            self.live.refresh()
            self.live.stop()
            self.live = None


def make_progress(quiet: bool, stream=None) -> Callback | None:
    if quiet:
        return None
    stream = stream or sys.stdout
    if stream.isatty():
        return RichProgress()
    return PlainProgress(stream)


# The progress lines' train_loss is the mean over an epoch's batches while the weights change (and
# dropout is on); the summary evaluates the final weights after training (dropout off). Both are
# right and differ: the note says which is which, so the screen does not look contradictory.
FINAL_NOTE = ("this table: the final weights, dropout off; train_loss above: the mean over each epoch "
              "while it trained")


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
        console.print(FINAL_NOTE, style="dim")
        console.print(f"train_loss per epoch  {sparkline(run.history.train_loss, max(10, min(40, console.width - 22)))}")
        if run.path is not None:
            console.print(f"run directory: [bold]{run.path}[/bold]")
        return
    print(f"{run.config.name}: {m['epochs_run']} epochs in {run.seconds:.2f}s", file=stream)
    for k in keys:
        print(f"  {k:<10} " + "  ".join(f"{s} {_fmt(m[s].get(k, float('nan')))}" for s in splits), file=stream)
    print("  (" + FINAL_NOTE.replace("this table", "these") + ")", file=stream)
    print(f"  train_loss per epoch {sparkline(run.history.train_loss)}", file=stream)
    if run.path is not None:
        print(f"run directory: {run.path}", file=stream)
