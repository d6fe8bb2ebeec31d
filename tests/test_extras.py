"""The install hints name the right packages: nncli.extras mirrors pyproject.toml's extras."""

from __future__ import annotations

import tomllib
from pathlib import Path

from nncli import extras

ROOT = Path(__file__).resolve().parent.parent


def test_extras_match_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["optional-dependencies"]
    for extra, requirements in extras.EXTRAS.items():
        assert declared[extra] == requirements, extra


def test_distribution_name_is_not_the_taken_one():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == extras.DISTRIBUTION != "nncli"
    assert project["scripts"]["nncli"] == "nncli.cli.app:main"


def test_install_command_quotes_what_the_shell_would_expand():
    assert extras.install_command("plot") == "pip install 'matplotlib>=3.6'"
    assert extras.install_command("dask") == "pip install 'dask[distributed]>=2023.1'"
