"""Every registry entry is described in one place (its class in nncli/nn) and every consumer covers it.

Walks the activation, loss, optimizer, schedule and initializer registries and checks, per entry:
explain prints its formula, gradcheck's kink handling matches the function, the default initializer
is a real one and is the one drawn, and docs/config.md and the JSON Schema (file and `nncli schema`)
name it with its formula. Defaults of the config equal the engine's own.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nncli.config import schema as S
from nncli.config.docs import json_schema
from nncli.inspect.explain import explain_step
from nncli.inspect.gradcheck import gradcheck
from nncli.nn import activations, initializers, losses, optimizers, schedules
from nncli.nn._registry import Registry
from nncli.nn.network import LayerSpec, Network

ROOT = Path(__file__).resolve().parent.parent
REGISTRIES = {"activation": activations.REGISTRY, "loss": losses.REGISTRY, "optimizer": optimizers.REGISTRY,
              "schedule": schedules.REGISTRY, "initializer": initializers.REGISTRY}
ENTRIES = [(kind, name) for kind, reg in REGISTRIES.items() for name in reg.names()]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _regression(hidden: str = "tanh", loss: str = "mse", optimizer: str = "sgd") -> dict:
    return {"name": "r", "seed": 1, "data": {"generator": {"name": "sine", "n_samples": 16}},
            "model": {"layers": [{"units": 3, "activation": hidden}, {"units": 1, "activation": "linear"}]},
            "training": {"epochs": 1, "batch_size": 8, "loss": loss, "optimizer": optimizer}}


def _classification(loss: str) -> dict:
    out = {"units": 1, "activation": "sigmoid"} if loss == "binary_crossentropy" else {"units": 2, "activation": "softmax"}
    return {"name": "c", "seed": 1, "data": {"generator": {"name": "moons", "n_samples": 16}},
            "model": {"layers": [{"units": 3, "activation": "tanh"}, out]},
            "training": {"epochs": 1, "batch_size": 8, "loss": loss}}


@pytest.fixture(scope="module")
def docs_text() -> str:
    return (ROOT / "docs" / "config.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def schema_texts() -> list[str]:
    def strings(node):
        if isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)
        elif isinstance(node, str):
            yield node

    shipped = json.loads((ROOT / "docs" / "nncli.schema.json").read_text(encoding="utf-8"))
    return [" ".join(_flat(s) for s in strings(tree)) for tree in (shipped, json_schema())]


@pytest.mark.parametrize("kind,name", ENTRIES)
def test_docs_and_schema_give_each_entry_with_its_formula(kind, name, docs_text, schema_texts):
    formula = _flat(REGISTRIES[kind].get(name).formula)
    assert formula, f"{kind} {name}: empty formula"
    assert formula.replace("|", "\\|") in _flat(docs_text), f"docs/config.md lacks {kind} {name}: {formula}"
    for text in schema_texts:
        assert formula in text, f"the JSON Schema lacks {kind} {name}: {formula}"
        assert name in text


@pytest.mark.parametrize("name", activations.names())
def test_explain_prints_each_activations_own_formulas(name):
    rec = explain_step(_regression(hidden=name), batch=4)
    cls = activations.REGISTRY.get(name)
    assert (rec.layers[0].formula, rec.layers[0].derivative) == (cls.formula, cls.derivative)
    assert rec.layers[0].activation == name


@pytest.mark.parametrize("name", losses.names())
def test_explain_prints_each_losss_own_formula(name):
    cfg = _regression(loss=name) if losses.REGISTRY.get(name).task == "regression" else _classification(name)
    rec = explain_step(cfg, batch=4)
    cls = losses.REGISTRY.get(name)
    assert rec.loss_formula == cls.formula
    assert rec.loss_gradient.startswith(cls.gradient)


@pytest.mark.parametrize("name", optimizers.names())
def test_explain_prints_each_optimizers_own_rule(name):
    rec = explain_step(_regression(optimizer=name), batch=4)
    opt = optimizers.get(name, 3)
    assert rec.optimizer == opt.variant == name
    assert rec.update_rule == opt.update_rule
    assert _flat(opt.update_rule) in _flat(type(opt).formula)  # sgd: the plain rule of its three


def _slopes_at_zero(name: str) -> tuple[float, float]:
    """f'(−h) and f'(+h) from the activation's own backward, in float64."""
    act = activations.get(name)
    slopes = []
    for z0 in (-1e-6, 1e-6):
        z = np.array([[z0, 0.0]])  # softmax acts on a row: the first unit's own slope
        a = act.forward(z.copy(), np.empty_like(z))
        g = np.array([[1.0, 0.0]])
        slopes.append(float(act.backward(z, a, g)[0, 0]))
    return slopes[0], slopes[1]


@pytest.mark.parametrize("name", activations.names())
def test_kinked_says_whether_the_derivative_jumps_at_zero(name):
    cls = activations.REGISTRY.get(name)
    assert isinstance(cls.kinked, bool)
    left, right = _slopes_at_zero(name)
    assert (abs(right - left) > 1e-3) == cls.kinked, (name, left, right)


@pytest.mark.parametrize("name", [n for n in activations.names() if activations.REGISTRY.get(n).kinked])
def test_gradcheck_skips_kinks_of_every_kinked_activation(name):
    # xor.csv has the row (0, 0): with zero initial biases every hidden unit sits exactly at z = 0
    result = gradcheck(ROOT / "configs/xor.yaml", overrides=[f"model.layers.0.activation={name}"])
    assert result.passed and result.arrays[1].skipped > 0


