"""The bytes of weights.npz for every shipped config, recorded before the redesign (issue 12).

A refactor that changes a single bit of any shipped config's weights fails here: same config + seed
must give identical bytes. When a change is *meant* to alter the numbers, update the hash in the same
commit and say why in its message.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import nncli

ROOT = Path(__file__).resolve().parent.parent

WEIGHT_SHA256 = {
    "digits": "01097a21443c13b2a2fdd19bccd803dc865d88662a8425a8fe3b8c90957010f7",
    "iris": "70451da78e984c1a4e17d4761a5a550b81014dac3fae94d285ed133b751b001a",
    "line": "6b0f4cf47309931d35ddc77da6529f7b5947b101873bb5bcea4539baa43ca3f4",
    "moons": "99e35a9f2a23979658aceac7b2b4085c60e0f9f29210b38d12e076039557cb1d",
    "spirals": "f982fbe25d700aaef610d509fe23635e0c24c16c74dd013cb2c02b086a488056",
    "xor": "47bfa64139513ec7e20a8b09b0359305cd3943b731409a1b48952beff7c5444f",
    "tutorial/01-line": "3d210a9bb72679e8bab68c0e960a0029304a33ee2a1fc296f0bb41ecd28a45e9",
    "tutorial/02-linear": "a35db49df17d4e7c9a6e1c73cc5a1d8ab13d0854d8c4429d71f4e22659d51e82",
    "tutorial/03-xor-hidden-layer": "47bfa64139513ec7e20a8b09b0359305cd3943b731409a1b48952beff7c5444f",
    "tutorial/03-xor-one-neuron": "9706cba8e72558304be0a867056e8004ffebc91df24b622affcf3382c6e5443e",
    "tutorial/04-activations": "e31d7b239418a050fbedc4c1a3244c2b42f8e858af48f2669cdf9f9a39fa08c7",
    "tutorial/05-spirals-softmax": "485210094b6de65f6e65246a58abbd67ebf7edfce8d79841859d1df9de3a22f6",
    "tutorial/06-sine": "cb523d3036ed647c9b42b0d2a9bef55132745f616a6d5b57dc554593757ba622",
    "tutorial/07-gradcheck": "5efd584116f7a175289d1de5a0cdcdd4ed43e5fe209b76384e554cbe29294c78",
}


def test_every_shipped_config_is_listed():
    shipped = {str(p.relative_to(ROOT / "configs").with_suffix(""))
               for p in (ROOT / "configs").rglob("*.yaml")}
    assert shipped == set(WEIGHT_SHA256)


@pytest.mark.parametrize("name", sorted(WEIGHT_SHA256))
def test_weights_bytes_unchanged(name, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # configs name their data relative to the checkout
    out = tmp_path / "run"
    nncli.train(ROOT / "configs" / f"{name}.yaml", out=out)
    digest = hashlib.sha256((out / "weights.npz").read_bytes()).hexdigest()
    assert digest == WEIGHT_SHA256[name]
