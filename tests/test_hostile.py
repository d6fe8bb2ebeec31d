"""Never trust input: a corpus of hostile configs, CSV files and run directories.

The files live in tests/hostile/ (configs/, csv/); what would be too big to keep in the repository
(a 2 MiB config, a 1 MiB CSV field) and the tampered run directories (made from a fresh run, so
they follow the current format) are made here. Every case asserts the exit code, the one line of
the message (the file named; line or row and column where they apply), that no traceback escaped,
and that nothing was written.

The commands run in-process (Typer's CliRunner: the same code as `python -m nncli`, without a
Python start-up per case); a few cases also run as real subprocesses to show the two agree.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app

HOSTILE = Path(__file__).resolve().parent / "hostile"
CSV = HOSTILE / "csv"
CONFIGS = HOSTILE / "configs"

runner = CliRunner()


def invoke(*args, input=None):
    """Run the CLI in-process; returns (exit code, stdout, stderr) and fails on a traceback."""
    r = runner.invoke(app, [str(a) for a in args], input=input, env={"NNCLI_DEBUG": ""})
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"traceback: {r.exception!r}") from r.exception
    return r.exit_code, r.stdout, r.stderr


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(path.rglob("*"))}


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line, got:\n{stderr}"
    assert "Traceback" not in stderr and "Warning" not in stderr
    return lines[0]


def binary_config(data: dict | None = None, **training) -> dict:
    return {
        "name": "h",
        "data": {"target": "y", **(data or {})},
        "model": {"layers": [{"units": 4, "activation": "tanh"}, {"units": 1, "activation": "sigmoid"}]},
        "training": {"epochs": 2, "batch_size": "full", "loss": "binary_crossentropy", **training},
    }


@pytest.fixture(autouse=True)
def _corpus_untouched(tmp_path, monkeypatch):
    """Each case runs in an empty folder; afterwards the corpus is as it was."""
    before = snapshot(HOSTILE)
    monkeypatch.chdir(tmp_path)
    yield
    assert snapshot(HOSTILE) == before


def train_fails(tmp_path: Path, cfg: dict | Path, code: int, pattern: str) -> str:
    if isinstance(cfg, dict):
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        cfg = path
    before = snapshot(tmp_path)
    rc, out, err = invoke("train", cfg, "--out", tmp_path / "runs/h", "--quiet")
    line = one_line(err)
    assert rc == code, line
    assert re.fullmatch(pattern, line), f"\n{line}\ndoes not match\n{pattern}"
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != "runs"} == before  # nothing written ("runs" may be empty)
    assert out == ""
    return line


# ---------------------------------------------------------------- CSV data given to train
def _at(name: str, line: int | None = None) -> str:
    return re.escape(str(CSV / name)) + (f":{line}" if line is not None else "")


CSV_CASES = [
    ("empty.csv", {}, _at("empty.csv") + r": the file is empty; expected a header row and data rows"),
    ("header_only.csv", {}, _at("header_only.csv") + r": has a header but no data rows"),
    ("whitespace_only.csv", {}, _at("whitespace_only.csv", 1) + r": the header row is empty"),
    ("blank_header.csv", {}, _at("blank_header.csv", 1) + r": the header row is empty"),
    ("ragged_long_row.csv", {}, _at("ragged_long_row.csv", 3) + r": row has 4 fields but the header has 3; .*"),
    ("ragged_short_row.csv", {}, _at("ragged_short_row.csv", 4) + r": row has 2 fields but the header has 3; .*"),
    ("unterminated_quote.csv", {},
     _at("unterminated_quote.csv", 3) + r": a quoted field runs on to line 5; close the quote .*"),
    ("text_in_numeric.csv", {},
     _at("text_in_numeric.csv", 4) + r": column 'x2' holds text \('abc'\) but is a numeric feature; .*data.encode: onehot.*"),
    ("nul_bytes.csv", {}, _at("nul_bytes.csv", 4) + r": holds a NUL byte; this is not a text CSV \(a binary or damaged file\?\)"),
    ("nan_feature.csv", {}, _at("nan_feature.csv", 3) + r": column 'x1' has no value \(empty, NA or NaN\); .*data.missing.*"),
    ("empty_cell.csv", {}, _at("empty_cell.csv", 3) + r": column 'x2' has no value \(empty, NA or NaN\); .*"),
    ("inf_feature.csv", {}, _at("inf_feature.csv", 4) + r": column 'x2' holds inf \(not a finite number\)"),
    ("neg_infinity_feature.csv", {}, _at("neg_infinity_feature.csv", 3) + r": column 'x1' holds -inf \(not a finite number\)"),
    ("overflow_number.csv", {}, _at("overflow_number.csv", 5) + r": column 'x2' holds inf \(not a finite number\)"),
    ("one_class.csv", {}, _at("one_class.csv") + r": target column 'y' has only one class \(1\); classification needs at least two"),
    ("binary_garbage.csv", {}, _at("binary_garbage.csv") + r": not a UTF-8 text file \(invalid start byte at byte 0\); is it a CSV\?"),
    ("latin1.csv", {}, _at("latin1.csv") + r": not a UTF-8 text file \(invalid continuation byte at byte 6\); is it a CSV\?"),
    ("duplicate_header.csv", {}, _at("duplicate_header.csv", 1) + r": column name 'x1' appears twice in the header"),
    ("unnamed_column.csv", {}, _at("unnamed_column.csv", 1) + r": column 2 has no name in the header"),
    ("no_target_column.csv", {}, r".*config\.yaml:\d+:\d+: data\.target: no column 'y' in " + re.escape(str(CSV / "no_target_column.csv")) + r" \(columns: x1, x2, label\)"),
    ("empty_target_cell.csv", {}, _at("empty_target_cell.csv", 3) + r": target column 'y' is empty: no class label \(empty or NaN; .*\) — fill it in, or set data.missing: drop .*"),
    ("only_target.csv", {}, _at("only_target.csv") + r": no feature columns left after removing the target \['y'\]"),
    ("a_directory.csv", {}, _at("a_directory.csv") + r": is a directory, not a data file"),
    ("does_not_exist.csv", {}, r".*config\.yaml:\d+:\d+: data\.path: file not found: " + re.escape(str(CSV / "does_not_exist.csv"))),
    ("good.csv", {"features": ["x1", "x3"]}, r".*config\.yaml:\d+:\d+: data\.features\[1\]: no column 'x3' in " + re.escape(str(CSV / "good.csv")) + r" .*"),
]


@pytest.mark.parametrize("name, data, pattern", CSV_CASES, ids=[c[0] + ("+" if c[1] else "") for c in CSV_CASES])
def test_hostile_csv(tmp_path, name, data, pattern):
    train_fails(tmp_path, binary_config({"path": str(CSV / name), **data}), 2, pattern)


def test_class_unseen_in_training_names_file_row_and_column(tmp_path):
    cfg = binary_config({"path": str(CSV / "good.csv"), "validation": str(CSV / "unseen_class_validation.csv")})
    train_fails(tmp_path, cfg, 2, _at("unseen_class_validation.csv", 3)
                + r": column 'y': class '2' was not seen in training \(classes: 0, 1\)")


def test_text_target_for_regression(tmp_path):
    cfg = binary_config({"path": str(CSV / "text_target_regression.csv")}, loss="mse")
    cfg["model"]["layers"][-1]["activation"] = "linear"
    train_fails(tmp_path, cfg, 2, _at("text_target_regression.csv", 3)
                + r": target column 'y' holds text \('high'\); a regression loss needs numbers .*")


def test_csv_field_over_a_mebibyte(tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("x1,x2,y\n0.1,0.2,0\n0.3," + "9" * (1 << 20 + 1) + ",1\n")
    cfg = binary_config({"path": str(big)})
    train_fails(tmp_path, cfg, 2, re.escape(str(big)) + r": malformed CSV: field larger than field limit .*")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_csv(tmp_path):
    f = tmp_path / "secret.csv"
    f.write_text((CSV / "good.csv").read_text())
    f.chmod(0)
    try:
        train_fails(tmp_path, binary_config({"path": str(f)}), 2,
                    re.escape(str(f)) + r": cannot read the file \(permission denied\)")
    finally:
        f.chmod(0o644)


@pytest.mark.parametrize("case", ["object_npy", "truncated_npy", "npz_without_y"])
def test_hostile_numpy_data(tmp_path, case):
    data = {}
    if case == "object_npy":
        x = tmp_path / "x.npy"
        np.save(x, np.array([[1, "a"], [None, 2]], dtype=object), allow_pickle=True)
        np.save(tmp_path / "y.npy", np.array([0, 1]))
        data = {"path": str(x), "y_path": str(tmp_path / "y.npy")}
        pattern = re.escape(str(x)) + r": holds Python objects, which would need pickle to load; refusing \(save numeric arrays\)"
    elif case == "truncated_npy":
        x = tmp_path / "x.npy"
        np.save(x, np.zeros((50, 2)))
        x.write_bytes(x.read_bytes()[:200])
        np.save(tmp_path / "y.npy", np.zeros(50))
        data = {"path": str(x), "y_path": str(tmp_path / "y.npy")}
        pattern = re.escape(str(x)) + r": truncated or damaged .npy file \(.*\); write it again"
    else:
        x = tmp_path / "d.npz"
        np.savez(x, X=np.zeros((4, 2)))
        data = {"path": str(x)}
        pattern = re.escape(str(x)) + r": an .npz data file needs arrays 'X' and 'y' \(found: X\)"
    del_target = {**binary_config(data)}
    del_target["data"].pop("target")
    train_fails(tmp_path, del_target, 2, pattern)


# ---------------------------------------------------------------- configs
def _cfg(name: str, pos: str = "") -> str:
    return re.escape(str(CONFIGS / name)) + pos


CONFIG_CASES = [
    ("alias_bomb.yaml", _cfg("alias_bomb.yaml") + r": uses YAML aliases that expand to more than 100000 nodes; refusing to load it"),
    ("deep_nesting.yaml", _cfg("deep_nesting.yaml", r":1:\d+") + r": nested more than 100 levels deep; refusing to load it"),
    ("python_tag.yaml", _cfg("python_tag.yaml", ":1:7") + r": unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' .*"),
    ("python_name_tag.yaml", _cfg("python_name_tag.yaml", ":1:7") + r": unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system' .*"),
    ("recursive_alias.yaml", _cfg("recursive_alias.yaml", r":\d+:\d+") + r": a YAML alias refers to the collection that contains it \(recursive alias\)"),
    ("not_a_mapping.yaml", _cfg("not_a_mapping.yaml", ":1:1") + r": the top level of a config must be a mapping .*, got a list"),
    ("empty.yaml", _cfg("empty.yaml") + r": the config file is empty — .*"),
    ("only_comments.yaml", _cfg("only_comments.yaml") + r": the config file is empty — .*"),
    ("binary_garbage.yaml", _cfg("binary_garbage.yaml", r":\d+:\d+") + r": not UTF-8 text \(byte 0x[0-9a-f]{2}\) — save the config file as UTF-8"),
    ("non_utf8.yaml", _cfg("non_utf8.yaml", ":1:10") + r": not UTF-8 text \(byte 0xe9\) — save the config file as UTF-8"),
    ("tab_indent.yaml", _cfg("tab_indent.yaml", ":2:1") + r": YAML syntax error: .*tabs.*"),
    ("unknown_key.yaml", _cfg("unknown_key.yaml", ":8:1") + r": trainning: unknown key — did you mean 'training'\?"),
    ("duplicate_key.yaml", _cfg("duplicate_key.yaml", ":8:1") + r": training: duplicate key 'training' .*"),
    ("nan_learning_rate.yaml", _cfg("nan_learning_rate.yaml", r":8:\d+") + r": training.optimizer.learning_rate: must be > 0, got nan"),
    ("huge_int.yaml", _cfg("huge_int.yaml", ":1:7") + r": invalid value .*"),
]


@pytest.mark.parametrize("name, pattern", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_hostile_config(tmp_path, name, pattern):
    train_fails(tmp_path, CONFIGS / name, 2, pattern)
    assert not (tmp_path / "pwned").exists()


def test_config_with_several_wrong_types_lists_each(tmp_path):
    rc, out, err = invoke("train", CONFIGS / "wrong_types.yaml", "--out", tmp_path / "runs/h")
    assert rc == 2 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"{CONFIGS / 'wrong_types.yaml'}:1:17: model.layers: expected a list, got a mapping",
        f"{CONFIGS / 'wrong_types.yaml'}:2:11: training: expected a mapping, got a list"]
    assert not (tmp_path / "runs").exists()


def test_config_of_two_mebibytes(tmp_path):
    f = tmp_path / "big.yaml"
    f.write_text("# padding\n" * (2 * 1024 * 1024 // 10 + 1))
    train_fails(tmp_path, f, 2, re.escape(str(f)) + r": .*(larger|too big|MiB|bytes).*")


def test_config_given_as_a_directory(tmp_path):
    train_fails(tmp_path, CONFIGS, 2, re.escape(str(CONFIGS)) + r": is a directory, not a config file — .*")


# ---------------------------------------------------------------- predict inputs and outputs
@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny runs: numeric features (x1, x2) and one with a one-hot 'color' column."""
    d = tmp_path_factory.mktemp("hostile-runs")
    nncli.train(binary_config({"path": str(CSV / "good.csv")}), out=d / "base")
    nncli.train(binary_config({"path": str(CSV / "good_categorical.csv"), "encode": "onehot"}), out=d / "categorical")
    return d


