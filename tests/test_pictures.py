"""training.snapshots, nncli plot --network and --evolution (issue 17)."""

from __future__ import annotations

import signal
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app
from nncli.run import files
from nncli.errors import Interrupted
from nncli.run.snapshots import snapshot_epochs
from nncli.training import Callback

ROOT = Path(__file__).resolve().parent.parent
XOR = ROOT / "configs/tutorial/03-xor-hidden-layer.yaml"
SINE = ROOT / "configs/tutorial/06-sine.yaml"
SPIRALS = ROOT / "configs/tutorial/05-spirals-softmax.yaml"
IRIS = ROOT / "configs/iris.yaml"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("pictures")
    made = {}
    for name, cfg, over in (("xor", XOR, ["training.epochs=60", "training.snapshots=5"]),
                            ("sine", SINE, ["training.epochs=6", "training.snapshots=4"]),
                            ("spirals", SPIRALS, ["training.epochs=3", "training.snapshots=3"]),
                            ("iris", IRIS, ["training.epochs=5"])):
        made[name] = nncli.train(cfg, out=base / name, overrides=over).path
    return made


# ---------------------------------------------------------------- snapshots
@pytest.mark.parametrize("epochs,n,expected", [(100, 5, [0, 25, 50, 75, 100]), (10, 1, [10]), (3, 10, [0, 1, 2, 3]),
                                               (7, 2, [0, 7]), (500, 12, [0, 45, 91, 136, 182, 227, 273, 318, 364, 409, 455, 500])])
def test_snapshot_epochs_are_evenly_spaced_with_both_ends(epochs, n, expected):
    assert snapshot_epochs(epochs, n) == expected


def test_snapshots_npz_holds_the_weights_at_the_planned_epochs(runs):
    path = runs["xor"] / "snapshots.npz"
    with zipfile.ZipFile(path) as zf:  # plain .npy members: nothing that needs pickle
        assert sorted(zf.namelist()) == sorted(["epoch.npy", "loss.npy", "layers.0.weight.npy", "layers.0.bias.npy",
                                                 "layers.1.weight.npy", "layers.1.bias.npy"])
    with np.load(path, allow_pickle=False) as z:
        assert z["epoch"].tolist() == [0, 15, 30, 45, 60]
        assert z["layers.0.weight"].shape == (5, 2, 4) and z["layers.1.bias"].shape == (5, 1)
        assert z["loss"][0] > z["loss"][-1]  # it learned
        final = np.load(runs["xor"] / "weights.npz", allow_pickle=False)
        for key in ("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"):
            np.testing.assert_array_equal(z[key][-1], final[key])  # the last snapshot is the trained network
    # documented size: about N × parameters × 4 bytes (plus headers)
    assert path.stat().st_size < 5 * 17 * 4 + 2000


def test_snapshots_have_validation_loss_when_the_run_has_validation(runs):
    with np.load(runs["sine"] / "snapshots.npz", allow_pickle=False) as z:
        assert z["epoch"].tolist() == [0, 2, 4, 6] and z["val_loss"].shape == (4,)


def test_snapshots_do_not_change_the_trained_weights(tmp_path):
    a = nncli.train(XOR, out=tmp_path / "a", overrides=["training.epochs=30", "training.snapshots=null"]).path
    b = nncli.train(XOR, out=tmp_path / "b", overrides=["training.epochs=30", "training.snapshots=4"]).path
    assert (a / "weights.npz").read_bytes() == (b / "weights.npz").read_bytes()
    assert not (a / "snapshots.npz").exists() and (b / "snapshots.npz").exists()


class _StopAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, row):
        if trainer.epoch == self.epoch:
            trainer.stop_signal = signal.SIGINT


class _CrashAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, row):
        if trainer.epoch == self.epoch:
            raise RuntimeError("simulated crash")


