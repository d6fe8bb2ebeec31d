"""`nncli explain` takes the trainer's own step: its updated weights are those of `nncli train`.

For every optimizer in the registry (sgd also with momentum and Nesterov), with L1, L2 and a
clip_norm small enough to clip, the weights `explain --step 1` records after its step equal, bit
for bit, the weights.npz a one-epoch, one-batch `nncli train` writes; `explain --step 2` likewise
continues from the optimizer state of step 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import nncli
from nncli.inspect.explain import explain_step
from nncli.nn import optimizers

VARIANTS = [(name, {}) for name in optimizers.names()] + [
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
]


def _config(optimizer: str, settings: dict, *, task: str = "classification", epochs: int = 1) -> dict:
    if task == "classification":
        data = {"generator": {"name": "spirals", "n_samples": 60, "classes": 3}}
        layers = [{"units": 6, "activation": "relu", "dropout": 0.25}, {"units": 3, "activation": "softmax"}]
        loss = "cross_entropy"
    else:
        data = {"generator": {"name": "sine", "n_samples": 40}}
        layers = [{"units": 5, "activation": "tanh"}, {"units": 1, "activation": "linear"}]
        loss = "huber"
    return {
        "name": "step", "seed": 4, "data": data, "model": {"layers": layers},
        "training": {"epochs": epochs, "batch_size": "full", "shuffle": False, "loss": loss,
                     "optimizer": {"name": optimizer, "learning_rate": 0.05, **settings},
                     "l1": 0.001, "l2": 0.01, "clip_norm": 0.05,
                     **({"class_weight": "balanced"} if task == "classification" else {})},
    }


def _trained_weights(cfg: dict, tmp_path) -> dict[str, np.ndarray]:
    nncli.train(cfg, out=tmp_path / "run")
    with np.load(tmp_path / "run" / "weights.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("optimizer,settings", VARIANTS, ids=lambda v: str(v))
def test_explain_step_1_equals_one_step_of_train(optimizer, settings, tmp_path):
    cfg = _config(optimizer, settings)
    n = cfg["data"]["generator"]["n_samples"]
    rec = explain_step(cfg, step=1, batch=n)
    trained = _trained_weights(cfg, tmp_path)
    assert any("clip_norm" in note for note in rec.notes), "the test must exercise clipping"
    assert any("L1" in note for note in rec.notes) and any("L2" in note for note in rec.notes)
    for layer in rec.layers:
        np.testing.assert_array_equal(layer.W_new, trained[f"layers.{layer.index}.weight"])
        np.testing.assert_array_equal(layer.b_new, trained[f"layers.{layer.index}.bias"])
        assert not np.array_equal(layer.W_new, layer.W)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_explain_step_2_continues_from_the_optimizer_state(optimizer, tmp_path):
    cfg = _config(optimizer, {"momentum": 0.9} if optimizer == "sgd" else {}, task="regression", epochs=2)
    rec = explain_step(cfg, step=2, batch=cfg["data"]["generator"]["n_samples"])
    trained = _trained_weights(cfg, tmp_path)
    assert rec.epoch == 2
    for layer in rec.layers:
        np.testing.assert_array_equal(layer.W_new, trained[f"layers.{layer.index}.weight"])
        np.testing.assert_array_equal(layer.b_new, trained[f"layers.{layer.index}.bias"])


def test_explain_records_the_data_gradient_and_the_one_the_optimizer_used():
    cfg = _config("sgd", {})
    rec = explain_step(cfg, step=1, batch=cfg["data"]["generator"]["n_samples"])
    assert rec.optimizer == "sgd" and rec.update_rule == optimizers.SGD.RULES["sgd"]
    for layer in rec.layers:
        # plain sgd: W_new = W − η·g with g the regularized, clipped gradient
        np.testing.assert_allclose(layer.W_new, layer.W - np.float32(0.05) * layer.gW, rtol=1e-5, atol=1e-7)
        assert not np.allclose(layer.gW, layer.dW)  # penalties and clipping changed it
        np.testing.assert_allclose(layer.dW, layer.x.T @ layer.delta, rtol=1e-4, atol=1e-6)


def test_cli_explain_prints_the_trainers_step(tmp_path):
    import yaml

    from nncli.cli.app import app

    cfg = _config("adam", {})
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(app, ["explain", str(path), "--batch", "60"])
    assert res.exit_code == 0, res.output
    assert "exceeds clip_norm" in res.output and "L2 penalty" in res.output


def test_step_is_what_the_loop_takes():
    """A hand-driven Trainer.step over the same batches gives the loop's weights, bit for bit."""
    from nncli.api import as_config, build_network
    from nncli.data.checks import prepare_checked
    from nncli.seeding import Stream, rng
    from nncli.training import Trainer

    cfg = _config("rmsprop", {}, epochs=3)
    cfg["training"]["batch_size"] = 16
    run = nncli.train(cfg, out=False)
    cfg_ = as_config(cfg, ())
    prepared = prepare_checked(cfg_)
    trainer = Trainer.from_prepared(cfg_, build_network(cfg_, prepared.preprocessor.n_inputs, rng(4, Stream.INIT)),
                                    prepared)
    n = len(trainer.X)
    for _ in range(3):
        trainer.start_epoch()
        for s in range(0, n, 16):
            trainer.step(trainer.X[s:s + 16], trainer.targets[s:s + 16], trainer.sample_weights[s:s + 16])
        trainer.epoch += 1
    np.testing.assert_array_equal(trainer.network.params, run.network.params)


def test_explain_and_gradcheck_read_memory_mapped_rows(tmp_path):
    """.npy data is memory-mapped (rows gathered per batch): the explained batch is read the same way."""
    from nncli.inspect.gradcheck import gradcheck

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", (X[:, 0] > 0).astype(np.int64))
    cfg = {"name": "mm", "data": {"path": str(tmp_path / "X.npy"), "y_path": str(tmp_path / "y.npy")},
           "model": {"layers": [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "softmax"}]},
           "training": {"epochs": 1, "batch_size": 10, "loss": "cross_entropy"}}
    rec = explain_step(cfg, step=2, batch=3)
    assert rec.X.shape == (3, 3)
    assert gradcheck(cfg, batch=5).passed