@pytest.mark.parametrize("name", losses.names())
def test_loss_kinked_says_whether_the_gradient_jumps_where_the_output_meets_the_target(name):
    cls = losses.REGISTRY.get(name)
    assert isinstance(cls.kinked, bool)
    if cls.task == "classification":  # ŷ is a probability, y a label: no ŷ = y to cross
        assert not cls.kinked
        return
    loss = cls()
    y = np.zeros((1, 1))
    grads = []
    for r in (-1e-6, 1e-6):
        delta = np.empty((1, 1))
        loss(np.array([[r]]), y, delta)
        grads.append(float(delta[0, 0]))
    assert (abs(grads[1] - grads[0]) > 1e-3) == cls.kinked, (name, grads)


@pytest.mark.parametrize("name", activations.names())
def test_default_initializer_is_registered_and_is_the_one_drawn(name):
    default = activations.REGISTRY.get(name).default_initializer
    assert default in initializers.names()
    implicit = Network(4, [LayerSpec(3, name)], dtype=np.float64, rng=np.random.default_rng(5))
    explicit = Network(4, [LayerSpec(3, name, 0.0, default)], dtype=np.float64, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(implicit.params, explicit.params)


@pytest.mark.parametrize("name", optimizers.names())
def test_optimizer_defaults_are_written_once(name):
    cfg = S.TrainingConfig.model_validate({"loss": "mse", "optimizer": name}).optimizer
    settings = cfg.model_dump(exclude={"name"})
    assert settings == optimizers.defaults(name)
    built, bare = optimizers.get(name, 5, **settings), optimizers.get(name, 5)
    for key in settings:
        assert getattr(built, key) == getattr(bare, key)


@pytest.mark.parametrize("name", schedules.names())
def test_schedule_defaults_are_the_engines(name):
    cfg = S.TrainingConfig.model_validate({"loss": "mse", "schedule": name}).schedule
    engine = schedules.defaults(name)
    for key, value in cfg.model_dump(exclude={"name"}).items():
        assert engine[key] == value, (name, key)


def test_huber_delta_default_is_the_engines():
    assert S.LOSS_MODELS["huber"](name="huber").delta == losses.defaults("huber")["delta"] == losses.get("huber").delta


def test_an_entry_that_leaves_out_a_fact_cannot_register():
    reg = Registry("activation", ("formula", "derivative", "default_initializer", "kinked"))

    class Half(activations.Activation):
        formula = "a = 2z"
        derivative = "f'(z) = 2"

    with pytest.raises(TypeError, match="default_initializer, kinked"):
        reg.register("double")(Half)
    assert "double" not in reg


def test_a_new_registry_entry_needs_no_other_file(tmp_path):
    """Adding an optimizer, schedule or loss with settings touches only its nn/ module: the config
    model, its defaults and bounds, docs and the JSON Schema follow. Shown in a fresh interpreter
    that registers a new optimizer and a new schedule before the config is imported."""
    import subprocess
    import sys
    from pathlib import Path

    script = '''
import numpy as np
from nncli.nn import optimizers, schedules
from nncli.nn._registry import Setting

@optimizers.REGISTRY.register("signsgd")
class SignSGD(optimizers.Optimizer):
    formula = "w_new = w_old − η·sign(∂L/∂w)"
    settings = {"learning_rate": Setting("η", gt=0), "floor": Setting("ignored below", ge=0)}
    def __init__(self, size, learning_rate=0.05, floor=0.0, dtype=np.float32):
        super().__init__(size, learning_rate, dtype)
        self.floor = float(floor)
    def step(self, params, grads):
        self.t += 1
        params -= self.learning_rate * np.sign(grads)

@schedules.REGISTRY.register("halving")
class Halving(schedules.Schedule):
    formula = "η_e = η·2^(−⌊e/k⌋)"
    settings = {"every": Setting("k, epochs between halvings", gt=0)}
    def __init__(self, base_lr, epochs, every: int = 3):
        super().__init__(base_lr, epochs)
        self.every = int(every)
    def lr(self, epoch):
        return self.base_lr * 0.5 ** (epoch // self.every)

import json
from nncli.config import config_from_dict
from nncli.config.docs import markdown, schema_text
cfg = config_from_dict({"name": "t", "data": {"generator": {"name": "xor"}},
                        "model": {"layers": [{"units": 1, "activation": "sigmoid"}]},
                        "training": {"loss": "binary_crossentropy", "epochs": 7,
                                     "optimizer": {"name": "signsgd", "floor": 0.5},
                                     "schedule": {"name": "halving"}}})
print(cfg.training.optimizer.learning_rate, cfg.training.optimizer.floor, cfg.training.schedule.every)
try:
    config_from_dict({"name": "t", "data": {"generator": {"name": "xor"}},
                      "model": {"layers": [{"units": 1, "activation": "sigmoid"}]},
                      "training": {"loss": "binary_crossentropy", "optimizer": {"name": "signsgd", "floor": -1}}})
except Exception as exc:
    print("refused:", str(exc).splitlines()[0])
print("in docs:", "sign(∂L/∂w)" in markdown(), "η_e = η·2^(−⌊e/k⌋)" in markdown(), '"SignSGDConfig"' in schema_text())
import nncli
run = nncli.train(cfg, out=False)
print("lr:", [round(v, 4) for v in run.history.columns["lr"]])
'''
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                         env={**__import__("os").environ, "PYTHONPATH": str(root)}, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "0.05 0.5 3"
    assert lines[1].startswith("refused:") and "training.optimizer.floor" in lines[1] and ">= 0" in lines[1]
    assert lines[2] == "in docs: True True True"
    assert lines[3] == "lr: [0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]"
