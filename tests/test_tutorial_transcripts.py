"""docs/tutorial.md's quoted numbers stay true: every `$ nncli train ...` transcript in it is run
again and its deterministic lines (the final epoch line less its timing, the summary's metric lines
and the loss sparkline) must match what nncli prints today. Regenerate the transcripts with
`python tests/test_tutorial_transcripts.py --write` after a change that moves the numbers."""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
TIMING = re.compile(r"\s+\d+(\.\d+)?s$")


def transcripts(text: str) -> list[tuple[str, list[str], int, int]]:
    """(command, quoted output lines, first line index, end index) of each `$ nncli train` in a
    console block; indices into text.splitlines()."""
    lines = text.splitlines()
    found, inside, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            inside = line.strip() == "```console"
        elif inside and line.startswith("$ nncli train "):
            j = i + 1
            while j < len(lines) and not lines[j].startswith(("$ ", "```")):
                j += 1
            found.append((line[2:], lines[i + 1:j], i + 1, j))
            i = j
            continue
        i += 1
    return found


def deterministic(output: list[str]) -> list[str]:
    """The lines that do not depend on the clock: the summary lines and the last epoch line."""
    keep = []
    epochs = [l for l in output if l.startswith("epoch ")]
    if epochs:
        keep.append(TIMING.sub("", epochs[-1]))
    keep += [l for l in output if l.startswith("  ")]
    return keep


def run_transcript(command: str, cwd: Path) -> list[str]:
    from conftest import run_cli

    argv = shlex.split(command)[2:]  # after "nncli train"
    argv = [str(ROOT / a) if a.startswith("configs/") else a for a in argv]
    r = run_cli("train", *argv, cwd=cwd)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    return [re.sub(r"epochs in \d+\.\d+s", "epochs in 0.00s", l) if " epochs in " in l else l for l in out]


CASES = transcripts(TUTORIAL.read_text(encoding="utf-8"))


def test_the_tutorial_quotes_training_runs():
    assert len(CASES) >= 8


@pytest.mark.parametrize("command,quoted", [(c, q) for c, q, _, _ in CASES], ids=[c[12:70] for c, *_ in CASES])
def test_quoted_training_output_is_what_nncli_prints(command, quoted, tmp_path):
    assert deterministic(run_transcript(command, tmp_path)) == deterministic(quoted)


def test_the_xor_decision_regions_are_as_described():
    """The prose on decision.png of 03-xor-hidden-layer: class 0 along the diagonal band, class 1
    in the off-diagonal corners — checked on the network's predictions over that picture's plane."""
    import numpy as np

    import nncli

    assert ("class 0 along a diagonal band from (0,0) to (1,1), class 1 in the two off-diagonal corners"
            in " ".join(TUTORIAL.read_text(encoding="utf-8").split()))
    run = nncli.train(ROOT / "configs/tutorial/03-xor-hidden-layer.yaml", out=False)
    diagonal = np.array([[t, t] for t in np.linspace(-0.1, 1.1, 13)])
    corners = np.array([[0, 1], [-0.1, 1.1], [0.1, 0.9], [1, 0], [1.1, -0.1], [0.9, 0.1]])
    assert list(run.predict(diagonal)) == [0] * len(diagonal)
    assert list(run.predict(corners)) == [1] * len(corners)


def write() -> None:
    """Rewrite every train transcript in docs/tutorial.md from a real run (timings as measured)."""
    import tempfile

    text = TUTORIAL.read_text(encoding="utf-8")
    lines = text.splitlines()
    for command, _, start, end in reversed(transcripts(text)):
        with tempfile.TemporaryDirectory() as d:
            out = run_transcript(command, Path(d))
        out = [l.replace(str(Path(d)) + "/", "") for l in out]
        lines[start:end] = out
    TUTORIAL.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    if sys.argv[1:] == ["--write"]:
        write()