@pytest.mark.parametrize("stopper", [_StopAt(17), _CrashAt(17)], ids=["interrupted", "crashed"])
def test_a_resumed_run_keeps_its_earlier_snapshots(tmp_path, stopper):
    over = ["training.epochs=40", "training.snapshots=5", "training.checkpoint_every=1"]
    whole = nncli.train(XOR, out=tmp_path / "whole", overrides=over).path
    with pytest.raises((Interrupted, RuntimeError)):
        nncli.train(XOR, out=tmp_path / "split", overrides=over, callbacks=[stopper])
    staging = tmp_path / ".split.partial"
    kept = sorted(p.name for p in (staging / ".snapshots").glob("*.npz")) if (staging / ".snapshots").is_dir() else []
    assert kept == ([] if isinstance(stopper, _StopAt) else ["0000000.npz", "0000010.npz"])
    split = nncli.train(XOR, out=tmp_path / "split", overrides=over, resume=True).path
    assert (whole / "snapshots.npz").read_bytes() == (split / "snapshots.npz").read_bytes()
    assert not (split / ".snapshots").exists()  # the per-snapshot files are gone from the run


# ---------------------------------------------------------------- plot --network
@pytest.mark.parametrize("name", ["xor", "sine", "spirals", "iris"])
def test_plot_network_writes_network_png(runs, name):
    res = invoke("plot", runs[name], "--network")
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"wrote {runs[name] / 'network.png'}"
    w, h = png_size(runs[name] / "network.png")
    assert w >= 500 and h >= 300
    assert not (runs[name] / "loss.png").exists()  # --network draws only the network


def _texts(fig):
    return [t.get_text() for t in fig.texts] + [t.get_text() for ax in fig.axes for t in ax.texts]


def test_network_picture_labels_every_drawn_neuron_and_says_what_is_sampled(runs):
    from matplotlib.figure import Figure

    from nncli.inspect.network_plot import network_figure

    xor = nncli.load_run(runs["xor"])
    texts = _texts(network_figure(xor, Figure))
    assert sum(t.startswith("tanh b=") for t in texts) == 4 and sum(t.startswith("sigmoid b=") for t in texts) == 1
    assert any("tiles: each neuron's output over the input plane" in t for t in texts)
    assert not any("sampled" in t for t in texts)
    fig = network_figure(xor, Figure)
    images = [im for ax in fig.axes for im in ax.images]
    assert len(images) == 2 + 4 + 1  # a tile per input, hidden and output neuron

    spirals = nncli.load_run(runs["spirals"])  # 2 → 64 → 64 → 3: too wide for tiles, sampled
    texts = _texts(network_figure(spirals, Figure))
    assert sum(t.startswith("relu b=") for t in texts) == 32
    assert any("sampled: layer 1 16 of 64, layer 2 16 of 64 units shown" in t for t in texts)
    assert sum(t == "⋮ 48 more" for t in texts) == 2
    assert not [im for ax in network_figure(spirals, Figure).axes for im in ax.images]


