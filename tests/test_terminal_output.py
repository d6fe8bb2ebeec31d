"""What a user sees on a terminal (issue 15), checked in a real pseudo-terminal at 60, 80 and 120
columns: the live progress keeps every number whole and names the statistics as the plain lines
do, nothing is redrawn after Ctrl-C, the summary says which train loss it shows; predict says when
it is waiting for rows typed on the terminal."""

import csv

import pytest
import yaml

from terminal import final_screen, run_in_pty, screen_lines

from nncli.cli.progress import _fmt

CFG = {
    "name": "moons-demo", "seed": 0,
    "data": {"generator": {"name": "moons", "n_samples": 300}, "validation_split": 0.2},
    "model": {"layers": [{"units": 8, "activation": "relu", "dropout": 0.2}, {"units": 2, "activation": "softmax"}]},
    "training": {"epochs": 30, "batch_size": 32, "loss": "cross_entropy", "metrics": ["accuracy", "f1"],
                 "optimizer": {"name": "adam", "learning_rate": 0.01}},
}


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    d = tmp_path_factory.mktemp("term")
    (d / "cfg.yaml").write_text(yaml.safe_dump(CFG, sort_keys=False))
    return d / "cfg.yaml"


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_live_progress_keeps_numbers_whole_with_the_plain_names(config, tmp_path, columns):
    code, drawn = run_in_pty(["train", config, "--out", tmp_path / "run"], columns)
    assert code == 0, drawn
    screen = final_screen(drawn, columns)
    assert all(len(line) <= columns for line in screen_lines(drawn)), drawn
    assert "…" not in drawn
    rows = list(csv.DictReader(open(tmp_path / "run/history.csv")))
    last = rows[-1]
    live = "\n".join(screen[: next(i for i, l in enumerate(screen) if l.startswith("moons-demo:"))])
    assert f"epoch {CFG['training']['epochs']}/{CFG['training']['epochs']}" in live
    for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "train_f1", "val_f1"):
        assert f"{key} {_fmt(float(last[key]))}" in live, (key, live)
    # the summary's train loss is a different quantity from the live one, and says so
    assert "final weights, dropout off" in "\n".join(screen)


def test_the_bar_gives_way_before_any_number():
    from nncli.cli.progress import live_lines

    items = ["train_loss 0.06381", "val_loss 0.07123", "train_accuracy 0.9812", "val_accuracy 0.9712"]
    wide = live_lines(12, 500, "0:00:03 eta 0:01:10", items, 120)
    narrow = live_lines(12, 500, "0:00:03 eta 0:01:10", items, 36)
    assert "━" in wide[0] or "─" in wide[0]
    assert narrow[0] == "epoch  12/500 0:00:03 eta 0:01:10"  # no room for a bar: it went
    for lines, width in ((wide, 120), (narrow, 36)):
        assert all(len(line) <= width for line in lines)
        assert all(item in "\n".join(lines) for item in items)


def test_nothing_is_redrawn_after_ctrl_c(config, tmp_path):
    code, drawn = run_in_pty(["train", config, "--out", tmp_path / "run", "--epochs", "1000000"], 80,
                             interrupt_when="/1000000", timeout=60)
    assert code == 130, drawn
    after = screen_lines(drawn[drawn.index("interrupted"):])
    assert not any("epoch " in line and "/1000000" in line for line in after), after
    screen = final_screen(drawn, 80)
    message = next(i for i, line in enumerate(screen) if line.startswith("interrupted"))
    assert not any("/1000000" in line for line in screen[message:]), screen


def test_predict_says_it_reads_the_terminal(root, tmp_path, cli):
    r = cli("train", root / "configs/xor.yaml", "--out", tmp_path / "run", "--epochs", "3", "--quiet")
    assert r.returncode == 0, r.stderr
    code, drawn = run_in_pty(["predict", tmp_path / "run"], 80, send=b"x1,x2\n0,1\n\x04")  # one Ctrl-D ends the input
    assert code == 0, drawn
    assert "reading CSV rows from standard input (end with Ctrl-D" in drawn
    assert "\ny" in drawn.replace("\r", "")  # the predictions followed
    piped = cli("predict", tmp_path / "run", input="x1,x2\n0,1\n")  # not a terminal: no note
    assert piped.returncode == 0 and "reading" not in piped.stderr
