"""`nncli COMMAND --help` reads well at any terminal width, usage errors are one line, completion works.

In-process (CliRunner): the help is rendered by Rich at the width COLUMNS gives.
"""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from nncli.cli.app import app

COMMAND = typer.main.get_command(app)


def _commands(cmd, path=()):
    yield list(path), cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(COMMAND))


def _help(path: list[str], width: int) -> str:
    r = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(width)}, prog_name="nncli")
    assert r.exit_code == 0, r.output
    return r.stdout


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("path, cmd", COMMANDS, ids=[" ".join(p) or "nncli" for p, _ in COMMANDS])
def test_help_never_breaks_a_word(path, cmd, width):
    out = _help(path, width)
    assert all(len(line) <= width for line in out.splitlines())
    assert "…" not in out
    shown = set(re.sub(r"[│╭╮╰╯─]", " ", out).split())
    ctx = typer.Context(cmd)
    words = (cmd.help or "").split()
    for p in cmd.get_params(ctx):
        words += (p.help or "").split()
        if p.param_type_name == "option":
            words += p.opts
        words += (p.display_type_rich(ctx) or "").split() + (p.metavar or "").split()
    broken = [w for w in words if w.replace("\\[", "[") not in shown]
    assert not broken, f"words cut at COLUMNS={width}: {broken}\n{out}"


@pytest.mark.parametrize("path, cmd", COMMANDS, ids=[" ".join(p) or "nncli" for p, _ in COMMANDS])
def test_help_shows_metavars_and_choices_not_python_types(path, cmd):
    out = _help(path, 120)
    for python_type in ("<bool>", "<str>", "<int>", "<path>", "<list[", "{"):
        assert python_type not in out, f"{python_type} in nncli {' '.join(path)} --help"


def test_choices_are_listed():
    assert "[csv | json | jsonl]" in _help(["predict"], 120)
    assert "[minimize | maximize]" in _help(["sweep"], 120)
    assert "[xor | regression | classification]" in _help(["init"], 120)
    assert "Usage: nncli train [OPTIONS] CONFIG" in _help(["train"], 120)
    assert "Usage: nncli validate [OPTIONS] CONFIG..." in _help(["validate"], 120)
    assert "Usage: nncli predict [OPTIONS] RUN_DIR [INPUT]" in _help(["predict"], 120)


@pytest.mark.parametrize("args, line", [
    (["predict", "r", "--format", "xml"],
     "nncli predict: Invalid value for '--format' / '-f': 'xml' is not one of 'csv', 'json', 'jsonl' "
     "— see 'nncli predict --help'"),
    (["train"], "nncli train: Missing argument 'CONFIG' — see 'nncli train --help'"),
    (["trian"], "nncli: No such command 'trian'. Did you mean 'train'? — see 'nncli --help'"),
    (["train", "c.yaml", "--quite"],
     "nncli train: No such option: --quite (Possible options: --out, --quiet) — see 'nncli train --help'"),
])
def test_usage_errors_are_one_line(cli, args, line):
    r = cli(*args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [line]


def test_completion_is_on(cli):
    assert "--install-completion" in _help([], 120) and "--show-completion" in _help([], 120)
    for words, cword, expected in ((["nncli", "predict", "run", "--format", ""], 4, ["csv", "json", "jsonl"]),
                                   (["nncli", "init", "x", "-t", ""], 4, ["xor", "regression", "classification"]),
                                   (["nncli", "sw"], 1, ["sweep"])):
        r = CliRunner().invoke(app, [], prog_name="nncli", env={
            "_NNCLI_COMPLETE": "complete_bash", "COMP_WORDS": " ".join(words), "COMP_CWORD": str(cword)})
        assert r.exit_code == 0 and r.stdout.split() == expected, r.output