def test_network_weight_lines_follow_sign_and_magnitude(runs):
    from matplotlib.collections import LineCollection
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure

    from nncli.inspect.network_plot import NEGATIVE, POSITIVE, network_figure

    run = nncli.load_run(runs["xor"])
    lines = [c for ax in network_figure(run, Figure).axes for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 1
    weights = np.concatenate([run.network.layers[0].W.ravel(), run.network.layers[1].W.ravel()])
    colors, widths = lines[0].get_colors(), lines[0].get_linewidths()
    assert len(colors) == len(widths) == weights.size == 12
    for w, c, lw in zip(weights, colors, widths):
        assert tuple(np.round(c[:3], 4)) == tuple(np.round(to_rgb(POSITIVE if w >= 0 else NEGATIVE), 4))
    assert widths[int(np.argmax(np.abs(weights)))] == pytest.approx(max(widths))


# ---------------------------------------------------------------- plot --evolution
@pytest.mark.parametrize("name,frames", [("xor", 5), ("sine", 4), ("spirals", 3)])
def test_plot_evolution_writes_a_grid_and_a_gif_with_a_frame_per_snapshot(runs, name, frames):
    from PIL import Image

    res = invoke("plot", runs[name], "--evolution")
    assert res.exit_code == 0, res.output
    assert res.output.split() == ["wrote", str(runs[name] / "evolution.png"), "wrote", str(runs[name] / "evolution.gif")]
    w, h = png_size(runs[name] / "evolution.png")
    assert w >= 600 and h >= 250
    with Image.open(runs[name] / "evolution.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames == frames and gif.size == (400, 352)
    assert not [p for p in runs[name].iterdir() if p.name.startswith(".") and p.name != files.MARKER], \
        "temporary files left behind"


def test_evolution_frames_carry_epoch_and_loss(runs):
    from nncli.inspect.evolution import Frames
    from nncli.run.snapshots import load_snapshots

    run = nncli.load_run(runs["sine"])
    frames = Frames(run, load_snapshots(runs["sine"], run.network))
    snaps = np.load(runs["sine"] / "snapshots.npz")
    assert [frames.title(i) for i in range(4)] == [
        f"epoch {e} · loss {l:.4g} · val {v:.4g}" for e, l, v in zip(snaps["epoch"], snaps["loss"], snaps["val_loss"])]


def test_evolution_grid_keeps_at_most_twelve_frames_first_and_last():
    from nncli.inspect.evolution import grid_indices

    assert grid_indices(5) == [0, 1, 2, 3, 4]
    idx = grid_indices(50)
    assert len(idx) == 12 and idx[0] == 0 and idx[-1] == 49


def test_evolution_without_snapshots_says_how_to_get_them(runs):
    # iris: 4 inputs, so the kind is refused first; a 2-input run without snapshots:
    res = invoke("plot", runs["iris"], "--evolution")
    assert res.exit_code == 2
    assert "--evolution draws two-input classification or one-input regression; this run is a classification " \
           "with 4 inputs" in res.output and len(res.output.strip().splitlines()) == 1


def test_evolution_on_a_run_without_snapshots(tmp_path):
    run = nncli.train(XOR, out=tmp_path / "x", overrides=["training.epochs=5", "training.snapshots=null"]).path
    res = invoke("plot", run, "--evolution")
    assert res.exit_code == 2
    assert res.output.strip() == (f"{run / 'snapshots.npz'}: missing, the run saved no snapshots; train with "
                                  f"training.snapshots: N (e.g. nncli train CONFIG --set training.snapshots=20) "
                                  f"to draw its evolution")
    assert not (run / "evolution.png").exists() and not (run / "evolution.gif").exists()


def test_a_damaged_snapshots_file_is_one_line(tmp_path):
    run = nncli.train(XOR, out=tmp_path / "x", overrides=["training.epochs=5", "training.snapshots=2"]).path
    data = np.load(run / "snapshots.npz")
    arrays = {k: data[k] for k in data.files}
    arrays["layers.0.weight"] = arrays["layers.0.weight"][:, :, :3]
    from nncli.run.files import npz_bytes

    (run / "snapshots.npz").write_bytes(npz_bytes(arrays))
    res = invoke("plot", run, "--evolution")
    assert res.exit_code == 2
    assert res.output.strip() == (f"{run / 'snapshots.npz'}: layers.0.weight has shape (2, 2, 3), config.yaml needs "
                                  f"(2, 2, 4); re-train the run")
    (run / "snapshots.npz").write_bytes(b"not a zip")
    res = invoke("plot", run, "--evolution")
    assert res.exit_code == 2 and res.output.startswith(f"{run / 'snapshots.npz'}: damaged")


def test_snapshots_value_is_checked():
    from nncli.config.schema import config_from_dict
    from nncli.errors import ConfigError

    base = {"model": {"layers": [{"units": 1, "activation": "sigmoid"}]},
            "training": {"loss": "binary_crossentropy", "snapshots": 0}}
    with pytest.raises(ConfigError) as exc:
        config_from_dict(base)
    assert "training.snapshots" in exc.value.messages[0]


def test_a_run_with_every_picture_and_the_report_can_be_retrained_over(tmp_path, monkeypatch):
    """What `nncli plot` and `nncli report` write into a run is nncli's own: training the same
    output again replaces the run (the never-delete rule must not refuse it)."""
    import nncli
    from typer.testing import CliRunner
    from nncli.cli.app import app

    root = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(root)
    out = tmp_path / "xor"
    cfg = root / "configs" / "tutorial" / "03-xor-hidden-layer.yaml"
    nncli.train(cfg, out=out, overrides=["training.epochs=20"])
    runner = CliRunner()
    for args in (["plot", str(out)], ["plot", str(out), "--network"], ["plot", str(out), "--evolution"],
                 ["report", str(out)]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, (args, res.output)
    written = {p.name for p in out.iterdir()}
    assert {"network.png", "evolution.png", "evolution.gif", "report.html", "loss.png"} <= written
    run = nncli.train(cfg, out=out, overrides=["training.epochs=20"])
    assert run.replaced and (out / "weights.npz").is_file()
    assert not (out / "report.html").exists()
