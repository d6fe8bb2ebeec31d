"""Hostile cases found by an adversarial pass over issue 13's promises, after the first corpus:

- bounds: a count or a seed of 3000 digits was accepted (training.epochs trained for ever), a large
  batch_size on file data was blamed on units; the network estimate now also runs with the data's
  input width (a wide CSV used to pass the config-time lower bound and die of MemoryError);
- memory: ulimit -v counts as the memory available; a MemoryError left anywhere is one line;
- the lock file: a stale lock of a dead process is reused and removed (the foreign or symlinked
  lock cases are in test_hostile_runs.py: OUT_REFUSED);
- signals outside a command's own handling (cli/starting.py, nncli/interrupts.py): a signal after
  the command's outcome is settled is ignored at shutdown; a signal inside an import is raised once
  the import is done; SIGTERM in a command is one line and 143; the nncli package installs the
  start-up handler only in the nncli process.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import ROOT, one_line, run_cli, run_cli_subprocess

XOR = (ROOT / "configs/xor.yaml").read_text()
FAST = ["--epochs", "2", "--quiet"]
BIG = "9" * 3000


# ---------------------------------------------------------------- bounds
@pytest.mark.parametrize("args,pattern", [
    (["--set", f"training.epochs={BIG}"], r"--set training\.epochs=9+….*: training\.epochs: must be <= 1000000000, got 9+….*"),
    (["--epochs", BIG], r"--epochs 9+….*: training\.epochs: must be <= 1000000000, got 9+….*"),
    (["--epochs", "1000000001"], r"--epochs 1000000001: training\.epochs: must be <= 1000000000, got 1000000001"),
    (["--set", f"training.checkpoint_every={BIG}"], r".*training\.checkpoint_every: must be <= 1000000000, got 9+….*"),
    (["--set", f"training.batch_size={BIG}"], r".*training\.batch_size: must be <= 1000000000, got 9+….*"),
    (["--set", f"seed={BIG}"], r".*seed: must be <= 18446744073709551615, got 9+….*"),
    (["--seed", BIG], r"--seed 9+….*: seed: must be <= 18446744073709551615, got 9+….*"),
    (["--set", "training.early_stopping.patience=10000000000"],
     r".*training\.early_stopping\.patience: must be <= 1000000000, got 10000000000"),
], ids=["epochs_set", "epochs_flag", "epochs_just_over", "checkpoint_every", "batch_size", "seed_set", "seed_flag",
        "patience"])
@pytest.mark.parametrize("command", ["train", "validate"])
def test_a_count_or_seed_without_bound_is_refused(proj, command, args, pattern):
    if command == "validate" and args[0] in ("--epochs", "--seed"):
        pytest.skip("validate takes --set only")
    r = run_cli(command, "configs/xor.yaml", *args, *(["--out", "runs/x"] if command == "train" else []), cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(pattern, one_line(r)), one_line(r)
    assert not (proj / "runs").exists()


def test_a_count_of_3000_digits_in_the_config_file_is_refused_at_its_line(proj):
    (proj / "configs/xor.yaml").write_text(XOR.replace("epochs: 500", f"epochs: {BIG}"))
    for command in (["validate"], ["train", "--out", "runs/x"]):
        r = run_cli(command[0], "configs/xor.yaml", *command[1:], cwd=proj)
        assert r.returncode == 2, r.stderr
        assert re.fullmatch(r"configs/xor\.yaml:\d+:\d+: training\.epochs: must be <= 1000000000, got 9+….*",
                            one_line(r)), one_line(r)
    assert not (proj / "runs").exists()


def test_a_batch_larger_than_the_data_is_named_as_such_not_blamed_on_units(proj):
    r = run_cli("train", "configs/xor.yaml", "--set", "training.batch_size=1000000000", "--out", "runs/x", cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(r".*training\.batch_size: 1000000000 is larger than the training set \(4 rows\); "
                        r"use at most 4, or 'full'", one_line(r)), one_line(r)


def test_the_network_estimate_runs_again_with_the_datas_input_width(proj, monkeypatch):
    """At config time the input width is unknown (taken as 1: a lower bound that passes); with the
    data's 64 columns the same units need far more, refused before allocating."""
    from nncli import machine

    wide = "y," + ",".join(f"x{i}" for i in range(64)) + "\n" + "".join(
        f"{i % 2}," + ",".join(str((i * j) % 7) for j in range(64)) + "\n" for i in range(8))
    (proj / "datasets/xor.csv").write_text(wide)
    monkeypatch.setattr(machine, "memory_bytes", lambda: 64 << 20)  # 64 MiB of memory
    # width 1: 2 * 100k params * 4 slots * 4 bytes = 3 MiB passes; width 64: 100 MiB does not
    for args in (["train", "--out", "runs/x"], ["validate"]):  # validate says the same as train
        r = run_cli(args[0], "configs/xor.yaml", "--set", "model.layers.0.units=100000", *args[1:], cwd=proj)
        assert r.returncode == 2, r.stderr
        assert re.fullmatch(r".*model\.layers\[0\]\.units: the network needs [\d.]+ MiB of memory \(6,600,001 "
                            r"parameters .*, and its checkpoint and the activations of 8 training rows\), more than "
                            r"the 64\.0 MiB of memory available — use fewer units", one_line(r)), one_line(r)
    assert not (proj / "runs").exists()


