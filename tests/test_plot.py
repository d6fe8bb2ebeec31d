"""nncli plot: loss.png always, decision.png for 2-input classification, fit.png for 1-input regression."""

import struct
from pathlib import Path
import sys

import pytest
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app

ROOT = Path(__file__).resolve().parent.parent

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND", f"{path} is truncated"
    return width, height, len(data)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = ROOT
    base = tmp_path_factory.mktemp("plots")
    made = {}
    for name, cfg, epochs in (("xor", root / "configs/xor.yaml", 200),
                              ("sine", root / "configs/tutorial/06-sine.yaml", 20),
                              ("spirals", root / "configs/tutorial/05-spirals-softmax.yaml", 20)):
        made[name] = nncli.train(cfg, out=base / name, overrides=[f"training.epochs={epochs}"]).path
    return made


@pytest.mark.parametrize("name,extra", [("xor", "decision.png"), ("spirals", "decision.png"), ("sine", "fit.png")])
def test_plot_writes_valid_pngs(runs, name, extra):
    run_dir = runs[name]
    res = CliRunner().invoke(app, ["plot", str(run_dir)])
    assert res.exit_code == 0, res.output
    assert f"wrote {run_dir / 'loss.png'}" in res.output
    for png, (min_w, min_h) in (("loss.png", (1000, 350)), (extra, (500, 400))):
        w, h, size = png_size(run_dir / png)
        assert w >= min_w and h >= min_h and 10_000 < size < 2_000_000, (png, w, h, size)
    other = {"decision.png", "fit.png"} - {extra}
    assert not (run_dir / other.pop()).exists()
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".") and p.name != ".nncli-run"], "temporary files left behind"


def test_plot_without_matplotlib_says_how_to_install(runs, monkeypatch):
    for mod in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    res = CliRunner().invoke(app, ["plot", str(runs["xor"])])
    assert res.exit_code == 2
    assert res.output.strip() == "nncli plot needs matplotlib, which is not installed: pip install 'matplotlib>=3.6'"


def test_plot_on_a_missing_run_dir_is_a_usage_error(tmp_path):
    res = CliRunner().invoke(app, ["plot", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no such run directory" in res.output
