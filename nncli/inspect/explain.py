"""One training step, taken apart: the record behind `nncli explain`.

The network and trainer are built exactly as `nncli train` builds them (same data preparation,
seed, initializer, class weights, validation). With ``step=N`` it first takes N−1 real training
steps (the real loop: shuffling, dropout, schedule, optimizer state). Then the trainer's own
``step()`` takes one more step on a small batch — the first K training rows, in file order — and
records every number on the way:

    forward   for each layer  z = x·W + b,  a = f(z)          (the thread's W·x + b, one row per sample)
    loss      L = mean over the batch of the per-sample loss
    backward  δ = ∂L/∂z, ∂L/∂W = xᵀ·δ, ∂L/∂b = Σ δ, and ∂L/∂x = δ·Wᵀ for the layer below
    penalties ∂L/∂W + 2λ₂W + λ₁·sign(W), then clipping to clip_norm (as configured)
    update    w_new = w_old − η·∂L/∂w  (for sgd; other optimizers their own rule, applied for real)
    after     the loss on the same batch with the new weights

The formulas printed come from the nn registries (each entry's ``formula``). Layers are numbered
from 0, as in weights.npz (``layers.0.weight``), `nncli summary`, `nncli weights` and the config's
``model.layers[0]``. Nothing is printed here; ``nncli/cli/explain.py`` renders the record.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UsageError

@dataclass
class LayerStep:
    """What one dense layer did in the step. Arrays in the network's dtype; x, z, a, delta are
    (n_batch, ·); W (fan_in, fan_out); b, db (fan_out,)."""

    index: int  # 0-based, as in weights.npz and model.layers[i]
    fan_in: int
    units: int
    activation: str
    formula: str  # a = f(z), from the activation registry
    derivative: str  # f'(z)
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
    trainer = Trainer.from_prepared(cfg, network, prepared)
    n = len(trainer.X)
    per_epoch = trainer.n_batches
    total = per_epoch * cfg.training.epochs
    if step > total:
        raise UsageError(f"{cfg.where('training', 'epochs')}: --step {step}: the config trains only {total} steps "
                         f"({cfg.training.epochs} epochs × {per_epoch} batches); choose --step {total} or less")
    if batch > n:
        raise UsageError(f"--batch {batch}: the training set has only {n} rows; use --batch {n} or less")
    if step > 1:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            trainer.run(max_steps=step - 1)
        taken = trainer.epoch * per_epoch + trainer.step_in_epoch
        if taken < step - 1:  # early stopping ended the training first
            raise UsageError(f"{cfg.where('training', 'early_stopping')}: --step {step}: early stopping ends this "
                             f"training after {taken} steps; choose --step {taken + 1} or less")
    epoch = trainer.epoch  # completed epochs (0-based index of the current one)
    trainer.start_epoch()  # the learning rate of the epoch the step belongs to

    Xb, yb, weights = trainer.first_rows(batch)
    layers = [LayerStep(i, l.fan_in, l.units, l.activation_name, l.activation.formula, l.activation.derivative,
                        l.dropout, x=None, W=l.W.copy(), b=l.b.copy(), z=None, a=None)
              for i, l in enumerate(network.layers)]

    def watch(stage: str) -> None:
        if stage == "backward":  # forward and backward are done: grads hold ∂L/∂θ of the data loss
            for i, (layer, rec) in enumerate(zip(network.layers, layers)):
                rec.x = np.array(layer.input)
                rec.z = rec.x @ rec.W + rec.b  # displayed as computed: z = x·W + b
                rec.a = np.array(network.layers[i + 1].input if i + 1 < len(layers) else trainer.output)
                rec.delta = layer.delta.copy()
                rec.dW, rec.db = layer.dW.copy(), layer.db.copy()
        else:  # "regularized": what the optimizer is about to use
            for layer, rec in zip(network.layers, layers):
                rec.gW, rec.gb = layer.dW.copy(), layer.db.copy()

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        total_loss = trainer.step(Xb, yb, weights, watch=watch)
    output = np.array(layers[-1].a)
    loss_before = float(total_loss) / batch
    for layer, rec in zip(network.layers, layers):
        rec.W_new, rec.b_new = layer.W.copy(), layer.b.copy()

    notes: list[str] = []
    tr = cfg.training
    if tr.l2:
        notes.append(f"∂L/∂W used for the update includes the L2 penalty: + 2λ·W (λ = {tr.l2:g}); biases have none")
    if tr.l1:
        notes.append(f"∂L/∂W used for the update includes the L1 penalty: + λ·sign(W) (λ = {tr.l1:g})")
    if tr.clip_norm is not None and trainer.grad_norm > tr.clip_norm:
        norm = trainer.grad_norm
        notes.append(f"the gradient's global norm {norm:.4g} exceeds clip_norm {tr.clip_norm:g}: "
                     f"it is scaled by {tr.clip_norm / norm:.4g} before the update")
    if any(l.dropout > 0 for l in network.layers):
        notes.append("dropout is active in this step (training mode); 'a' shows what the next layer receives")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss_after = float(trainer.forward_loss(Xb, yb, weights, training=False)) / batch
    if any(l.dropout > 0 for l in network.layers):
        notes.append("the loss after the step is measured without dropout (inference mode)")

    opt, loss, out_act, fused = trainer.optimizer, trainer.loss, network.output_activation, trainer.fused
    hyper = {k: v for k, v in tr.optimizer.model_dump().items() if k not in ("name", "learning_rate")}
    if fused:
        prob = "softmax" if loss.name == "cross_entropy" else "sigmoid"
        lg = (f"{loss.gradient} — {loss.name} fused with the {out_act} output"
              + (f" ({prob} of the logits)" if out_act == "linear" else "")
              + ": the activation's own derivative cancels")
    else:
        lg = loss.gradient
    return StepRecord(
        name=cfg.name, step=step, total_steps=total, epoch=epoch + 1, rows=list(range(batch)), n_train=n,
        input_names=pre.input_names, target_names=list(pre.targets), classes=pre.classes, task=pre.task,
        X=Xb, y=np.asarray(prepared.train.y[:batch]), loss_name=loss.name, loss_formula=loss.formula,
        loss_gradient=lg, fused=fused, output=output, loss_before=loss_before, loss_after=loss_after,
        optimizer=opt.variant, learning_rate=float(opt.learning_rate), update_rule=opt.update_rule,
        hyper=hyper, layers=layers, notes=notes, dtype=str(network.dtype),
    )
