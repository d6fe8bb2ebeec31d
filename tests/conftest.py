"""Shared fixtures. `cli` runs nncli in-process (Typer's CliRunner); `cli_subprocess` runs the real
`python -m nncli` for the tests where the process itself is the point: signals, the exit code and
output of a real interpreter (a traceback), bytes on stdin, environment variables read at start-up.

Interpreter start-up was most of the suite's time; in-process runs skip it. Each in-process run
restores what a command may change for the whole process: the working directory, os.environ, the
SIGINT/SIGTERM handlers and nncli.cli.common.STATE.
"""

import os
import shutil
import signal
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def root() -> Path:
    return ROOT


def run_cli_subprocess(*args, cwd=None, input=None, env=None, timeout=120):
    """Run `python -m nncli ARGS` as a user would; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.pop("NNCLI_DEBUG", None)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "nncli", *map(str, args)], cwd=cwd, input=input,
                          capture_output=True, text=True, env=full_env, timeout=timeout)


def run_cli(*args, cwd=None, input=None, env=None, timeout=None):
    """Run `nncli ARGS` in this process; returns a CompletedProcess (text) like run_cli_subprocess.

    An exception that escapes the command becomes what the interpreter would print: its traceback
    on stderr and exit code 1. `timeout` is accepted for the same signature and not enforced.
    """
    from typer.testing import CliRunner

    from nncli.cli import common
    from nncli.cli.app import app

    if env and any(k.startswith("PYTHON") for k in env):
        raise ValueError(f"{sorted(env)}: read at interpreter start-up; use the cli_subprocess fixture")
    argv = [str(a) for a in args]
    saved_cwd, saved_env, saved_state = os.getcwd(), dict(os.environ), dict(common.STATE)
    saved_handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = CliRunner().invoke(app, argv, input=input, env={"NNCLI_DEBUG": None, **(env or {})},
                                    prog_name="nncli")
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        common.STATE.clear()
        common.STATE.update(saved_state)
        for s, h in saved_handlers.items():
            signal.signal(s, h)
    stdout, stderr, code = result.stdout, result.stderr, result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(type(result.exception), result.exception, result.exc_info[2])[1:])
        code = 1
    return subprocess.CompletedProcess(["nncli", *argv], code, stdout, stderr)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def cli_subprocess():
    return run_cli_subprocess


@pytest.fixture
def proj(tmp_path) -> Path:
    """A project folder as a user has one: configs/xor.yaml, datasets/xor.csv."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "datasets").mkdir()
    shutil.copy(ROOT / "configs/xor.yaml", tmp_path / "configs/xor.yaml")
    shutil.copy(ROOT / "datasets/xor.csv", tmp_path / "datasets/xor.csv")
    return tmp_path


def one_line(r) -> str:
    """The one line a refused command printed on stderr (no traceback, within the 1000-character cap)."""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert len(lines[0]) <= 1000
    return lines[0]
