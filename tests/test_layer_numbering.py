"""One layer numbering: summary, weights, explain, gradcheck and weights.npz all count from 0.

0-based like weights.npz (`layers.0.weight`) and the config's own `model.layers[0]`, so a number
seen in one place finds the same layer in every other.
"""

from __future__ import annotations

import re

import numpy as np
import yaml
from typer.testing import CliRunner

import nncli
from nncli.cli.app import app

CONFIG = {
    "name": "numbering", "seed": 2,
    "data": {"generator": {"name": "moons", "n_samples": 40}},
    "model": {"layers": [{"units": 5, "activation": "tanh"}, {"units": 4, "activation": "relu"},
                         {"units": 2, "activation": "softmax"}]},
    "training": {"epochs": 2, "batch_size": 8, "loss": "cross_entropy"},
}


def _invoke(*args) -> str:
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res.output


def test_every_command_and_weights_npz_number_layers_alike(tmp_path):
    path = tmp_path / "numbering.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    run_dir = tmp_path / "run"
    nncli.train(path, out=run_dir)
    with np.load(run_dir / "weights.npz", allow_pickle=False) as z:
        shapes = {int(k.split(".")[1]): z[k].shape for k in z.files if k.endswith(".weight")}
    expected = {0: (2, 5), 1: (5, 4), 2: (4, 2)}
    assert shapes == expected

    summary = _invoke("summary", run_dir)
    rows = {int(m[1]): int(m[2].replace(",", "")) for m in re.finditer(r"^\s*(\d+)\s+Dense\s.*?([\d,]+)\s*$", summary, re.M)}
    assert rows == {i: a * b + b for i, (a, b) in expected.items()}

    weights = _invoke("weights", run_dir)
    found = {int(m[1]): (int(m[2]), int(m[3])) for m in re.finditer(r"layer (\d+): (\d+) → (\d+)", weights)}
    assert found == expected

    explain = _invoke("explain", path, "--batch", "2")
    found = {int(m[1]): (int(m[2]), int(m[3])) for m in re.finditer(r"^\s*layer (\d+): (\d+) → (\d+)", explain, re.M)}
    assert found == expected
    assert "output ŷ = a of layer 2" in explain and "δ of layer 2 · W2ᵀ" in explain

    gradcheck = _invoke("gradcheck", path, "--batch", "4")
    found = {int(m[1]): tuple(map(int, m[2].split("×"))) for m in re.finditer(r"layer (\d+) weights\s+(\S+)", gradcheck)}
    assert found == expected
