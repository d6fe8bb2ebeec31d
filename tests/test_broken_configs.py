"""The corpus of broken configs: each gives exactly its expected lines (file:line:column, the
dotted key, what is wrong, the fix), exit code 2, no traceback, and no output directory.

A case is tests/broken_configs/NAME.yaml with NAME.expected (the exact stderr lines; `{dir}` stands
for the folder the case runs in) and optionally NAME.args (extra command-line arguments, one per
line, e.g. --set overrides). The cases run in-process through the Typer app (the same code path as
the `nncli` command, minus interpreter start-up); a few also run as real processes below.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nncli.cli.app import app

CORPUS = Path(__file__).parent / "broken_configs"
CASES = sorted(p.stem for p in CORPUS.glob("*.yaml"))


def _args(name: str) -> list[str]:
    f = CORPUS / f"{name}.args"
    return [line for line in f.read_text().splitlines() if line] if f.exists() else []


def _expected(name: str, folder: Path) -> list[str]:
    return (CORPUS / f"{name}.expected").read_text().replace("{dir}", str(folder)).splitlines()


@pytest.fixture
def corpus_dir(tmp_path, monkeypatch) -> Path:
    work = tmp_path / "case"
    shutil.copytree(CORPUS, work)
    monkeypatch.chdir(work)
    return work


def test_corpus_is_large_and_complete():
    assert len(CASES) >= 30
    for name in CASES:
        assert (CORPUS / f"{name}.expected").read_text().strip(), f"{name}.expected is empty"
    kinds = {name.split("_")[0] for name in CASES}
    assert {"unknown", "enum", "type", "range", "yaml", "cross", "data", "override", "size", "cap", "url"} <= kinds


def test_no_line_is_longer_than_the_cap():
    from nncli.config.messages import MAX_LINE

    for name in CASES:
        for line in (CORPUS / f"{name}.expected").read_text().splitlines():
            assert len(line) <= MAX_LINE, (name, len(line))


@pytest.mark.parametrize("name", CASES)
def test_broken_config(name, corpus_dir):
    before = set(p.name for p in corpus_dir.iterdir())
    result = CliRunner().invoke(app, ["train", f"{name}.yaml", *_args(name)])
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert result.stderr.splitlines() == _expected(name, corpus_dir)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert result.stdout == ""
    assert set(p.name for p in corpus_dir.iterdir()) == before  # no runs/, no .partial, nothing


@pytest.mark.parametrize("name", CASES)
def test_validate_reports_the_same_lines(name, corpus_dir):
    result = CliRunner().invoke(app, ["validate", f"{name}.yaml", *_args(name)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == _expected(name, corpus_dir)
    assert result.stdout == ""


@pytest.mark.parametrize("name", ["many_errors", "data_missing_file", "yaml_tab", "override_enum"])
def test_broken_config_as_a_process(name, tmp_path, cli_subprocess):
    work = tmp_path / "case"
    shutil.copytree(CORPUS, work)
    r = cli_subprocess("train", f"{name}.yaml", *_args(name), cwd=work)
    assert r.returncode == 2
    assert r.stderr.splitlines() == _expected(name, work)
    assert "Traceback" not in r.stderr
    assert not (work / "runs").exists()
    assert not list(work.rglob("*.partial"))


def test_every_line_has_a_place():
    """Every expected line starts with FILE:LINE:COL or the --set it came from."""
    import re

    for name in CASES:
        for line in (CORPUS / f"{name}.expected").read_text().splitlines():
            assert re.match(rf"^({re.escape(name)}\.yaml:[0-9]+:[0-9]+|--set \S.*?): ", line), line
