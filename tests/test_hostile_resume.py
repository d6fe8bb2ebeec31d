"""Hostile resumes (issue 13): a checkpoint tampered with field by field or byte by byte, a config
or data that changed since the checkpoint, flags given again or not. Each case asserts the exit
code, the one line, and what is on disk afterwards: a refused resume leaves the checkpoint
byte-identical and writes no run; an accepted one ends bit-exact (or records what it changed).

One interrupted run (a CSV, so the data can change) is made per module; each test works on a
copy of its folder and runs `nncli train` in-process (the `cli` fixture).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import yaml

import nncli
from nncli.errors import Interrupted
from nncli.run import checkpoint, files
from nncli.training import Callback

CONFIG = {
    "name": "h",
    "seed": 11,
    "data": {"path": "d.csv", "target": "label", "validation_split": 0.25},
    "model": {"layers": [{"units": 5, "activation": "tanh", "dropout": 0.1},
                         {"units": 2, "activation": "softmax"}]},
    "training": {"epochs": 5, "batch_size": 8, "loss": "cross_entropy", "checkpoint_every": 1,
                 "optimizer": {"name": "adam", "learning_rate": 0.05}},
}


class StopAfter(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, row):
        if trainer.epoch == self.epoch:
            trainer.stop_signal = signal.SIGINT


def write_data(path: Path, seed: int = 0, n: int = 48) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    label = np.where(x[:, 0] * x[:, 1] > 0, "a", "b")
    path.write_text("x1,x2,label\n" + "".join(f"{a:.6f},{b:.6f},{c}\n" for (a, b), c in zip(x, label)))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A folder with h.yaml, d.csv, reference/ (uninterrupted) and runs/.h.partial (stopped after
    epoch 2), plus the same stopped inside epoch 3 (runs/.mid.partial, for the position checks)."""
    d = tmp_path_factory.mktemp("hostile")
    write_data(d / "d.csv")
    (d / "h.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    nncli.train(d / "h.yaml", out=d / "reference")
    with pytest.raises(Interrupted):
        nncli.train(d / "h.yaml", out=d / "runs/h", callbacks=[StopAfter(2)])
    return d


@pytest.fixture
def work(base, tmp_path):
    d = tmp_path / "w"
    shutil.copytree(base, d, symlinks=True)
    return d


def ckpt(d: Path) -> Path:
    return files.staging_dir(d / "runs/h") / files.CHECKPOINT_ARRAYS


def resume(cli, d: Path, *extra):
    return cli("train", d / "h.yaml", "--out", d / "runs/h", "--resume", "--quiet", *extra, cwd=d)


def assert_refused(r, d: Path, before: bytes | None, *words, code: int = 2) -> str:
    """Exit ``code``, one line containing ``words``, the checkpoint unchanged, no run written."""
    assert r.returncode == code, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    if before is not None:
        assert ckpt(d).read_bytes() == before
    assert not (d / "runs/h").exists()
    assert not files.lock_path(d / "runs/h").exists()
    return lines[0]


def assert_bit_exact(r, d: Path) -> dict:
    assert r.returncode == 0, r.stderr
    assert (d / "runs/h/weights.npz").read_bytes() == (d / "reference/weights.npz").read_bytes()
    assert not files.staging_dir(d / "runs/h").exists()
    return json.loads((d / "runs/h/metrics.json").read_text())


def resign(d: Path, change) -> bytes:
    """Apply ``change(arrays, meta)`` and write the checkpoint back with a valid checksum (so the
    field checks, not the checksum, must catch it); returns the new bytes."""
    arrays, meta = checkpoint.load(ckpt(d).parent)
    change(arrays, meta)
    data = checkpoint.encode(arrays, meta)
    ckpt(d).write_bytes(data)
    return data


# ---------------------------------------------------------------- baseline
def test_untouched_checkpoint_resumes_bit_exact(cli, work):
    m = assert_bit_exact(resume(cli, work), work)
    assert m["resumed_from_epoch"] == 2 and m["epochs_configured"] == 5
    assert [s["start_epoch"] for s in m["segments"]] == [0, 2]
    assert m["segments"][1] == {"start_epoch": 2, "start_batch": 0, "overrides": [], "changes": [],
                                "data_change_allowed": False}


# ---------------------------------------------------------------- metadata, field by field
def _set(path, value):
    def change(arrays, meta):
        *parents, leaf = path
        tree = meta
        for p in parents:
            tree = tree[p]
        tree[leaf] = value
    return change


def _delete(path):
    def change(arrays, meta):
        *parents, leaf = path
        tree = meta
        for p in parents:
            tree = tree[p]
        del tree[leaf]
    return change


FIELD_CASES = {
    "epoch-1e30": (_set(["epoch"], 1e30), "epoch:"),
    "epoch-negative": (_set(["epoch"], -1), "epoch:"),
    "epoch-string": (_set(["epoch"], "2"), "epoch:"),
    "epoch-bool": (_set(["epoch"], True), "epoch:"),
    "epoch-float": (_set(["epoch"], 2.0), "epoch:"),
    "step-negative": (_set(["step_in_epoch"], -3), "step_in_epoch:"),
    "step-beyond-epoch": (_set(["step_in_epoch"], 10**6), "step_in_epoch:"),
    "seen-negative": (_set(["seen"], -1), "seen:"),
    "loss-nan": (_set(["loss_sum"], float("nan")), "loss_sum:"),
    "loss-inf": (_set(["loss_sum"], float("inf")), "loss_sum:"),
    "seconds-negative": (_set(["seconds"], -5.0), "seconds:"),
    "epoch-seconds-string": (_set(["epoch_seconds"], "1"), "epoch_seconds:"),
    "rng-kind": (_set(["shuffle_rng", "bit_generator"], "MT19937"), "shuffle_rng.bit_generator:"),
    "rng-state-negative": (_set(["shuffle_rng", "state", "state"], -1), "shuffle_rng.state.state:"),
    "rng-state-huge": (_set(["dropout_rng", "state", "inc"], 2**200), "dropout_rng.state.inc:"),
    "rng-has-uint32": (_set(["dropout_rng", "has_uint32"], 2), "dropout_rng.has_uint32:"),
    "rng-missing": (_delete(["dropout_rng"]), "dropout_rng:"),
    "rng-extra-key": (_set(["shuffle_rng", "evil"], 1), "shuffle_rng.evil:"),
    "history-ragged": (lambda a, m: m["history"]["train_loss"].pop(), "history"),
    "history-too-long": (lambda a, m: [v.append(v[-1]) for v in m["history"].values()], "history"),
    "history-text": (lambda a, m: m["history"]["train_loss"].__setitem__(0, "low"), "history.train_loss.0:"),
    "history-not-columns": (_set(["history"], [1, 2]), "history:"),
    "es-wait-negative": (_set(["early_stopping", "wait"], -1), "early_stopping.wait:"),
    "es-best-epoch-future": (_set(["early_stopping", "best_epoch"], 9), "early_stopping.best_epoch:"),
    "schedule-text": (_set(["schedule"], {"current": "fast"}), "schedule.current"),
    "schedule-extra-key": (_set(["schedule", "evil"], 1.0), "schedule: has the fields ['evil']"),
    "config-not-mapping": (_set(["config"], "rm -rf"), "config:"),
    "overrides-not-text": (_set(["overrides"], [1]), "overrides.0:"),
    "data-hash-bad": (_set(["data", "arrays"], "xyz"), "data.arrays:"),
    "data-size-negative": (lambda a, m: m["data"]["files"]["data.path"].__setitem__("size", -1), "size:"),
    "segments-empty": (_set(["segments"], []), "segments:"),
    "segment-extra": (lambda a, m: m["segments"][0].__setitem__("evil", 1), "segments.0.evil:"),
    "unknown-field": (_set(["evil"], 1), "evil:"),
    "format-1": (_set(["format"], 1), "format 1"),
    "format-missing": (_delete(["format"]), "format None"),
    "epoch-start-rng-missing-mid-epoch": (lambda a, m: m.update(step_in_epoch=1, epoch_start_shuffle_rng=None),
                                          "epoch_start_shuffle_rng"),
}


@pytest.mark.parametrize("case", list(FIELD_CASES))
def test_tampered_field_is_one_line_naming_it(cli, work, case):
    change, words = FIELD_CASES[case]
    before = resign(work, change)
    line = assert_refused(resume(cli, work), work, before, words, "without --resume to start over")
    assert line.startswith(str(ckpt(work)))


def test_config_in_checkpoint_that_does_not_validate(cli, work):
    before = resign(work, lambda a, m: m["config"]["model"]["layers"][0].__setitem__("units", -4))
    assert_refused(resume(cli, work), work, before, "model.layers")


# ---------------------------------------------------------------- the file, byte by byte
def _flip(data: bytes, at: float) -> bytes:
    i = int(len(data) * at)
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


BYTE_CASES = {
    "flip-early": lambda b: _flip(b, 0.2),
    "flip-middle": lambda b: _flip(b, 0.5),
    "flip-late": lambda b: _flip(b, 0.8),
    "truncated-half": lambda b: b[: len(b) // 2],
    "truncated-one-byte": lambda b: b[:-1],
    "empty": lambda b: b"",
    "text": lambda b: b"epoch: 3\n",
    "appended": lambda b: b + b"\0" * 64,
}


@pytest.mark.parametrize("case", list(BYTE_CASES))
def test_damaged_bytes_are_refused_and_kept(cli, work, case):
    data = BYTE_CASES[case](ckpt(work).read_bytes())
    ckpt(work).write_bytes(data)
    r = resume(cli, work)
    if case == "appended" and r.returncode == 0:  # zip readers may ignore trailing bytes: still verified
        assert_bit_exact(r, work)
        return
    assert_refused(r, work, data, str(ckpt(work)), "without --resume to start over")


def _members(d: Path) -> dict:
    with np.load(ckpt(d), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


MEMBER_CASES = {
    # (change to the raw members, words)
    "digest-removed": (lambda m: m.pop(checkpoint.DIGEST_KEY), "__sha256__"),
    "meta-removed": (lambda m: m.pop(checkpoint.META_KEY), "__meta__"),
    "digest-zeroed": (lambda m: m.__setitem__(checkpoint.DIGEST_KEY, np.zeros(32, np.uint8)), "checksum mismatch"),
    "digest-wrong-dtype": (lambda m: m.__setitem__(checkpoint.DIGEST_KEY, m[checkpoint.DIGEST_KEY].astype(np.int64)),
                           "checksum mismatch"),
    "params-changed-not-resigned": (lambda m: m["params"].__setitem__(0, 7.0), "checksum mismatch"),
    "meta-changed-not-resigned": (lambda m: m.__setitem__(checkpoint.META_KEY, np.frombuffer(
        m[checkpoint.META_KEY].tobytes().replace(b'"epoch": 2', b'"epoch": 1'), np.uint8)), "checksum mismatch"),
}


@pytest.mark.parametrize("case", list(MEMBER_CASES))
def test_members_that_do_not_verify(cli, work, case):
    change, words = MEMBER_CASES[case]
    members = _members(work)
    change(members)
    data = files.npz_bytes(members)
    ckpt(work).write_bytes(data)
    assert_refused(resume(cli, work), work, data, words)


def test_meta_that_is_not_json(cli, work):
    members = _members(work)
    members[checkpoint.META_KEY] = np.frombuffer(b"\xff\xfe{", np.uint8)
    members[checkpoint.DIGEST_KEY] = np.frombuffer(checkpoint.digest(
        {k: v for k, v in members.items() if k != checkpoint.DIGEST_KEY}), np.uint8)
    data = files.npz_bytes(members)
    ckpt(work).write_bytes(data)
    assert_refused(resume(cli, work), work, data, "__meta__: not valid JSON")


ARRAY_CASES = {
    "params-short": (lambda a, m: a.__setitem__("params", a["params"][:-1]), "params is float32"),
    "params-float64": (lambda a, m: a.__setitem__("params", a["params"].astype(np.float64)), "params is float64"),
    "optimizer-missing": (lambda a, m: [a.pop(k) for k in list(a) if k.startswith("optimizer.")][:1], "optimizer."),
    "extra-array": (lambda a, m: a.__setitem__("evil", np.zeros(3)), "unexpected arrays evil"),
    "partial-wrong-width": (lambda a, m: a.__setitem__("partial_preds", np.zeros((3, 7), np.float32)), "partial_preds"),
}


@pytest.mark.parametrize("case", list(ARRAY_CASES))
def test_arrays_that_do_not_fit_the_network(cli, work, case):
    change, words = ARRAY_CASES[case]
    before = resign(work, change)
    assert_refused(resume(cli, work), work, before, words, "without --resume")


def test_object_array_is_never_unpickled(cli, work):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        member = io.BytesIO()
        np.lib.format.write_array(member, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        zf.writestr("params.npy", member.getvalue())
    ckpt(work).write_bytes(buf.getvalue())
    assert_refused(resume(cli, work), work, buf.getvalue(), "Python objects")


def test_checkpoint_that_is_a_directory(cli, work):
    ckpt(work).unlink()
    ckpt(work).mkdir()
    assert_refused(resume(cli, work), work, None, "not a regular file")
    assert ckpt(work).is_dir()


def test_checkpoint_that_is_a_symlink(cli, work, tmp_path):
    target = tmp_path / "elsewhere.npz"
    target.write_bytes(ckpt(work).read_bytes())
    ckpt(work).unlink()
    ckpt(work).symlink_to(target)
    assert_refused(resume(cli, work), work, None, "not a regular file")
    assert ckpt(work).is_symlink()


def test_old_two_file_checkpoint(cli, work):
    ckpt(work).unlink()
    legacy = ckpt(work).parent / files.CHECKPOINT_META
    legacy.write_text('{"epoch": 2}')
    assert_refused(resume(cli, work), work, None, "older nncli", "without --resume")
    assert legacy.read_text() == '{"epoch": 2}'


def test_staging_that_is_a_file(cli, work):
    staging = ckpt(work).parent
    shutil.rmtree(staging)
    staging.write_text("not a folder")
    assert_refused(resume(cli, work), work, None, "is not a directory")
    assert staging.read_text() == "not a folder"


# ---------------------------------------------------------------- the config given again
def test_changed_architecture_is_refused_naming_it(cli, work):
    before = ckpt(work).read_bytes()
    assert_refused(resume(cli, work, "--set", "model.layers.0.units=8"), work, before,
                   "cannot resume", "model.layers.0.units (5 -> 8)")


def test_changed_seed_is_refused(cli, work):
    before = ckpt(work).read_bytes()
    assert_refused(resume(cli, work, "--seed", "12"), work, before, "seed (11 -> 12)")


def test_changed_split_is_refused(cli, work):
    before = ckpt(work).read_bytes()
    assert_refused(resume(cli, work, "--set", "data.validation_split=0.5"), work, before,
                   "data.validation_split (0.25 -> 0.5)")


def test_edited_config_file_is_refused(cli, work):
    before = ckpt(work).read_bytes()
    cfg = yaml.safe_load((work / "h.yaml").read_text())
    cfg["model"]["layers"][0]["activation"] = "relu"
    (work / "h.yaml").write_text(yaml.safe_dump(cfg))
    assert_refused(resume(cli, work), work, before, "model.layers.0.activation ('tanh' -> 'relu')")


def test_fewer_epochs_than_done_is_refused(cli, work):
    before = ckpt(work).read_bytes()
    assert_refused(resume(cli, work, "--epochs", "2"), work, before, "2 epochs done", "--epochs 3 or more")


def test_more_epochs_is_an_allowed_change_recorded(cli, work):
    r = resume(cli, work, "--epochs", "7")
    assert r.returncode == 0, r.stderr
    m = json.loads((work / "runs/h/metrics.json").read_text())
    assert m["epochs_configured"] == 7 and m["epochs_run"] == 7
    assert m["segments"][1]["changes"] == ["training.epochs (5 -> 7)"]
    assert m["overrides"] == ["training.epochs=7"]
    assert yaml.safe_load((work / "runs/h/config.yaml").read_text())["training"]["epochs"] == 7


def test_lower_learning_rate_in_the_file_is_an_allowed_change_recorded(cli, work):
    cfg = yaml.safe_load((work / "h.yaml").read_text())
    cfg["training"]["optimizer"]["learning_rate"] = 0.01
    (work / "h.yaml").write_text(yaml.safe_dump(cfg))
    r = resume(cli, work)
    assert r.returncode == 0, r.stderr
    m = json.loads((work / "runs/h/metrics.json").read_text())
    assert m["segments"][1]["changes"] == ["training.optimizer.learning_rate (0.05 -> 0.01)"]
    saved = yaml.safe_load((work / "runs/h/config.yaml").read_text())
    assert saved["training"]["optimizer"]["learning_rate"] == 0.01


def test_overrides_of_the_start_hold_without_repeating_them(cli, base, tmp_path):
    """The issue's case: --epochs and --set at the start, Ctrl-C, then the printed command (which
    repeats neither): the run continues with both, and says so."""
    d = tmp_path / "o"
    shutil.copytree(base, d)
    shutil.rmtree(files.staging_dir(d / "runs/h"))
    overrides = ["training.optimizer.learning_rate=0.02", "training.epochs=6"]
    with pytest.raises(Interrupted):
        nncli.train(d / "h.yaml", out=d / "runs/h", overrides=overrides, callbacks=[StopAfter(2)])
    ref = nncli.train(d / "h.yaml", out=d / "ref2", overrides=overrides)
    r = resume(cli, d)
    assert r.returncode == 0, r.stderr
    assert (d / "runs/h/weights.npz").read_bytes() == (d / "ref2/weights.npz").read_bytes()
    m = json.loads((d / "runs/h/metrics.json").read_text())
    assert m["epochs_configured"] == 6 and m["epochs_run"] == 6 and m["overrides"] == overrides
    assert m["segments"][1]["changes"] == [] and m["segments"][0]["overrides"] == overrides
    saved = yaml.safe_load((d / "runs/h/config.yaml").read_text())
    assert saved["training"]["optimizer"]["learning_rate"] == 0.02 and saved["training"]["epochs"] == 6
    assert ref.metrics["epochs_run"] == 6


def test_an_override_given_again_with_the_same_value_is_no_change(cli, work):
    m = assert_bit_exact(resume(cli, work, "--set", "training.optimizer.learning_rate=0.05"), work)
    assert m["segments"][1]["changes"] == []


# ---------------------------------------------------------------- the data
def test_changed_data_is_refused_naming_the_file(cli, work):
    before = ckpt(work).read_bytes()
    write_data(work / "d.csv", seed=1)
    line = assert_refused(resume(cli, work), work, before, str((work / "d.csv").resolve()),
                          "training data changed", "--data-changed")
    assert line.startswith(str((work / "d.csv").resolve()))


def test_one_more_row_is_refused_with_the_sizes(cli, work):
    before = ckpt(work).read_bytes()
    with open(work / "d.csv", "a") as fh:
        fh.write("0.1,0.2,a\n")
    assert_refused(resume(cli, work), work, before, "size", "bytes")


def test_same_size_other_values_is_refused(cli, work):
    before = ckpt(work).read_bytes()
    text = (work / "d.csv").read_text()
    i = text.index("\n") + 2  # a digit of the first value
    digit = "1" if text[i] != "1" else "2"
    (work / "d.csv").write_text(text[:i] + digit + text[i + 1:])
    assert_refused(resume(cli, work), work, before, "modified since the checkpoint")


def test_touched_but_identical_data_resumes(cli, work):
    os.utime(work / "d.csv", ns=(1, 1))
    assert_bit_exact(resume(cli, work), work)


def test_changed_data_allowed_by_the_flag_is_recorded(cli, work):
    write_data(work / "d.csv", seed=1)
    r = resume(cli, work, "--data-changed")
    assert r.returncode == 0, r.stderr
    m = json.loads((work / "runs/h/metrics.json").read_text())
    assert m["segments"][1]["data_change_allowed"] is True


def test_allow_data_change_without_resume_is_a_usage_error(cli, work):
    r = cli("train", work / "h.yaml", "--out", work / "runs/h2", "--data-changed", cwd=work)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        "--data-changed: only means something with --resume; add --resume or drop it"]
    assert not (work / "runs/h2").exists()


def test_missing_data_file_is_a_data_error(cli, work):
    before = ckpt(work).read_bytes()
    (work / "d.csv").unlink()
    r = resume(cli, work)
    assert_refused(r, work, before, "d.csv")


# ---------------------------------------------------------------- leftovers of a killed write
def test_temporaries_of_a_killed_write_are_removed_on_resume(cli, work):
    staging = ckpt(work).parent
    (staging / f".{files.CHECKPOINT_ARRAYS}.tmp-999999").write_bytes(b"half")
    (staging / ".weights.npz.tmp-999998").write_bytes(b"half")
    (staging / "notes.txt").write_text("mine")  # not a name nncli writes: not touched
    r = resume(cli, work)
    assert r.returncode == 0, r.stderr
    names = {p.name for p in (work / "runs/h").iterdir()}
    assert set(files.RUN_FILES) <= names
    assert not [n for n in names if ".tmp-" in n or n.startswith("checkpoint")]
    # the user's file is never deleted: it stays where it was (the staging folder is then not
    # nncli's alone, so it is kept) or travels with the run
    assert (staging / "notes.txt").is_file() or (work / "runs/h/notes.txt").is_file()
