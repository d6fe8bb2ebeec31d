"""Hostile cases against the run store (issue 13): never delete what nncli did not write, publishing
crash-safe at every instant, every operating-system error one line, bounded metadata reads.

Each case asserts the exit code, the one line and what is on disk afterwards (a snapshot of the
whole project folder before and after: nothing touched)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, one_line, run_cli, run_cli_subprocess

XOR = (ROOT / "configs/xor.yaml").read_text()
FAST = ["--epochs", "2", "--quiet"]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (not following links): kind, and content hash or link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir",)
            elif p.is_file():
                out[rel] = ("file", hashlib.sha256(p.read_bytes()).hexdigest())
            else:
                out[rel] = ("other",)
    return out


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """One finished xor run (2 epochs), copied by the tests that need a run on disk."""
    proj = tmp_path_factory.mktemp("base")
    (proj / "configs").mkdir()
    (proj / "datasets").mkdir()
    (proj / "configs/xor.yaml").write_text(XOR)
    shutil.copy(ROOT / "datasets/xor.csv", proj / "datasets/xor.csv")
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/xor", *FAST, cwd=proj)
    assert r.returncode == 0, r.stderr
    return proj / "runs/xor"


# ---------------------------------------------------------------- never delete what nncli did not write
def _precious(p):
    (p / "precious").mkdir()
    (p / "precious/notes.txt").write_text("mine")
    return "precious"


def _a_file(p):
    (p / "afile").write_text("mine")
    return "afile"


def _marked_run_with_a_user_file(p):
    (p / "r").mkdir()
    (p / "r/.nncli-run").write_text('{"nncli": "run", "format": 1, "id": "x"}\n')
    (p / "r/weights.npz").write_text("w")
    (p / "r/mine.txt").write_text("mine")
    return "r"


def _checkpoint_names_only(p):
    (p / "r").mkdir()
    (p / "r/weights.npz").write_text("w")  # some of nncli's names, no marker, not the five files
    return "r"


def _dangling(p):
    os.symlink(p / "nowhere", p / "dang")
    return "dang"


def _link_to_dir(p):
    (p / "real").mkdir()
    os.symlink(p / "real", p / "link")
    return "link"


def _link_to_run(p):
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/real", *FAST, cwd=p)
    assert r.returncode == 0, r.stderr
    os.symlink(p / "runs/real", p / "runs/link")
    return "runs/link"


def _link_loop(p):
    os.symlink(p / "loop2", p / "loop1")
    os.symlink(p / "loop1", p / "loop2")
    return "loop1/run"


def _parent_is_a_file(p):
    (p / "afile").write_text("mine")
    return "afile/run"


def _run_holding_the_config(p):
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/x", *FAST, cwd=p)
    assert r.returncode == 0, r.stderr
    shutil.copy(p / "configs/xor.yaml", p / "runs/x/config-copy.yaml")  # not a run anymore either
    return "runs/x"


def _foreign_file_at_new(p):
    (p / "runs").mkdir()
    (p / "runs/.x.new").write_text("mine")
    return "runs/x"


def _foreign_dir_at_partial(p):
    (p / "runs/.x.partial").mkdir(parents=True)
    (p / "runs/.x.partial/mine.txt").write_text("mine")
    return "runs/x"


def _foreign_dir_at_old(p):
    (p / "runs/.x.old").mkdir(parents=True)
    (p / "runs/.x.old/mine.txt").write_text("mine")
    return "runs/x"


def _symlink_at_lock(p):
    (p / "runs").mkdir()
    (p / "mine.txt").write_text("mine")  # opening the lock through the link truncated this file
    os.symlink(p / "mine.txt", p / "runs/.x.lock")
    return "runs/x"


def _foreign_file_at_lock(p):
    (p / "runs").mkdir()
    (p / "runs/.x.lock").write_text("my notes")  # was truncated to "pid N", then deleted
    return "runs/x"


def _fifo_at_lock(p):
    (p / "runs").mkdir()
    os.mkfifo(p / "runs/.x.lock")
    return "runs/x"


def _symlink_at_new(p):
    (p / "runs").mkdir()
    (p / "elsewhere").mkdir()
    os.symlink(p / "elsewhere", p / "runs/.x.new")  # was unlinked, although the README said refused
    return "runs/x"


OUT_REFUSED = [
    ("non_empty_folder", _precious, r"precious: exists and holds 'notes.txt', which nncli did not write; .*--out.*"),
    ("a_file", _a_file, r"afile: exists and is not a directory; choose another output with --out"),
    ("dot", lambda p: ".", r"\.: names a folder by '\.' or '\.\.'; .*--out runs/NAME"),
    ("dotdot", lambda p: "..", r"\.\.: names a folder by '\.' or '\.\.'; .*"),
    ("trailing_dotdot", lambda p: "runs/..", r"runs/\.\.: names a folder by '\.' or '\.\.'; .*"),
    ("root", lambda p: "/", r"/: is the root folder; .*"),
    ("cwd_absolute", lambda p: str(p), r".*: is the current folder or one above it; .*"),
    ("parent_of_cwd", lambda p: str(p.parent), r".*: is the current folder or one above it; .*"),
    ("configs_folder", lambda p: "configs", r"configs: holds .*xor\.yaml, an input of this training, .*--out"),
    ("data_folder", lambda p: "datasets", r"datasets: holds .*xor\.csv, an input of this training, .*--out"),
    ("the_config_itself", lambda p: "configs/xor.yaml", r"configs/xor\.yaml: holds .*"),
    ("marked_run_with_a_user_file", _marked_run_with_a_user_file, r"r: exists and holds 'mine\.txt', which nncli did not write; .*"),
    ("nncli_names_without_marker", _checkpoint_names_only, r"r: exists and is not an nncli run directory \(no \.nncli-run marker.*"),
    ("dangling_symlink", _dangling, r"dang: is a dangling symbolic link \(to .*nowhere\); .*remove the link"),
    ("symlink_to_folder", _link_to_dir, r"link: is a symbolic link \(to .*real\); .*"),
    ("symlink_to_run", _link_to_run, r"runs/link: is a symbolic link \(to .*runs/real\); .*"),
    ("symlink_loop_parent", _link_loop, r"loop1/run: cannot resolve the output path .*"),
    ("parent_is_a_file", _parent_is_a_file, r"afile.*(Not a directory|not a folder|cannot).*"),
    ("run_holding_a_user_file", _run_holding_the_config, r"runs/x: exists and holds 'config-copy\.yaml', which nncli did not write.*"),
    ("tilde_no_user", lambda p: "~nosuchuser_nncli/run", r"~nosuchuser_nncli/run: no user 'nosuchuser_nncli' .*in full"),
    ("name_too_long", lambda p: "r" * 300, r"r{60}\.\.\.: the name is too long .*under 240 bytes"),
    ("foreign_file_at_new", _foreign_file_at_new, r".*runs/\.x\.new: is a file nncli did not write, .*move it away.*"),
    ("foreign_dir_at_partial", _foreign_dir_at_partial, r".*runs/\.x\.partial: holds 'mine\.txt', which nncli did not write.*"),
    ("foreign_dir_at_old", _foreign_dir_at_old, r".*runs/\.x\.old: holds 'mine\.txt', which nncli did not write.*"),
    ("symlink_at_lock", _symlink_at_lock, r".*runs/\.x\.lock: is a symbolic link, at the name nncli uses for its lock.*move it away.*"),
    ("foreign_file_at_lock", _foreign_file_at_lock, r".*runs/\.x\.lock: is a file nncli did not write, at the name nncli uses for its lock.*"),
    ("fifo_at_lock", _fifo_at_lock, r".*runs/\.x\.lock: is not a regular file, at the name nncli uses for its lock.*"),
    ("symlink_at_new", _symlink_at_new, r".*runs/\.x\.new: is a symbolic link nncli did not write, .*move it away.*"),
]


@pytest.mark.parametrize("name,make,pattern", OUT_REFUSED, ids=[c[0] for c in OUT_REFUSED])
def test_output_that_nncli_did_not_write_is_refused_and_untouched(proj, name, make, pattern):
    out = make(proj)
    before = snapshot(proj)
    r = run_cli("train", "configs/xor.yaml", "--out", out, *FAST, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(pattern, one_line(r)), one_line(r)
    assert snapshot(proj) == before


@pytest.mark.parametrize("value,pattern", [
    ("\"a\\0b\"", r".*the output path holds a NUL byte; give a path without it"),
    ("/", r"/: is the root folder; .*"),
    ("..", r"\.\.: names a folder by .*"),
    ("../datasets", r"\.\./datasets: holds .*xor\.csv, an input of this training.*"),
], ids=["nul", "root", "dotdot", "data_parent"])
def test_output_dir_in_the_config_is_checked_the_same_way(proj, value, pattern):
    (proj / "configs/xor.yaml").write_text(XOR + f"output:\n  dir: {value}\n")
    before = snapshot(proj)
    r = run_cli("train", "xor.yaml", *FAST, cwd=proj / "configs")
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(pattern, one_line(r)), one_line(r)
    assert snapshot(proj) == before


def test_retraining_from_a_runs_own_config_into_that_run_is_refused(proj):
    """The run would be replaced while its config.yaml is the input: refused, the run untouched."""
    assert run_cli("train", "configs/xor.yaml", "--out", "runs/x", *FAST, cwd=proj).returncode == 0
    before = snapshot(proj)
    r = run_cli("train", "runs/x/config.yaml", "--out", "runs/x", *FAST, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(r"runs/x: holds runs/x/config\.yaml, an input of this training, .*--out", one_line(r))
    assert snapshot(proj) == before


def test_replacing_a_previous_run_says_so(proj):
    assert run_cli("train", "configs/xor.yaml", "--out", "runs/x", *FAST, cwd=proj).returncode == 0
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/x", "--epochs", "3", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^replaced the previous run at runs/x \(2 epochs, written .*\)$", r.stdout, re.M), r.stdout
    assert json.loads((proj / "runs/x/metrics.json").read_text())["epochs_run"] == 3
    assert sorted(os.listdir(proj / "runs")) == ["x"]
    assert (proj / "runs/x/.nncli-run").is_file()


def test_the_api_returns_what_it_replaced(proj):
    import nncli

    first = nncli.train(proj / "configs/xor.yaml", out=proj / "runs/x", overrides=["training.epochs=2"])
    assert first.replaced is None
    second = nncli.train(proj / "configs/xor.yaml", out=proj / "runs/x", overrides=["training.epochs=2"])
    assert second.replaced.startswith(f"the previous run at {proj / 'runs/x'} (2 epochs")


def test_a_run_written_before_the_marker_is_replaced(proj, base_run):
    legacy = proj / "runs/old"
    shutil.copytree(base_run, legacy)
    (legacy / ".nncli-run").unlink()  # as nncli wrote runs before the marker existed
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/old", "--epochs", "3", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert "replaced the previous run at runs/old" in r.stdout
    assert (legacy / ".nncli-run").is_file()


def test_an_empty_folder_is_adopted(proj):
    (proj / "runs/empty").mkdir(parents=True)
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/empty", *FAST, cwd=proj)
    assert r.returncode == 0, r.stderr
    assert (proj / "runs/empty/.nncli-run").is_file() and sorted(os.listdir(proj / "runs")) == ["empty"]


def test_a_star_in_the_name_never_touches_another_runs_leftovers(proj, base_run):
    """--out 'runs/a*' must not adopt or delete the leftovers of runs/ab (leftovers by exact name)."""
    runs = proj / "runs"
    runs.mkdir()
    shutil.copytree(base_run, runs / ".ab.old-123")
    shutil.copytree(base_run, runs / ".ab.old")
    shutil.copytree(base_run, runs / ".ab.new")
    (runs / ".ab.partial").mkdir()
    (runs / ".ab.partial/checkpoint.json").write_text("{}")
    before = {k: v for k, v in snapshot(proj).items() if k.startswith("runs/.ab")}
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/a*", *FAST, cwd=proj)
    assert r.returncode == 0, r.stderr
    after = snapshot(proj)
    assert {k: v for k, v in after.items() if k.startswith("runs/.ab")} == before
    assert not (runs / "ab").exists() and (runs / "a*/weights.npz").is_file()


def test_a_legacy_leftover_of_a_killed_commit_is_put_back_by_predict(proj, base_run):
    """nncli before the exact names left .X.old-PID when killed between its two renames."""
    runs = proj / "runs"
    runs.mkdir()
    shutil.copytree(base_run, runs / ".x.old-4242")
    r = run_cli("predict", "runs/x", "datasets/xor.csv", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(runs)) == ["x"]


def test_a_run_directory_on_a_read_only_place_still_loads(proj, base_run):
    """load recovers only when it can take the lock; a locked run is read as it is."""
    from nncli.run import files

    shutil.copytree(base_run, proj / "runs/x")
    with files.locked(proj / "runs/x"):
        r = run_cli("predict", "runs/x", "datasets/xor.csv", cwd=proj)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------- metadata: size and type before reading
def _symlink_to(target):
    def make(run: Path, name: str):
        (run / name).unlink()
        os.symlink(target, run / name)
    return make


def _sparse(size):
    def make(run: Path, name: str):
        with open(run / name, "r+b") as fh:
            fh.truncate(size)
    return make


def _fifo(run: Path, name: str):
    (run / name).unlink()
    os.mkfifo(run / name)


def _folder(run: Path, name: str):
    (run / name).unlink()
    (run / name).mkdir()


METADATA = [
    ("preprocessing_dev_zero", "preprocessing.json", _symlink_to("/dev/zero"), r"preprocessing\.json: is not a file; .*"),
    ("history_dev_zero", "history.csv", _symlink_to("/dev/zero"), r"history\.csv: is not a file; .*"),
    ("metrics_dev_zero", "metrics.json", _symlink_to("/dev/zero"), r"metrics\.json: is not a file; .*"),
    ("config_dev_zero", "config.yaml", _symlink_to("/dev/zero"), r"config\.yaml: .*"),
    ("preprocessing_3gb", "preprocessing.json", _sparse(3 << 30), r"preprocessing\.json: is 3072\.0 MiB, over the 64 MiB .*"),
    ("history_3gb", "history.csv", _sparse(3 << 30), r"history\.csv: is 3072\.0 MiB, over the 256 MiB .*"),
    ("metrics_3gb", "metrics.json", _sparse(3 << 30), r"metrics\.json: is 3072\.0 MiB, over the 16 MiB .*"),
    ("config_3gb", "config.yaml", _sparse(3 << 30), r"config\.yaml: .*(1 MiB|1\.0 MiB).*"),
    ("metrics_fifo", "metrics.json", _fifo, r"metrics\.json: is not a file; .*"),
    ("history_fifo", "history.csv", _fifo, r"history\.csv: is not a file; .*"),
    ("preprocessing_folder", "preprocessing.json", _folder, r"preprocessing\.json: is not a file; .*"),
    ("history_dangling", "history.csv", _symlink_to("/nonexistent-nncli"), r"run: incomplete run directory, missing history\.csv"),
]


@pytest.mark.parametrize("name,file,make,pattern", METADATA, ids=[c[0] for c in METADATA])
def test_metadata_is_bounded_before_it_is_read(tmp_path, base_run, name, file, make, pattern):
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    make(run, file)
    before = snapshot(tmp_path)
    r = run_cli("predict", run, ROOT / "datasets/xor.csv", timeout=60)
    assert r.returncode == 2, r.stderr
    line = one_line(r)
    assert re.fullmatch(".*" + pattern, line), line
    assert snapshot(tmp_path) == before


PREPROCESSING = [
    ("offset_text_number", lambda d: d["offset"].__setitem__(0, "1"), r"offset: expected 2 finite numbers.*"),
    ("scale_infinite", lambda d: d.update(scale=[float("inf"), 1.0]), r"scale: expected 2 finite numbers.*"),
    ("scale_1e400", None, r"scale: expected 2 finite numbers.*"),
    ("classes_booleans", lambda d: d.update(classes=[True, False]), r"classes: expected a list of at least 2 class labels.*"),
    ("classes_nested", lambda d: d.update(classes=[[0], [1]]), r"classes: expected a list of at least 2 class labels.*"),
    ("features_number", lambda d: d.update(features=7), r"features: expected a non-empty list of distinct column names.*"),
    ("features_duplicate", lambda d: d.update(features=["x1", "x1"]), r"features: expected a non-empty list of distinct.*"),
    ("fill_text", lambda d: d.update(fill={"x1": "a"}), r"fill: expected a mapping feature -> finite number.*"),
    ("task_number", lambda d: d.update(task=1), r"task: expected 'classification' or 'regression', got 1.*"),
    ("scaling_bool", lambda d: d.update(scaling=True), r"scaling: expected one of standardize, minmax, none, got True.*"),
    ("categories_numbers", lambda d: d.update(categories={"x1": [1, 2]}), r"categories\.x1: expected a non-empty list of distinct category names.*"),
    ("offset_bool", lambda d: d.update(offset=[True, 0.0]), r"offset: expected 2 finite numbers.*"),
    ("targets_null", lambda d: d.update(targets=None), r"targets: expected a non-empty list of distinct column names.*"),
]


@pytest.mark.parametrize("name,edit,pattern", PREPROCESSING, ids=[c[0] for c in PREPROCESSING])
def test_a_tampered_preprocessing_field_is_one_line(tmp_path, base_run, name, edit, pattern):
    run = tmp_path / "run"
    shutil.copytree(base_run, run)
    p = run / "preprocessing.json"
    if edit is None:  # 1e400: valid JSON text that parses to infinity
        p.write_text(p.read_text().replace("1.0", "1e400", 1))
    else:
        d = json.loads(p.read_text())
        edit(d)
        p.write_text(json.dumps(d))
    r = run_cli("predict", run, ROOT / "datasets/xor.csv")
    assert r.returncode == 2, r.stderr
    line = one_line(r)
    assert re.fullmatch(re.escape(str(p)) + ": " + pattern, line), line
    assert "re-train" in line


def test_the_strict_model_rejects_what_the_field_checks_let_through(tmp_path, base_run):
    """An int where the model wants a label list of str/int/float is fine; a float category count is not."""
    from nncli.errors import RunDirError
    from nncli.run.checks import check_preprocessing
    import nncli

    run = nncli.load_run(base_run)
    d = json.loads((base_run / "preprocessing.json").read_text())
    check_preprocessing(d, Path("p.json"), run.config)  # as written: accepted
    d["fill"] = {"x1": float("nan")}
    with pytest.raises(RunDirError, match=r"p\.json: fill: expected a mapping feature -> finite number"):
        check_preprocessing(d, Path("p.json"), run.config)


# ---------------------------------------------------------------- every operating-system error is one line
needs_root = pytest.mark.skipif(os.geteuid() != 0 or sys.platform != "linux",
                                reason="mounting a small tmpfs needs root on Linux (CI runs as root)")


@pytest.fixture
def tmpfs(tmp_path):
    """A 1 MiB tmpfs at tmp_path/mnt (root only), unmounted afterwards."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(mnt: Path, leave_kib: int) -> None:
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    with open(mnt / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave_kib * 1024))


