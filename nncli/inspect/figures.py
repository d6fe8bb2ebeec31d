"""What every picture of a run shares: matplotlib (optional, imported lazily with the Agg backend),
saving a figure into the run atomically, and the run's data regenerated from its config.

plot, network_plot, evolution and report build on this module; it imports none of them.
"""

from __future__ import annotations

import io
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def _matplotlib():
    from ..extras import require

    require("matplotlib", "plot", "nncli plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return Figure, FigureCanvasAgg


def _save(fig, Canvas, target: Path) -> Path:
    from ..run.files import write_bytes_atomic

    Canvas(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    with cannot_write(target):
        write_bytes_atomic(target, buf.getvalue())
    return target


@contextmanager
def cannot_write(target: Path):
    """An OSError while writing a picture or page into the run -> one line naming the file."""
    try:
        yield
    except OSError as exc:
        from ..errors import RunDirError

        raise RunDirError(f"{target}: cannot write ({exc.strerror or exc}); check the run directory's "
                          f"permissions and free space") from None


def _raw_points(run):
    """(X_raw, y) of the training and validation parts, regenerated from the config."""
    from ..data.prepare import prepare

    # nncli report reads the data once and leaves it on the run for every picture
    prepared = getattr(run, "prepared_cache", None) or prepare(run.config)
    pre = run.preprocessor
    offset, scale = np.asarray(pre.offset), np.asarray(pre.scale)
    parts = []
    for label, split in (("train", prepared.train), ("validation", prepared.validation)):
        if split is not None:
            parts.append((label, np.asarray(split.X, np.float64) * scale + offset, split.y))
    return parts


