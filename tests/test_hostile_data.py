"""Data that is wrong, not just malformed (issue 13), and sizes that cannot fit.

Each case runs a command the way a user would (in-process, Typer's CliRunner, the same code as
`python -m nncli`) and asserts the exit code, the ONE line of the message (the file, the place —
line, or row and column — and the fix) and that nothing was written: no run directory, no
prediction file. Classes covered:

- the same column twice in data.features or data.target; the target among the features (a leak);
- class labels that are missing (NaN, empty, NA, None, null, ?) in .npz / .npy / CSV targets:
  treated by data.missing (drop leaves the rows out) and the message says so;
- text targets with a regression loss, at the row of the first text value;
- values that do not fit in float32 (features and targets), named by row and column;
- message lines capped: 5000 classes, 5000 columns, a 100,000-character cell are elided;
- sizes that cannot fit, refused before allocating with the estimate (one-hot of a 100k-category
  column, an .npz larger than memory, a CSV read whole larger than memory, an endless stream with
  line breaks).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app

runner = CliRunner()
MAX_LINE_CHARS = 600  # a capped message line stays well under this


def invoke(*args):
    r = runner.invoke(app, [str(a) for a in args], env={"NNCLI_DEBUG": ""})
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"traceback: {r.exception!r}") from r.exception
    return r.exit_code, r.stdout, r.stderr


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    assert "Traceback" not in stderr
    assert len(lines[0]) < MAX_LINE_CHARS, f"line of {len(lines[0])} characters: {lines[0][:300]}…"
    return lines[0]


def files(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def config(tmp_path: Path, data: dict, loss: str = "binary_crossentropy", units: int = 1, act: str = "sigmoid",
           **training) -> Path:
    cfg = {
        "name": "h",
        "seed": 0,
        "data": {"target": "y", "validation_split": 0.0, **data},
        "model": {"layers": [{"units": 4, "activation": "tanh"}, {"units": units, "activation": act}]},
        "training": {"epochs": 1, "batch_size": "full", "loss": loss, **training},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def train_fails(tmp_path: Path, cfg: Path, pattern: str, code: int = 2) -> str:
    before = files(tmp_path)
    rc, out, err = invoke("train", cfg, "--out", tmp_path / "runs" / "h", "--quiet")
    line = one_line(err)
    assert rc == code, line
    assert re.fullmatch(pattern, line), f"\n{line}\ndoes not match\n{pattern}"
    assert files(tmp_path) - before <= {"runs"}, files(tmp_path) - before  # no run written
    assert not (tmp_path / "runs" / "h").exists()
    return line


def csv(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


GOOD = "x1,x2,y\n0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,0\n0.7,0.8,1\n"
REG = "x1,x2,y\n0.1,0.2,0.5\n0.3,0.4,1.5\n0.5,0.6,0.25\n0.7,0.8,1.0\n"


# ---------------------------------------------------------------- the same column twice, label leaks
@pytest.mark.parametrize("features, item, name", [
    (["x1", "x2", "x1"], 2, "x1"),
    (["x2", "x2"], 1, "x2"),
    (["x1", "x2", "x2", "x1"], 2, "x2"),
])
def test_a_feature_listed_twice(tmp_path, features, item, name):
    cfg = config(tmp_path, {"path": str(csv(tmp_path, GOOD)), "features": features})
    first = features.index(name) + 1
    train_fails(tmp_path, cfg, re.escape(str(cfg)) + rf":\d+:\d+: data\.features: column '{name}' is listed twice "
                                                      rf"\(items {first} and {item + 1}\); list each column once")


def test_a_target_listed_twice(tmp_path):
    p = csv(tmp_path, "x1,y1,y2\n1,2,3\n4,5,6\n7,8,9\n")
    cfg = config(tmp_path, {"path": str(p), "target": ["y1", "y1"]}, loss="mse", units=2, act="linear")
    train_fails(tmp_path, cfg, re.escape(str(cfg)) + r":\d+:\d+: data\.target: column 'y1' is listed twice "
                                                      r"\(items 1 and 2\); list each column once")


@pytest.mark.parametrize("features, item", [(["x1", "y"], 1), (["y", "x1", "x2"], 0), (["y"], 0)])
def test_the_target_among_the_features_is_a_leak(tmp_path, features, item):
    cfg = config(tmp_path, {"path": str(csv(tmp_path, GOOD)), "features": features})
    train_fails(tmp_path, cfg, re.escape(str(cfg)) + r":\d+:\d+: data\.features: 'y' is the target \(data\.target\); "
                                                      r"a feature must not be the label .* remove it from data\.features")


def test_one_of_several_targets_among_the_features(tmp_path):
    p = csv(tmp_path, "x1,y1,y2\n1,2,3\n4,5,6\n7,8,9\n")
    cfg = config(tmp_path, {"path": str(p), "target": ["y1", "y2"], "features": ["x1", "y2"]}, loss="mse",
                 units=2, act="linear")
    train_fails(tmp_path, cfg, re.escape(str(cfg)) + r":\d+:\d+: data\.features: 'y2' is the target .*")


# ---------------------------------------------------------------- missing class labels
def npz(tmp_path: Path, y, X=None, name: str = "d.npz") -> Path:
    p = tmp_path / name
    y = np.asarray(y)
    X = np.arange(len(y) * 2, dtype=np.float64).reshape(len(y), 2) / 10 if X is None else X
    np.savez(p, X=X, y=y)
    return p


@pytest.mark.parametrize("label", ["", "NA", "None", "null", "?", "nan", "  ", "N/A"])
def test_npz_text_label_that_is_missing(tmp_path, label):
    p = npz(tmp_path, ["a", "b", label, "a", "b"])
    cfg = config(tmp_path, {"path": str(p)})
    train_fails(tmp_path, cfg, re.escape(str(p)) + r": row 2 \(counting from 0\): target column 'y' is empty: no class "
                                                    r"label \(.*count as missing\) — fill it in, or set data\.missing: drop .*")


def test_npz_nan_label(tmp_path):
    p = npz(tmp_path, [0.0, 1.0, 1.0, np.nan, 0.0])
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}),
                re.escape(str(p)) + r": row 3 \(counting from 0\): target column 'y' is empty: no class label "
                                    r"\(empty or NaN; .*\) — fill it in, or set data\.missing: drop to leave such rows out")


def test_npz_missing_label_with_missing_mean_says_mean_fills_features_only(tmp_path):
    p = npz(tmp_path, ["a", "NA", "b", "a"])
    train_fails(tmp_path, config(tmp_path, {"path": str(p), "missing": "mean"}),
                re.escape(str(p)) + r": row 1 .*'NA'.*\(data\.missing: mean fills features only\) — .*")


@pytest.mark.parametrize("label", ["NA", "None", ""])
def test_missing_labels_with_missing_drop_leave_the_rows_out(tmp_path, label):
    p = npz(tmp_path, ["a", "b", label, "a", "b", "a"])
    rc, out, err = invoke("train", config(tmp_path, {"path": str(p), "missing": "drop"}), "--out", tmp_path / "r", "--quiet")
    assert rc == 0, err
    run = nncli.load_run(tmp_path / "r")
    assert run.preprocessor.classes == ["a", "b"]  # the missing label did not become a class


def test_npz_nan_regression_target_is_named_by_row(tmp_path):
    p = npz(tmp_path, [0.5, 1.5, np.nan, 2.0])
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}, loss="mse", act="linear"),
                re.escape(str(p)) + r": row 2 \(counting from 0\): target column 'y' is empty or not finite")


def npy_pair(tmp_path: Path, y) -> tuple[Path, Path]:
    y = np.asarray(y)
    x = tmp_path / "X.npy"
    np.save(x, np.arange(len(y) * 2, dtype=np.float32).reshape(len(y), 2))
    yp = tmp_path / "y.npy"
    np.save(yp, y)
    return x, yp


@pytest.mark.parametrize("y, row", [([0.0, 1.0, np.nan, 1.0], 2), (["a", "", "b", "a"], 1), (["a", "b", "None", "a"], 2)])
def test_npy_pair_missing_label(tmp_path, y, row):
    x, yp = npy_pair(tmp_path, y)
    train_fails(tmp_path, config(tmp_path, {"path": str(x), "y_path": str(yp)}),
                re.escape(str(yp)) + rf": row {row} \(counting from 0\) has no class label .* remove the row from both files")


def test_npy_pair_text_target_with_regression_loss(tmp_path):
    x, yp = npy_pair(tmp_path, ["a", "b", "c", "d"])
    train_fails(tmp_path, config(tmp_path, {"path": str(x), "y_path": str(yp)}, loss="mse", act="linear"),
                re.escape(str(yp)) + r": holds text \(<U1\) but a regression loss needs numbers; .*cross_entropy.*")


@pytest.mark.parametrize("label, shown", [("NA", "'NA'"), ("None", "'None'"), ("?", "'\\?'"), ("", "empty or NaN")])
def test_csv_text_label_missing(tmp_path, label, shown):
    p = csv(tmp_path, f"x1,x2,y\n1,2,cat\n3,4,dog\n5,6,{label}\n7,8,cat\n")
    line = train_fails(tmp_path, config(tmp_path, {"path": str(p)}),
                       re.escape(str(p)) + r":4: target column 'y' is empty: no class label \(.*\) — fill it in, .*")
    if label:
        assert shown.replace("\\", "") in line or "empty or NaN" in line


def test_csv_label_na_with_missing_drop_trains_without_the_row(tmp_path):
    p = csv(tmp_path, "x1,x2,y\n1,2,cat\n3,4,dog\n5,6,NA\n7,8,cat\n9,1,dog\n")
    rc, _, err = invoke("train", config(tmp_path, {"path": str(p), "missing": "drop"}), "--out", tmp_path / "r", "--quiet")
    assert rc == 0, err
    assert nncli.load_run(tmp_path / "r").preprocessor.classes == ["cat", "dog"]


# ---------------------------------------------------------------- text targets with a regression loss
@pytest.mark.parametrize("text, line", [("high", 3), ("1.5.2", 4), ("x" * 5000, 2)])
def test_csv_text_regression_target_at_its_line(tmp_path, text, line):
    rows = ["0.5", "1.5", "2.5"]
    rows[line - 2] = text
    p = csv(tmp_path, "x1,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(rows)))
    got = train_fails(tmp_path, config(tmp_path, {"path": str(p)}, loss="mse", act="linear"),
                      re.escape(str(p)) + rf":{line}: target column 'y' holds text \(.*\); a regression loss needs numbers .*")
    assert len(got) < 400


def test_npz_text_target_with_regression_loss(tmp_path):
    p = npz(tmp_path, ["1.0", "2.0", "oops", "3.0"])
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}, loss="mse", act="linear"),
                re.escape(str(p)) + r": row 2 \(counting from 0\): target column 'y' holds text \('oops'\); .*")


# ---------------------------------------------------------------- values that overflow float32
@pytest.mark.parametrize("value", ["1e39", "-1e39", "3.5e38", "1e300"])
def test_csv_feature_that_does_not_fit_in_float32(tmp_path, value):
    p = csv(tmp_path, f"x1,x2,y\n0.1,0.2,0\n0.3,{value},1\n0.5,0.6,0\n0.7,0.8,1\n")
    train_fails(tmp_path, config(tmp_path, {"path": str(p), "scaling": "none"}),
                re.escape(str(p)) + f":3: column 'x2' holds {re.escape(format(float(value), 'g'))}, which does not fit in float32 .* "
                                    r"or set training\.dtype: float64")


def test_feature_too_large_to_standardize(tmp_path):
    p = csv(tmp_path, "x1,x2,y\n0.1,0.2,0\n0.3,1e300,1\n0.5,-1e300,0\n0.7,0.8,1\n")
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}),
                r"column 'x2': its values are too large to standardize \(the statistics overflow float64\); .*")


def test_float64_training_takes_what_float32_cannot(tmp_path):
    p = csv(tmp_path, "x1,x2,y\n0.1,0.2,0\n0.3,1e39,1\n0.5,0.6,0\n0.7,0.8,1\n")
    rc, _, err = invoke("train", config(tmp_path, {"path": str(p), "scaling": "none"}, dtype="float64"),
                        "--out", tmp_path / "r", "--quiet")
    assert rc == 0, err


def test_regression_target_that_does_not_fit_in_float32(tmp_path):
    p = csv(tmp_path, "x1,y\n1,0.5\n2,1.5\n3,7e38\n")
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}, loss="mse", act="linear"),
                re.escape(str(p)) + r":4: target column 'y' holds 7e\+38, which does not fit in float32 .*")


def test_npz_feature_that_does_not_fit_in_float32(tmp_path):
    X = np.array([[0.1, 0.2], [0.3, 0.4], [2e39, 0.6], [0.7, 0.8]])
    p = npz(tmp_path, [0, 1, 0, 1], X)
    train_fails(tmp_path, config(tmp_path, {"path": str(p), "scaling": "none"}),
                re.escape(str(p)) + r": row 2 \(counting from 0\): column 'x1' holds 2e\+39, which does not fit in float32 .*")


@pytest.fixture(scope="module")
def unscaled_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("unscaled")
    p = d / "good.csv"
    p.write_text(GOOD)
    cfg = config(d, {"path": str(p), "scaling": "none"})
    nncli.train(yaml.safe_load(cfg.read_text()), out=d / "run")
    return d / "run"


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_predict_and_evaluate_name_the_value_that_does_not_fit(tmp_path, unscaled_run, command):
    p = csv(tmp_path, "x1,x2,y\n0.1,0.2,0\n0.3,0.4,1\n5e38,0.6,0\n")
    args = [command, unscaled_run, p] + (["--out", tmp_path / "p.csv"] if command == "predict" else [])
    rc, out, err = invoke(*args)
    line = one_line(err)
    assert rc == 2 and re.fullmatch(re.escape(str(p)) + r":4: column 'x1' holds 5e\+38, which does not fit in float32 .*", line), line
    assert not (tmp_path / "p.csv").exists() and files(tmp_path) == {"d.csv"}


# ---------------------------------------------------------------- message lines are capped
def test_five_thousand_classes_are_elided(tmp_path):
    p = csv(tmp_path, "x1,y\n" + "".join(f"{i},class{i}\n" for i in range(5000)))
    cfg = config(tmp_path, {"path": str(p)}, loss="cross_entropy", units=3, act="softmax")
    line = train_fails(tmp_path, cfg, r".*model\.layers\[1\]\.units: the output layer has 3 units but the data has 5000 "
                                      r"classes \(class0, class1, .*, … and 4988 more\); set units: 5000")
    assert "class4999" not in line


def test_five_thousand_columns_are_elided_when_the_target_is_not_there(tmp_path):
    p = csv(tmp_path, ",".join(f"c{i}" for i in range(5000)) + "\n" + ",".join("1" for _ in range(5000)) + "\n")
    cfg = config(tmp_path, {"path": str(p), "target": "label"})
    train_fails(tmp_path, cfg, r".*data\.target: no column 'label' in .*\(columns: c0, c1, .*, … and 4988 more\)")


def test_a_huge_text_cell_is_cut_in_the_message(tmp_path):
    p = csv(tmp_path, "x1,x2,y\n0.1,0.2,0\n0.3," + "z" * 100_000 + ",1\n")
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}),
                re.escape(str(p)) + r":3: column 'x2' holds text \('z{60}… \(100000 characters\)'\) but is a numeric feature; .*")


def test_an_unseen_category_lists_the_known_ones_elided(tmp_path):
    train_csv = csv(tmp_path, "c,y\n" + "".join(f"k{i},{i % 2}\n" for i in range(3000)), "train.csv")
    cfg = config(tmp_path, {"path": str(train_csv), "encode": "onehot"})
    nncli.train(yaml.safe_load(cfg.read_text()), out=tmp_path / "run")
    cfg.unlink()
    p = csv(tmp_path, "c,y\nk1,1\nnever,0\n", "new.csv")
    rc, out, err = invoke("predict", tmp_path / "run", p, "--out", tmp_path / "p.csv")
    line = one_line(err)
    assert rc == 2 and re.fullmatch(re.escape(str(p)) + r":3: column 'c': category 'never' was not seen in training "
                                                        r"\(known: k0, k1, .*, … and 2988 more\)", line), line
    assert not (tmp_path / "p.csv").exists()


# ---------------------------------------------------------------- sizes that cannot fit
def test_one_hot_of_a_hundred_thousand_categories_is_refused_with_the_estimate(tmp_path):
    p = csv(tmp_path, "id,x,y\n" + "".join(f"u{i},{i % 7},{i % 2}\n" for i in range(100_000)))
    train_fails(tmp_path, config(tmp_path, {"path": str(p), "encode": "onehot"}),
                re.escape(str(p)) + r": the encoded data \(100000 rows × 100001 inputs\) needs 111\.8 GiB, more than the "
                                    r"[\d.]+ [KMGT]iB of memory available; column 'id' alone has 100000 categories — .*")


def test_an_npz_larger_than_memory_is_refused_with_the_estimate(tmp_path, monkeypatch):
    from nncli.data import tables

    p = npz(tmp_path, np.zeros(1000), np.zeros((1000, 200)))
    monkeypatch.setattr(tables, "memory_bytes", lambda: 1 << 20)
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}),
                re.escape(str(p)) + r": its arrays need 1\.5 MiB in memory, more than this machine has \(1\.0 MiB\); .*")


def test_an_npz_header_claiming_a_huge_shape_is_refused(tmp_path):
    import io
    import zipfile

    p = tmp_path / "bomb.npz"
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 10)})
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("X.npy", head.getvalue() + b"\0" * 80)
        y = io.BytesIO()
        np.save(y, np.zeros(3))
        zf.writestr("y.npy", y.getvalue())
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}),
                re.escape(str(p)) + r": array 'X' claims shape \(1000000000000, 10\) .* damaged or truncated — write it again")


def test_a_csv_read_whole_larger_than_memory_is_refused_with_the_estimate(tmp_path, monkeypatch):
    from nncli.data import csvread

    p = csv(tmp_path, "x1,x2,y\n" + "0.1,0.2,0\n0.3,0.4,1\n" * 20000)
    monkeypatch.setattr(csvread, "available_memory", lambda: 100_000)
    monkeypatch.setattr(csvread, "CHUNK_BYTES", 4096)
    train_fails(tmp_path, config(tmp_path, {"path": str(p)}),
                re.escape(str(p)) + r": reading it needs about [\d.]+ [KMG]iB \(3 columns, \d+ rows so far\), more than the "
                                    r"97\.7 KiB of memory available; convert it with `nncli data convert .*")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_an_endless_stream_with_line_breaks_stops_at_available_memory(tmp_path, monkeypatch):
    from nncli.data import csvread

    fifo = tmp_path / "endless.csv"
    os.mkfifo(fifo)
    stop = threading.Event()

    def writer():
        try:
            with open(fifo, "wb") as fh:
                fh.write(b"x1,x2,y\n")
                while not stop.is_set():
                    fh.write(b"0.1,0.2,0\n0.3,0.4,1\n" * 5000)
        except (BrokenPipeError, OSError):
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    monkeypatch.setattr(csvread, "available_memory", lambda: 8 << 20)
    try:
        train_fails(tmp_path, config(tmp_path, {"path": str(fifo)}),
                    re.escape(str(fifo)) + r": reading it needs about [\d.]+ [KMG]iB \(3 columns, \d+ rows so far\), more "
                                           r"than the 8\.0 MiB of memory available; .*")
    finally:
        stop.set()
        t.join(timeout=10)