PREDICT_CASES = [
    ("base", "predict_missing_feature.csv", _at("predict_missing_feature.csv", 1) + r": feature column 'x2' not in the header \(columns: x1\)"),
    ("base", "predict_text.csv", _at("predict_text.csv", 3) + r": column 'x1' holds text \('hello'\) but is a numeric feature; .*"),
    ("base", "predict_empty_cell.csv", _at("predict_empty_cell.csv", 3) + r": column 'x2' has no value \(empty, NA or NaN\); .*"),
    ("base", "predict_inf.csv", _at("predict_inf.csv", 3) + r": column 'x1' holds -inf \(not a finite number\)"),
    ("base", "empty.csv", _at("empty.csv") + r": the file is empty; .*"),
    ("base", "binary_garbage.csv", _at("binary_garbage.csv") + r": not a UTF-8 text file .*"),
    ("base", "a_directory.csv", _at("a_directory.csv") + r": is a directory, not a data file"),
    ("categorical", "predict_unseen_category.csv",
     _at("predict_unseen_category.csv", 3) + r": column 'color': category 'purple' was not seen in training \(known: blue, green, red\)"),
]


@pytest.mark.parametrize("run, name, pattern", PREDICT_CASES, ids=[c[1] for c in PREDICT_CASES])
def test_hostile_predict_input(tmp_path, runs, run, name, pattern):
    before = snapshot(runs)
    rc, out, err = invoke("predict", runs / run, CSV / name, "--out", tmp_path / "p.csv")
    line = one_line(err)
    assert rc == 2 and re.fullmatch(pattern, line), line
    assert out == "" and list(tmp_path.iterdir()) == [] and snapshot(runs) == before


