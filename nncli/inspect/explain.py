"""One training step, taken apart: the record behind `nncli explain`.

The network is built and initialized exactly as `nncli train` builds it (same seed, same
initializer, same data preparation). With ``step=N`` it first takes N−1 real training steps (the
real loop: shuffling, dropout, schedule, optimizer state). Then it takes one more step on a small
batch — the first K training rows, in file order — and records every number on the way:

    forward   for each layer  z = x·W + b,  a = f(z)          (the thread's W·x + b, one row per sample)
    loss      L = mean over the batch of the per-sample loss
    backward  δ = ∂L/∂z, ∂L/∂W = xᵀ·δ, ∂L/∂b = Σ δ, and ∂L/∂x = δ·Wᵀ for the layer below
    update    w_new = w_old − η·∂L/∂w  (for sgd; other optimizers their own rule, applied for real)
    after     the loss on the same batch with the new weights

Nothing is printed here; ``nncli/cli/explain.py`` renders the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError

#: the loss formulas, in the thread's notation (ŷ the output, y the target, n the batch size)
LOSS_FORMULAS = {
    "mse": "L = (1/n)·Σ mean_k (ŷ − y)²",
    "mae": "L = (1/n)·Σ mean_k |ŷ − y|",
    "huber": "L = (1/n)·Σ mean_k huber_δ(ŷ − y)   (½r² for |r| ≤ δ, δ(|r| − ½δ) beyond)",
    "binary_crossentropy": "L = −(1/n)·Σ [y·ln ŷ + (1 − y)·ln(1 − ŷ)]",
    "cross_entropy": "L = −(1/n)·Σ ln ŷ_y   (ŷ_y: the probability given to the true class)",
}

#: ∂L/∂(output) per loss when the loss is not fused with the output activation
LOSS_GRADIENTS = {
    "mse": "∂L/∂ŷ = 2(ŷ − y)/(n·k)",
    "mae": "∂L/∂ŷ = sign(ŷ − y)/(n·k)",
    "huber": "∂L/∂ŷ = clip(ŷ − y, −δ, δ)/(n·k)",
}

#: each optimizer's update rule (g = ∂L/∂w)
UPDATE_RULES = {
    "sgd": "w_new = w_old − η·∂L/∂w",
    "sgd+momentum": "v ← μ·v − η·∂L/∂w;  w_new = w_old + v",
    "sgd+nesterov": "v ← μ·v − η·∂L/∂w;  w_new = w_old + μ·v − η·∂L/∂w",
    "adam": "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  w_new = w_old − η·m̂/(√v̂ + ε)",
    "adamw": "w ← w − η·λ·w (weights only);  then the adam update w_new = w − η·m̂/(√v̂ + ε)",
    "rmsprop": "s ← ρ·s + (1−ρ)·g²;  w_new = w_old − η·g/(√s + ε)",
    "adagrad": "G ← G + g²;  w_new = w_old − η·g/(√G + ε)",
}

#: activation formulas f(z) and f'(z)
ACTIVATION_FORMULAS = {
    "linear": ("a = z", "f'(z) = 1"),
    "sigmoid": ("a = 1/(1 + e^−z)", "f'(z) = a(1 − a)"),
    "tanh": ("a = tanh z", "f'(z) = 1 − a²"),
    "relu": ("a = max(0, z)", "f'(z) = 1 where z > 0, else 0"),
    "leaky_relu": ("a = z if z > 0 else 0.01·z", "f'(z) = 1 or 0.01"),
    "elu": ("a = z if z > 0 else e^z − 1", "f'(z) = 1 or a + 1"),
    "softplus": ("a = ln(1 + e^z)", "f'(z) = σ(z)"),
    "silu": ("a = z·σ(z)", "f'(z) = σ(z)(1 + z(1 − σ(z)))"),
    "gelu": ("a = z·Φ(z) (tanh approximation)", "f'(z) = Φ(z) + z·φ(z) (approx.)"),
    "softmax": ("a_j = e^{z_j} / Σ_k e^{z_k}", "∂L/∂z = a ⊙ (∂L/∂a − Σ_k a_k ∂L/∂a_k)"),
}


@dataclass
class LayerStep:
    """What one dense layer did in the step. Arrays in the network's dtype; x, z, a, delta are
    (n_batch, ·); W (fan_in, fan_out); b, db (fan_out,)."""

    index: int  # 1-based, as printed
    fan_in: int
    units: int
    activation: str
    dropout: float
    x: np.ndarray
    W: np.ndarray
    b: np.ndarray
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray | None = None  # ∂L/∂z
    dW: np.ndarray | None = None  # ∂L/∂W from backpropagation (the data loss)
    db: np.ndarray | None = None
    gW: np.ndarray | None = None  # the gradient the optimizer used (with penalties / clipping)
    gb: np.ndarray | None = None
    W_new: np.ndarray | None = None
    b_new: np.ndarray | None = None


@dataclass
class StepRecord:
    name: str
    step: int  # 1-based: the step explained
    total_steps: int  # steps in the whole configured training
    epoch: int  # 1-based epoch the step belongs to
    rows: list[int]  # indices of the batch rows in the training set
    n_train: int
    input_names: list[str]
    target_names: list[str]
    classes: list | None
    task: str
    X: np.ndarray
    y: np.ndarray
    loss_name: str
    loss_formula: str
    loss_gradient: str  # how ∂L/∂(output) or the fused ∂L/∂z is formed
    fused: bool
    output: np.ndarray  # ŷ
    loss_before: float
    loss_after: float
    optimizer: str  # optimizer name with variant (sgd, sgd+momentum, adam, ...)
    learning_rate: float
    update_rule: str
    hyper: dict
    layers: list[LayerStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dtype: str = "float32"

    @property
    def plain_sgd(self) -> bool:
        return self.optimizer == "sgd"


def explain_step(config, *, step: int = 1, batch: int = 4, overrides=()) -> StepRecord:
    """Take ``step`` − 1 real training steps, then one explained step on the first ``batch`` rows."""
    from ..api import as_config, build_network
    from ..data.checks import prepare_checked
    from ..data.prepare import class_weights
    from ..seeding import Stream, rng as seeded_rng
    from ..training import Trainer

    if step < 1:
        raise UsageError(f"--step: must be 1 or more, got {step}")
    if batch < 1:
        raise UsageError(f"--batch: must be 1 or more, got {batch}")
    cfg = as_config(config, overrides)
    prepared = prepare_checked(cfg)
    pre = prepared.preprocessor
    network = build_network(cfg, pre.n_inputs, seeded_rng(cfg.seed, Stream.INIT))
    n_classes = len(pre.classes) if pre.task == "classification" else None
    cw = class_weights(cfg, pre, prepared.train.y) if n_classes else None
    X, y = prepared.train.X, prepared.train.y
    trainer = Trainer(cfg, network, X, y, class_weights=cw, n_classes=n_classes)
    n = len(X)
    per_epoch = -(-n // trainer.batch_size)
    total = per_epoch * cfg.training.epochs
    if step > total:
        raise UsageError(f"{cfg.where('training', 'epochs')}: --step {step}: the config trains only {total} steps "
                         f"({cfg.training.epochs} epochs × {per_epoch} batches); choose --step {total} or less")
    if batch > n:
        raise UsageError(f"--batch {batch}: the training set has only {n} rows; use --batch {n} or less")
    if step > 1:
        _run_steps(trainer, step - 1)
    epoch = trainer.epoch  # completed epochs (0-based index of the current one)
    opt = trainer.optimizer
    opt.learning_rate = trainer.schedule.lr(epoch)

    Xb = np.ascontiguousarray(X[:batch])
    yb = np.ascontiguousarray(y[:batch])
    weights = None if trainer.class_weights is None else trainer.class_weights[yb]
    loss = trainer.loss
    out_act = network.output_activation
    fused = trainer.fused
    layers: list[LayerStep] = []
    rng = network.dropout_rng
    a = Xb
    for i, layer in enumerate(network.layers):
        x = np.array(a)
        z = np.matmul(x, layer.W)
        z += layer.b
        a = layer.forward(a, training=True, rng=rng)
        layers.append(LayerStep(i + 1, layer.fan_in, layer.units, layer.activation_name, layer.dropout,
                                x, layer.W.copy(), layer.b.copy(), z, np.array(a)))
    output = np.array(a)
    delta = np.empty_like(a)
    total_loss = loss(a, yb, delta, weights, out_act)
    loss_before = float(total_loss) / batch
    # δ per layer, computed beside the engine's backward for display (the engine fills dW, db)
    g = delta.copy()
    for i in range(len(network.layers) - 1, -1, -1):
        layer, rec = network.layers[i], layers[i]
        if not (fused and i == len(network.layers) - 1):
            if layer._mask is not None:
                g = g * layer._mask / (1.0 - layer.dropout)
            zc = rec.z if layer.activation.needs_z else None
            a_pre = layer._a.copy()
            g = layer.activation.backward(zc, a_pre, g.copy())
        rec.delta = g.copy()
        g = g @ layer.W.T
    network.backward(delta, fused=fused)
    for i, layer in enumerate(network.layers):
        layers[i].dW, layers[i].db = layer.dW.copy(), layer.db.copy()

    notes: list[str] = []
    tr = cfg.training
    grads, params, nw = network.grads, network.params, network.n_weights
    if tr.l2:
        grads[:nw] += 2.0 * tr.l2 * params[:nw]
        notes.append(f"∂L/∂W used for the update includes the L2 penalty: + 2λ·W (λ = {tr.l2:g}); biases have none")
    if tr.l1:
        grads[:nw] += tr.l1 * np.sign(params[:nw])
        notes.append(f"∂L/∂W used for the update includes the L1 penalty: + λ·sign(W) (λ = {tr.l1:g})")
    if tr.clip_norm is not None:
        norm = float(np.sqrt(np.dot(grads, grads)))
        if norm > tr.clip_norm:
            grads *= tr.clip_norm / norm
            notes.append(f"the gradient's global norm {norm:.4g} exceeds clip_norm {tr.clip_norm:g}: "
                         f"it is scaled by {tr.clip_norm / norm:.4g} before the update")
    if any(l.dropout > 0 for l in network.layers):
        notes.append("dropout is active in this step (training mode); 'a' shows what the next layer receives")
    for i, layer in enumerate(network.layers):
        layers[i].gW, layers[i].gb = layer.dW.copy(), layer.db.copy()
    opt.step(params, grads)
    for i, layer in enumerate(network.layers):
        layers[i].W_new, layers[i].b_new = layer.W.copy(), layer.b.copy()
    after = network.forward(Xb, training=False)
    loss_after = float(loss(after, yb, np.empty_like(after), weights, out_act)) / batch
    if any(l.dropout > 0 for l in network.layers):
        notes.append("the loss after the step is measured without dropout (inference mode)")

    o = tr.optimizer
    variant = o.name
    if o.name == "sgd" and o.momentum:
        variant = "sgd+nesterov" if o.nesterov else "sgd+momentum"
    hyper = {k: v for k, v in o.model_dump().items() if k not in ("name", "learning_rate")}
    if fused:
        prob = "softmax" if out_act in ("softmax", "linear") and loss.name == "cross_entropy" else "sigmoid"
        lg = (f"∂L/∂z = (ŷ − y)/n — {loss.name} fused with the {out_act} output"
              + (f" ({prob} of the logits)" if out_act == "linear" else "")
              + ": the activation's own derivative cancels")
    else:
        lg = LOSS_GRADIENTS.get(loss.name, "∂L/∂ŷ")
    return StepRecord(
        name=cfg.name, step=step, total_steps=total, epoch=epoch + 1, rows=list(range(batch)), n_train=n,
        input_names=pre.input_names, target_names=list(pre.targets), classes=pre.classes, task=pre.task,
        X=Xb, y=yb, loss_name=loss.name, loss_formula=LOSS_FORMULAS.get(loss.name, "L"), loss_gradient=lg,
        fused=fused, output=output, loss_before=loss_before, loss_after=loss_after, optimizer=variant,
        learning_rate=float(opt.learning_rate), update_rule=UPDATE_RULES.get(variant, "w_new = w_old − Δ"),
        hyper=hyper, layers=layers, notes=notes, dtype=str(network.dtype),
    )


def _run_steps(trainer, count: int) -> None:
    """Run the real training loop for exactly ``count`` optimizer steps, then stop it."""
    opt = trainer.optimizer
    step = opt.step
    taken = 0

    def counted(params, grads):
        nonlocal taken
        step(params, grads)
        taken += 1
        if taken >= count:
            trainer.stop_signal = -1  # the loop stops after this batch (the signal path, no signal)

    opt.step = counted
    try:
        trainer.run()
    finally:
        del opt.step
        trainer.stop_signal = None
    if taken != count:  # pragma: no cover - guarded by the step count check
        raise RuntimeError(f"took {taken} steps, wanted {count}")
