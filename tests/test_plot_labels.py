"""Plots a reader can tell apart and read (issue 15): titles name the run by its directory, the
decision plot reports validation accuracy when there is validation data, the R² panel is not
stretched to the first epochs' values, legends sit outside the axes."""

from pathlib import Path

import numpy as np
import pytest

import nncli

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from nncli.inspect import plot

    base = tmp_path_factory.mktemp("labels")
    sine = nncli.train(ROOT / "configs/tutorial/06-sine.yaml", out=base / "sine-variant-b",
                       overrides=["training.epochs=40"])
    spirals = nncli.train(ROOT / "configs/tutorial/05-spirals-softmax.yaml", out=base / "spirals-variant-a",
                          overrides=["training.epochs=20"])
    figs = {"loss": plot._loss_figure(sine, Figure, "sine-variant-b"),
            "fit": plot._fit_figure(sine, Figure, "sine-variant-b"),
            "decision": plot._decision_figure(spirals, Figure, "spirals-variant-a")}
    for fig in figs.values():
        FigureCanvasAgg(fig).draw()
    return figs, sine, spirals, base


def test_titles_name_the_run_directory(figures, cli):
    figs, _, _, base = figures
    for name, fig in figs.items():
        for ax in fig.axes:
            assert ax.get_title().startswith(("sine-variant-b:", "spirals-variant-a:")), (name, ax.get_title())
    r = cli("plot", base / "sine-variant-b")  # plot_run labels by the directory it was given
    assert r.returncode == 0, r.stderr


def test_decision_title_gives_validation_accuracy(figures):
    figs, _, spirals, _ = figures
    acc = spirals.metrics["validation"]["accuracy"]
    assert figs["decision"].axes[0].get_title().endswith(f"(validation accuracy {acc:.3f})")


def test_r2_axis_is_not_stretched_by_the_first_epochs(figures):
    figs, sine, _, _ = figures
    r2 = np.asarray(sine.history.columns["train_r2"], float)
    ax = figs["loss"].axes[1]
    lo = ax.get_ylim()[0]
    late = r2[len(r2) // 10:]
    assert late.min() > -0.5, "the run should have learned something by then"
    assert lo > -1.0 and lo <= min(late.min(), np.asarray(sine.history.columns["val_r2"])[len(r2) // 10:].min())


def test_legends_cover_no_curve(figures):
    figs, _, _, _ = figures
    for name, fig in figs.items():
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            legend = ax.get_legend()
            assert legend is not None
            box, area = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
            assert not box.overlaps(area), f"{name}: the legend lies over the axes"