@pytest.mark.parametrize("data, pattern", [
    (b"", r"<stdin>: the file is empty; .*"),
    (b"\xff\xfe\x00x1,x2\n", r"<stdin>: not UTF-8 text \(invalid start byte at byte 0\); is it a CSV\?"),
    (b"x1,x2\n1,2,3\n", r"<stdin>:2: row has 3 fields but the header has 2; .*"),
], ids=["empty", "garbage", "ragged"])
def test_hostile_predict_stdin(runs, data, pattern):
    rc, out, err = invoke("predict", runs / "base", "-", input=data)
    assert rc == 2 and re.fullmatch(pattern, one_line(err)) and out == ""


def test_predict_out_into_a_directory_or_missing_folder(tmp_path, runs):
    rc, out, err = invoke("predict", runs / "base", CSV / "good.csv", "--out", tmp_path)
    assert rc == 2 and one_line(err) == f"{tmp_path}: is a directory; give --out a file name"
    rc, out, err = invoke("predict", runs / "base", CSV / "good.csv", "--out", tmp_path / "no/such/p.csv")
    assert rc == 2 and one_line(err).startswith(f"{tmp_path / 'no/such/p.csv'}: cannot write (No such file or directory)")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- tampered run directories
def _npz(arrays: dict, **kw) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays, **kw)
    return buf.getvalue()