# ---------------------------------------------------------------- memory
def test_ulimit_v_counts_as_the_memory_available(monkeypatch):
    import resource

    from nncli import machine

    monkeypatch.setattr(resource, "getrlimit", lambda which: (3 << 30, resource.RLIM_INFINITY))
    assert machine.address_space_limit() == 3 << 30
    assert machine.memory_bytes() <= 3 << 30
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert machine.address_space_limit() is None


def test_an_npz_over_ulimit_v_is_refused_with_the_estimate(tmp_path):
    """A 4 MB compressed npz whose X inflates to 3.7 GiB, under ulimit -v 2 GiB: the estimate, not
    a MemoryError traceback."""
    import zipfile

    import numpy as np

    p = tmp_path / "bomb.npz"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("X.npy", "w", force_zip64=True) as m:
            np.lib.format.write_array_header_1_0(m, {"descr": "<f4", "fortran_order": False, "shape": (100_000, 10_000)})
            zeros = b"\0" * (1 << 24)
            for _ in range(239):
                m.write(zeros)
            m.write(b"\0" * (4_000_000_000 - 239 * (1 << 24)))
        with zf.open("y.npy", "w") as m:
            np.lib.format.write_array_header_1_0(m, {"descr": "<f4", "fortran_order": False, "shape": (100_000,)})
            m.write(b"\0" * 400_000)
    (tmp_path / "c.yaml").write_text(XOR.replace("../datasets/xor.csv", str(p)).replace("  target: y\n", ""))
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.RLIM_INFINITY)); "
            "sys.argv = ['nncli', 'train', 'c.yaml', '--out', 'runs/x']; "
            "from nncli.cli.app import main; main()")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(r".*bomb\.npz: its arrays need 3\.7 GiB in memory, more than this machine has \(2\.0 GiB\); .*",
                        one_line(r)), one_line(r)
    assert not (tmp_path / "runs").exists()


def test_a_memory_error_anywhere_is_one_line(proj, monkeypatch):
    import nncli.api

    def oom(*a, **k):
        raise MemoryError("Unable to allocate 2.79 GiB for an array with shape (750000010,) and data type float32")

    monkeypatch.setattr(nncli.api, "train", oom)
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/x", cwd=proj)
    assert r.returncode == 2
    assert re.fullmatch(r"nncli: out of memory \(Unable to allocate 2\.79 GiB .*\) — the data or the network does not "
                        r"fit in the memory available \(see ulimit -v\); .*", one_line(r)), one_line(r)


# ---------------------------------------------------------------- the lock
def test_a_stale_lock_of_a_dead_process_is_reused_and_removed(proj):
    (proj / "runs").mkdir()
    (proj / "runs/.x.lock").write_text("pid 999999999")
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/x", *FAST, cwd=proj)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(proj / "runs")) == ["x"]


# ---------------------------------------------------------------- signals
def test_sigterm_in_a_command_is_one_line_and_143_with_no_temporary(tmp_path, monkeypatch):
    """SIGTERM used to kill predict silently (Python's default), leaving its --out temporary."""
    from nncli.cli.starting import Terminated

    r = run_cli("train", str(ROOT / "configs/xor.yaml"), "--out", str(tmp_path / "run"), *FAST)
    assert r.returncode == 0, r.stderr
    import nncli.predicting as predicting

    def stop(*a, **k):
        raise Terminated

    monkeypatch.setattr(predicting._Writer, "chunk", stop)  # in the middle of writing --out
    out = tmp_path / "p.csv"
    r = run_cli("predict", str(tmp_path / "run"), str(ROOT / "datasets/xor.csv"), "--out", str(out))
    assert r.returncode == 143, r.stderr
    assert one_line(r) == "interrupted by SIGTERM"
    assert sorted(os.listdir(tmp_path)) == ["run"]