@needs_root
def test_disk_full_while_publishing_keeps_the_previous_run(proj, tmpfs):
    r = run_cli("train", "configs/xor.yaml", "--out", tmpfs / "run", *FAST, cwd=proj)
    assert r.returncode == 0, r.stderr
    before = snapshot(tmpfs / "run")
    _fill(tmpfs, 0)
    r = run_cli("train", "configs/xor.yaml", "--out", tmpfs / "run", "--epochs", "3", "--quiet", cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(r".*: No space left on device \[ENOSPC\] — the disk is full; free some space or write elsewhere",
                        one_line(r))
    assert sorted(os.listdir(tmpfs)) == ["filler", "run"] and snapshot(tmpfs / "run") == before
    (tmpfs / "filler").unlink()
    assert run_cli("predict", tmpfs / "run", "datasets/xor.csv", cwd=proj).returncode == 0


@needs_root
@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_disk_full_while_converting_leaves_no_temporaries(tmp_path, tmpfs, suffix):
    rows = "\n".join(f"{i % 7},{i % 11},{i % 13},{i % 2}" for i in range(60_000))
    (tmp_path / "big.csv").write_text("a,b,c,y\n" + rows + "\n")
    r = run_cli("data", "convert", tmp_path / "big.csv", tmpfs / f"big{suffix}", "--target", "y")
    assert r.returncode == 2 and r.returncode != -7, r.stderr  # -7: SIGBUS
    assert re.fullmatch(r".*big\..*np[yz]: No space left on device \[ENOSPC\] — .*", one_line(r)), r.stderr
    assert os.listdir(tmpfs) == []


@needs_root
def test_a_mount_point_as_output_is_refused_before_it_is_busy(proj, tmpfs):
    before = snapshot(proj)
    r = run_cli("train", "configs/xor.yaml", "--out", tmpfs, *FAST, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(r".*mnt: is a mount point, which nncli cannot replace by renaming; .*--out .*mnt/run", one_line(r))
    assert snapshot(proj) == before


@needs_root
def test_a_read_only_file_system_is_one_line(proj, tmpfs):
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    r = run_cli("train", "configs/xor.yaml", "--out", tmpfs / "runs/x", *FAST, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert "Read-only file system" in one_line(r) and os.listdir(tmpfs) == []


def _loop(p):
    os.symlink(p / "l2", p / "l1")
    os.symlink(p / "l1", p / "l2")
    return str(p / "l1")


OS_CASES = [
    ("config_is_a_folder", lambda p: ["train", "configs"], r"configs: .*"),
    ("config_symlink_loop", lambda p: ["train", _loop(p)], r".*l1: .*"),
    ("config_dangling_symlink", lambda p: (os.symlink(p / "gone.yaml", p / "c.yaml"), ["train", "c.yaml"])[1], r"c\.yaml: .*"),
    ("config_name_too_long", lambda p: ["train", "c" * 300 + ".yaml"], r"c+\.yaml: .*"),
    ("config_tilde_no_user", lambda p: ["train", "~nosuchuser_nncli/x.yaml"], r"~nosuchuser_nncli/x\.yaml: .*"),
    ("predict_run_is_a_file", lambda p: ["predict", "configs/xor.yaml", "datasets/xor.csv"], r"configs/xor\.yaml: not a directory; .*"),
    ("predict_run_symlink_loop", lambda p: ["predict", _loop(p), "datasets/xor.csv"], r".*l1.*"),
    ("predict_run_name_too_long", lambda p: ["predict", "r" * 300, "datasets/xor.csv"], r"r+: .*"),
    ("convert_output_in_a_file", lambda p: ["data", "convert", "datasets/xor.csv", "configs/xor.yaml/x.npz", "--target", "y"],
     r".*configs/xor\.yaml.*"),
]


@pytest.mark.parametrize("name,args,pattern", OS_CASES, ids=[c[0] for c in OS_CASES])
def test_an_os_error_is_one_line_and_touches_nothing(proj, name, args, pattern):
    argv = args(proj)
    before = snapshot(proj)
    r = run_cli(*argv, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(pattern, one_line(r)), one_line(r)
    assert snapshot(proj) == before


def test_nul_in_a_data_path_is_one_line(proj):
    (proj / "configs/xor.yaml").write_text(XOR.replace("path: ../datasets/xor.csv", 'path: "../datasets/x\\0.csv"'))
    before = snapshot(proj)
    r = run_cli("train", "configs/xor.yaml", *FAST, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert "NUL" in one_line(r) or "null" in one_line(r).lower()
    assert snapshot(proj) == before


def test_an_ascii_terminal_gets_escapes_not_a_traceback(proj):
    env = {"PYTHONIOENCODING": "ascii"}
    _precious(proj)
    r = run_cli_subprocess("train", "configs/xor.yaml", "--out", "precious", *FAST, cwd=proj, env=env)
    assert r.returncode == 2 and "\\u2014" in one_line(r), r.stderr  # the em dash, escaped
    r = run_cli_subprocess("train", "configs/xor.yaml", "--out", "runs/x", "--epochs", "2", cwd=proj, env=env)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr  # the sparkline, escaped
    r = run_cli_subprocess("predict", "runs/x", "datasets/xor.csv", cwd=proj, env=env)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("code,fix", [
    (errno.ENOSPC, "the disk is full"), (errno.EACCES, "permission denied"), (errno.EPERM, "not permitted"),
    (errno.EBUSY, "busy"), (errno.ENAMETOOLONG, "shorter path"), (errno.ELOOP, "symbolic links"),
    (errno.EROFS, "read-only"), (errno.EISDIR, "a folder where a file is expected"), (errno.ENOTDIR, "not a folder"),
    (errno.EDQUOT, "quota"), (errno.EIO, "check the disk"), (errno.EXDEV, "one file system"),
])
def test_each_errno_gets_the_path_and_a_fix(code, fix):
    from nncli.cli.common import os_error_line

    line = os_error_line(OSError(code, os.strerror(code), "runs/x/weights.npz"))
    assert line.startswith(f"runs/x/weights.npz: {os.strerror(code)} [{errno.errorcode[code]}] — ") and fix in line
    assert "\n" not in line


def test_plots_nncli_wrote_into_a_run_do_not_block_replacing_it(proj, base_run):
    shutil.copytree(base_run, proj / "runs/x")
    (proj / "runs/x/loss.png").write_bytes(b"\x89PNG")  # as `nncli plot runs/x` leaves it
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/x", *FAST, cwd=proj)
    assert r.returncode == 0, r.stderr
    assert not (proj / "runs/x/loss.png").exists() and os.listdir(proj / "runs") == ["x"]