def _weights(run: Path) -> dict:
    with np.load(run / "weights.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _set_weight(key, fn, **kw):
    def tamper(run):
        w = _weights(run)
        w[key] = fn(w[key])
        (run / "weights.npz").write_bytes(_npz(w, **kw))
    return tamper


def _drop_weight(key):
    def tamper(run):
        w = _weights(run)
        del w[key]
        (run / "weights.npz").write_bytes(_npz(w))
    return tamper


def _zip_member(name, data: bytes):
    def tamper(run):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(name, data)
        (run / "weights.npz").write_bytes(buf.getvalue())
    return tamper


def _huge_header(run):
    member = io.BytesIO()
    np.lib.format.write_array(member, np.zeros(1, np.float32))
    _zip_member("layers.0.weight.npy", member.getvalue().replace(b"(1,)", b"(10000000000000,)"))(run)


def _json(name, fn):
    def tamper(run):
        obj = json.loads((run / name).read_text())
        fn(obj)
        (run / name).write_text(json.dumps(obj))
    return tamper


def _config(fn):
    def tamper(run):
        cfg = yaml.safe_load((run / "config.yaml").read_text())
        fn(cfg)
        (run / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return tamper


def _write(name, data):
    def tamper(run):
        if isinstance(data, bytes):
            (run / name).write_bytes(data)
        else:
            (run / name).write_text(data)
    return tamper


def _truncate(name, keep):
    def tamper(run):
        (run / name).write_bytes((run / name).read_bytes()[:keep])
    return tamper


def _replace_with_dir(name):
    def tamper(run):
        (run / name).unlink()
        (run / name).mkdir()
    return tamper


def _remove(name):
    return lambda run: (run / name).unlink()


W, P, C, M, H = "weights.npz", "preprocessing.json", "config.yaml", "metrics.json", "history.csv"
FIX = r"; the file was not written by nncli or was changed \(re-train to get a clean run directory\)"

RUNDIR_CASES = [
    ("object_array", _set_weight("layers.0.weight", lambda a: np.array([1, "a", None], dtype=object), allow_pickle=True),
     W, r": array 'layers.0.weight' holds Python objects, which would need pickle to load; refusing .*"),
    ("missing_key", _drop_weight("layers.1.bias"), W, r": missing array 'layers.1.bias'; it does not match config.yaml"),
    ("wrong_shape", _set_weight("layers.0.weight", lambda a: a.T), W, r": layers.0.weight has shape \(4, 2\), config.yaml says \(2, 4\)"),
    ("int_dtype", _set_weight("layers.0.weight", lambda a: a.astype(np.int64)), W,
     r": layers.0.weight has dtype int64, config.yaml says float32 \(training.dtype\)"),
    ("complex_dtype", _set_weight("layers.1.bias", lambda a: a.astype(complex)), W,
     r": layers.1.bias has dtype complex128, config.yaml says float32 \(training.dtype\)"),
    ("string_dtype", _set_weight("layers.0.bias", lambda a: a.astype(str)), W,
     r": layers.0.bias has dtype <U\d+, config.yaml says float32 \(training.dtype\)"),
    ("float64_dtype", _set_weight("layers.0.weight", lambda a: a.astype(np.float64)), W,
     r": layers.0.weight has dtype float64, config.yaml says float32 \(training.dtype\)"),
    ("nan_weights", _set_weight("layers.0.bias", lambda a: a * np.nan), W, r": layers.0.bias holds NaN or infinite values"),
    ("extra_array", lambda run: (run / W).write_bytes(_npz({**_weights(run), "evil": np.zeros(3)})), W,
     r": unexpected arrays evil; it does not match config.yaml"),
    ("truncated_npz", _truncate(W, 300), W, r": damaged, truncated or not an .npz file \(File is not a zip file\)"),
    ("npz_is_text", _write(W, "hello"), W, r": damaged, truncated or not an .npz file \(File is not a zip file\)"),
    ("npz_member_not_npy", _zip_member("layers.0.weight", b"x"), W, r": holds 'layers.0.weight', which is not a .npy array; .*"),
    ("npz_header_promises_terabytes", _huge_header, W,
     r": array 'layers.0.weight' claims shape \(10000000000000,\) \(40000000000000 bytes\) but the file holds \d+; damaged or truncated"),
    ("npz_bad_npy_magic", _zip_member("layers.0.weight.npy", b"\x93NUMPY\x09\x00garbage"), W, r": damaged, truncated or not an .npz file .*"),
    ("weights_do_not_match_config", _config(lambda c: c["model"]["layers"][0].update(units=5)), W,
     r": layers.0.weight has shape \(2, 4\), config.yaml says \(2, 5\)"),
    ("config_dtype_float64", _config(lambda c: c["training"].update(dtype="float64")), W,
     r": layers.0.weight has dtype float32, config.yaml says float64 \(training.dtype\)"),
    ("weights_missing", _remove(W), None, r": incomplete run directory, missing weights.npz"),
    ("weights_is_a_directory", _replace_with_dir(W), W, r": is not a file; is this an nncli run directory\?"),
    ("preprocessing_missing_key", _json(P, lambda p: p.pop("scale")), P, r": scale: missing \(keys needed: .*\)" + FIX),
    ("preprocessing_unknown_key", _json(P, lambda p: p.update(evil=1)), P, r": evil: unknown key" + FIX),
    ("preprocessing_features_string", _json(P, lambda p: p.update(features="x1")), P,
     r": features: expected a non-empty list of distinct column names" + FIX),
    ("preprocessing_offset_strings", _json(P, lambda p: p.update(offset=["a", "b"])), P,
     r": offset: expected 2 finite numbers \(one per network input\)" + FIX),
    ("preprocessing_scale_null", _json(P, lambda p: p.update(scale=None)), P, r": scale: expected 2 finite numbers .*"),
    ("preprocessing_scale_zero", _json(P, lambda p: p.update(scale=[0, 1])), P, r": scale: holds 0, which would divide by zero" + FIX),
    ("preprocessing_too_many_features", _json(P, lambda p: p.update(features=["x1", "x2", "x3"])), P,
     r": offset: expected 3 finite numbers \(one per network input\)" + FIX),
    ("preprocessing_classes_null", _json(P, lambda p: p.update(classes=None)), P, r": classes: expected a list of at least 2 class labels" + FIX),
    ("preprocessing_three_classes", _json(P, lambda p: p.update(classes=[0, 1, 2])), P,
     r": classes: 3 classes but config.yaml's output layer is for 2" + FIX),
    ("preprocessing_task_regression", _json(P, lambda p: p.update(task="regression")), P,
     r": task: 'regression' but config.yaml's loss binary_crossentropy is for classification" + FIX),
    ("preprocessing_categories_list", _json(P, lambda p: p.update(categories=["x1"])), P,
     r": categories: expected a mapping column -> list of categories, got list" + FIX),
    ("preprocessing_fill_text", _json(P, lambda p: p.update(fill={"x1": "a"})), P, r": fill: expected a mapping feature -> finite number" + FIX),
    ("preprocessing_scaling_number", _json(P, lambda p: p.update(scaling=3)), P, r": scaling: expected one of standardize, minmax, none, got 3" + FIX),
    ("preprocessing_not_json", _write(P, "{nope"), P, r": not valid JSON \(.*\)"),
    ("preprocessing_a_list", _write(P, "[1, 2]"), P, r": expected a JSON object"),
    ("preprocessing_deeply_nested", _write(P, "[" * 100_000 + "]" * 100_000), P, r": nested too deeply to be nncli metadata"),
    ("config_python_tag", _write(C, "name: !!python/object/apply:os.system ['touch pwned']\n"), C,
     r":1:7: unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' .* — not a config nncli wrote; .*"),
    ("config_unknown_key", lambda run: (run / C).write_text((run / C).read_text() + "evil: 1\n"), C,
     r":\d+:1: evil: unknown key .* — not a config nncli wrote; re-train to get a clean run directory"),
    ("config_alias_bomb", _write(C, (CONFIGS / "alias_bomb.yaml").read_text()), C,
     r": uses YAML aliases that expand to more than 100000 nodes; refusing to load it — .*"),
    ("config_not_utf8", _write(C, b"name: \xff\n"), C, r":1:7: not UTF-8 text \(byte 0xff\) — .*"),
    ("metrics_not_json", _write(M, "not json"), M, r": not valid JSON \(.*\)"),
    ("metrics_seconds_text", _write(M, '{"training_seconds": "x"}'), M, r": training_seconds: expected a number, got 'x'"),
    ("history_text_cell", _write(H, "epoch,train_loss\n1,0.5\nabc,1\n"), H, r":3: column 'epoch': 'abc' is not a number"),
    ("history_ragged", _write(H, "epoch,train_loss\n1,0.5,7\n"), H, r":2: row has 3 fields but the header has 2"),
    ("history_binary", _write(H, b"\xff\xfe"), H, r": not UTF-8 text \(invalid start byte at byte 0\)"),
]


@pytest.mark.parametrize("name, tamper, file, pattern", RUNDIR_CASES, ids=[c[0] for c in RUNDIR_CASES])
def test_tampered_run_directory(tmp_path, runs, name, tamper, file, pattern):
    run = tmp_path / "run"
    shutil.copytree(runs / "base", run)
    tamper(run)
    before = snapshot(tmp_path)
    rc, out, err = invoke("predict", run, CSV / "good.csv")
    line = one_line(err)
    assert rc == 2, line
    where = re.escape(str(run / file) if file else str(run))
    assert re.fullmatch(where + pattern, line), f"\n{line}\ndoes not match\n{where + pattern}"
    assert out == "" and snapshot(tmp_path) == before
    assert not (tmp_path / "pwned").exists()


def test_run_directory_that_is_a_file_or_missing(tmp_path):
    rc, out, err = invoke("predict", CSV / "good.csv", CSV / "good.csv")
    assert rc == 2 and one_line(err) == f"{CSV / 'good.csv'}: not a directory; give the run directory that nncli train wrote"
    rc, out, err = invoke("predict", tmp_path / "nope", CSV / "good.csv")
    assert rc == 2 and one_line(err) == f"{tmp_path / 'nope'}: no such run directory; train one with: nncli train CONFIG"


def test_the_base_runs_themselves_predict(runs):
    """The corpus fails because of the damage, not the runs: untampered, they work."""
    rc, out, err = invoke("predict", runs / "base", CSV / "good.csv")
    assert rc == 0, err
    assert out.splitlines()[0] == "y" and len(out.splitlines()) == 13
    rc, out, err = invoke("predict", runs / "categorical", CSV / "good_categorical.csv")
    assert rc == 0, err


# ---------------------------------------------------------------- the same, as real processes
@pytest.mark.parametrize("case", ["config_python_tag", "object_array", "stdin_garbage"])
def test_hostile_as_a_subprocess(tmp_path, runs, cli_subprocess, case):
    cli = cli_subprocess
    if case == "config_python_tag":
        r = cli("train", CONFIGS / "python_tag.yaml", "--out", tmp_path / "runs/h", cwd=tmp_path)
        assert r.returncode == 2 and "unsupported YAML tag" in r.stderr
    elif case == "object_array":
        run = tmp_path / "run"
        shutil.copytree(runs / "base", run)
        RUNDIR_CASES[0][1](run)
        r = cli("predict", run, CSV / "good.csv", cwd=tmp_path)
        assert r.returncode == 2 and "would need pickle" in r.stderr
    else:
        r = subprocess_predict_stdin(cli, runs / "base", tmp_path)
        assert r.returncode == 2 and "<stdin>: not UTF-8 text" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "runs").exists()


def subprocess_predict_stdin(cli, run, cwd):
    """`printf '\\xff...' | nncli predict RUN -`: bytes on stdin, so not through the text-mode fixture."""
    import subprocess
    import sys

    env = dict(os.environ)
    env["PYTHONPATH"] = str(HOSTILE.parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NNCLI_DEBUG", None)
    r = subprocess.run([sys.executable, "-m", "nncli", "predict", str(run), "-"], input=b"\xff\xfe\x00x1,x2\n",
                       capture_output=True, env=env, cwd=cwd, timeout=120)
    r.stdout, r.stderr = r.stdout.decode(), r.stderr.decode()
    return r