def test_a_signal_inside_an_import_is_raised_once_the_import_is_done(tmp_path, monkeypatch):
    """An exception raised by a signal handler in the middle of `import numpy` left half-initialised
    modules (the line became 'cannot load module more than once per process')."""
    from nncli.interrupts import deliver

    class Stop(Exception):
        pass

    (tmp_path / "slow_import_nncli_test.py").write_text(textwrap.dedent("""\
        import os, signal, time
        os.kill(os.getpid(), signal.SIGUSR1)
        time.sleep(0.1)
        DONE = True
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    old = signal.signal(signal.SIGUSR1, lambda s, f: deliver(f, Stop))
    old_alarm = signal.getsignal(signal.SIGALRM)
    try:
        with pytest.raises(Stop):
            import slow_import_nncli_test  # noqa: F401

            time.sleep(1)
        assert sys.modules["slow_import_nncli_test"].DONE is True
    finally:
        signal.signal(signal.SIGUSR1, old)
        signal.signal(signal.SIGALRM, old_alarm)
        sys.modules.pop("slow_import_nncli_test", None)


def test_a_deferred_signal_whose_moment_passed_is_dropped():
    from nncli import interrupts

    interrupts._pending[:] = [lambda: None]
    interrupts._retry(signal.SIGALRM, None)  # the phase moved on: nothing raised
    assert interrupts._pending == []


SHUTDOWN = """
import atexit, os, signal, sys
sys.argv = ["nncli", "validate", "configs/xor.yaml"]
import nncli.cli.starting as starting
starting.install()
atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), os.kill(os.getpid(), signal.SIGTERM)))
from nncli.cli.app import main
main()
"""


def test_a_signal_after_the_command_finished_is_ignored_at_shutdown(proj):
    """The command's outcome stands: before, Python died of the signal silently (-2) or printed
    'Exception ignored ... KeyboardInterrupt' with exit 0."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-c", SHUTDOWN], cwd=proj, capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.startswith("ok configs/xor.yaml")


def test_the_package_installs_the_start_up_handler_only_in_the_nncli_process(proj):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    probe = "import signal, nncli; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert r.stdout.strip() == "True", r.stderr  # a library user keeps Python's handler
    script = proj / "nncli"  # what a console script is: a file named nncli run as __main__
    script.write_text("import signal, nncli\nfrom nncli.cli import starting\n"
                      "print(signal.getsignal(signal.SIGINT) is starting._starting)\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert r.stdout.strip() == "True", r.stderr


def test_sigint_while_the_console_script_imports_is_one_line(proj):
    """The console script (nncli.cli.app:main) imports Typer and every command before main() runs:
    the package's handler covers that window."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = proj / "nncli"
    script.write_text("import os, signal\nimport nncli\nos.kill(os.getpid(), signal.SIGINT)\n"
                      "from nncli.cli.app import main\nmain()\n")
    r = subprocess.run([sys.executable, str(script), "validate", "configs/xor.yaml"], cwd=proj, capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 130, r.stderr
    assert one_line(r) == "interrupted by Ctrl-C while nncli was starting; nothing was written"


# ---------------------------------------------------------------- symbolic link loops as inputs
LOOP_LINE = r".*loop[12]: too many levels of symbolic links \(a link loop\?\); fix the link or give the real path"


def _loop(p: Path) -> None:
    os.symlink(p / "loop2", p / "loop1")
    os.symlink(p / "loop1", p / "loop2")


@pytest.mark.parametrize("args,pattern", [
    (["predict", "runs/x", "loop1"], LOOP_LINE),
    (["evaluate", "runs/x", "loop1"], LOOP_LINE),
    (["validate", "loop1"], LOOP_LINE),
    (["train", "loop1"], LOOP_LINE),
    (["train", "configs/xor.yaml", "--init-from", "loop1", "--out", "runs/y"], LOOP_LINE),
    (["train", "configs/loop.yaml", "--out", "runs/y"],
     r"configs/loop\.yaml:\d+:\d+: data\.path: .*loop1: too many levels of symbolic links \(a link loop\?\); .*"),
    (["validate", "configs/loop.yaml"],
     r"configs/loop\.yaml:\d+:\d+: data\.path: .*loop1: too many levels of symbolic links \(a link loop\?\); .*"),
], ids=["predict_input", "evaluate_input", "validate_config", "train_config", "init_from", "data_path",
        "validate_data_path"])
def test_a_symlink_loop_as_an_input_is_one_line(proj, args, pattern):
    """Before: pathlib's resolve() raised RuntimeError 'Symlink loop' (a traceback) or the loop was
    reported as a missing file."""
    assert run_cli("train", "configs/xor.yaml", "--out", "runs/x", *FAST, cwd=proj).returncode == 0
    _loop(proj)
    (proj / "configs/loop.yaml").write_text(XOR.replace("../datasets/xor.csv", "../loop1"))
    before = sorted(os.listdir(proj)), sorted(os.listdir(proj / "runs"))
    r = run_cli(*args, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(pattern, one_line(r)), one_line(r)
    assert (sorted(os.listdir(proj)), sorted(os.listdir(proj / "runs"))) == before


def test_a_dangling_config_link_is_named_as_such(proj):
    os.symlink(proj / "nowhere.yaml", proj / "c.yaml")
    r = run_cli("validate", "c.yaml", cwd=proj)
    assert r.returncode == 2
    assert re.fullmatch(r"c\.yaml: a dangling symbolic link \(to .*nowhere\.yaml\); fix the link or give the real path",
                        one_line(r)), one_line(r)


def test_generated_data_too_wide_names_dimensions_once(tmp_path):
    """Before: two lines, one blaming model.layers[0].units (3 units) and one telling to use fewer
    samples (500), when the cause was data.generator.dimensions."""
    (tmp_path / "g.yaml").write_text(
        "name: g\ndata: {generator: {name: blobs, dimensions: 1000000000000}}\n"
        "model: {layers: [{units: 3, activation: softmax}]}\ntraining: {epochs: 1, loss: cross_entropy}\n")
    for args in (["validate", "g.yaml"], ["train", "g.yaml", "--out", "runs/g"]):
        r = run_cli(*args, cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert re.fullmatch(r"g\.yaml:2:\d+: data\.generator\.dimensions: the generated data and the network need "
                            r"[\d.]+ PiB of memory \(500 rows × 1,000,000,000,000 features\), .*use fewer dimensions",
                            one_line(r)), one_line(r)
    assert not (tmp_path / "runs").exists()


def test_the_replaced_line_shows_only_a_plausible_epoch_count(proj):
    """metrics.json of the run being replaced may come from anyone: a 401-digit epochs_run was printed."""
    import json

    assert run_cli("train", "configs/xor.yaml", "--out", "runs/x", *FAST, cwd=proj).returncode == 0
    m = json.loads((proj / "runs/x/metrics.json").read_text())
    m["epochs_run"] = 10 ** 400
    (proj / "runs/x/metrics.json").write_text(json.dumps(m))
    r = run_cli("train", "configs/xor.yaml", "--out", "runs/x", "--epochs", "2", cwd=proj)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"replaced the previous run at runs/x \(written \d{4}-\d\d-\d\d \d\d:\d\d\)", last), last


def test_a_line_break_in_a_typed_path_stays_on_the_one_line(proj):
    """Before: `nncli predict RUN $'a\\nb'` printed its message over two lines."""
    assert run_cli("train", "configs/xor.yaml", "--out", "runs/x", *FAST, cwd=proj).returncode == 0
    r = run_cli_subprocess("predict", "runs/x", "a\nb.csv", cwd=proj)
    assert r.returncode == 2, r.stderr
    assert re.fullmatch(r"a\\nb\.csv: file not found \(looked for .*a\\nb\.csv\); check the path", one_line(r)), r.stderr


@pytest.mark.parametrize("key", ["data.path", "data.validation"])
def test_tilde_of_no_user_in_a_data_path_is_one_line(proj, key):
    """Before: Path.expanduser raised RuntimeError('Could not determine home directory.'), a traceback."""
    r = run_cli("train", "configs/xor.yaml", "--set", f"{key}=~nosuchuser_nncli/x.csv", "--out", "runs/x", cwd=proj)
    assert r.returncode == 2, r.stderr
    assert one_line(r) == (f"--set {key}=~nosuchuser_nncli/x.csv: {key}: no user 'nosuchuser_nncli' to expand "
                           f"~nosuchuser_nncli for; give the path in full")
    assert not (proj / "runs").exists()


def test_two_signals_while_starting_give_one_line_and_the_first_signals_code(proj):
    """The second signal arrived while the first handler wrote its line: before, no line at all
    (exit 130) or death by the signal (-2) while the interpreter shut down."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = proj / "nncli"
    script.write_text("import os, signal\nimport nncli\nos.kill(os.getpid(), signal.SIGTERM)\n"
                      "os.kill(os.getpid(), signal.SIGINT)\nfrom nncli.cli.app import main\nmain()\n")
    r = subprocess.run([sys.executable, str(script), "validate", "configs/xor.yaml"], cwd=proj, capture_output=True,
                       text=True, env=env, timeout=60)
    assert r.returncode == 143, r.stderr
    assert one_line(r) == "interrupted by SIGTERM while nncli was starting; nothing was written"
