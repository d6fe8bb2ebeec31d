"""nncli explain CONFIG: one training step in the thread's notation, with the real numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List

import typer

from .common import reporting


def explain_command(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="YAML config file.", show_default=False)],
    step: Annotated[int, typer.Option("--step", metavar="N", help="Explain step N (after N−1 real training steps).")] = 1,
    batch: Annotated[int, typer.Option("--batch", metavar="K", help="Use the first K training rows as the batch.")] = 4,
    set_: Annotated[List[str], typer.Option("--set", metavar="KEY=VALUE",
                                            help="Override a config key, as in nncli train (repeatable).")] = [],
) -> None:
    """Show one training step: z = W·x + b and a = f(z) per layer, the loss, ∂L/∂W and ∂L/∂b, the update."""
    with reporting():
        from ..config.schema import load_config
        from ..inspect.explain import explain_step
        from .render import Out

        cfg = load_config(config, list(set_))
        record = explain_step(cfg, step=step, batch=batch)
        render(record, Out())


def render(r, out) -> None:
    from .render import num, scalar

    sizes = " → ".join([str(r.layers[0].fan_in)] + [f"{l.units} {l.activation}" for l in r.layers])
    out.title(f"explain {r.name}: training step {r.step} of {r.total_steps} (epoch {r.epoch}) "
              f"on a batch of the first {len(r.rows)} training rows (of {r.n_train})")
    out.line(f"network {sizes} · loss {r.loss_name} · optimizer {r.optimizer}, η = {num(r.learning_rate)} · {r.dtype}",
             indent=0)
    if r.step > 1:
        out.note(f"the weights below are those after {r.step - 1} real training step(s)", indent=0)

    out.section("Batch: inputs x (one row per sample) and targets y")
    out.value(f"x  [columns: {', '.join(r.input_names)}]", r.X)
    if r.task == "classification":
        labels = ", ".join(f"{i} = {c}" for i, c in enumerate(r.classes))
        out.value(f"y  [class index: {labels}]", r.y)
    else:
        out.value(f"y  [columns: {', '.join(r.target_names)}]", r.y)

    out.section("Forward: each layer computes z = W·x + b, then a = f(z)")
    out.note("with a batch, one row per sample: z = x·W + b, W is (inputs × units)")
    for l in r.layers:
        out.line(f"layer {l.index}: {l.fan_in} → {l.units}, {l.activation} ({l.formula})"
                 + (f", dropout {l.dropout:g}" if l.dropout else ""), indent=2)
        if l.index > 0:
            out.note(f"x = a of layer {l.index - 1}", indent=4)
        out.value("W", l.W, indent=4)
        out.value("b", l.b, indent=4)
        out.value("z = x·W + b", l.z, indent=4)
        if l.activation == "linear" and not l.dropout:
            out.line("a = linear(z) = z", indent=4)
        else:
            out.value(f"a = {l.activation}(z)", l.a, indent=4)
    out.line(f"output ŷ = a of layer {r.layers[-1].index}", indent=2)

    out.section(f"Loss: {r.loss_name}")
    out.line(r.loss_formula, indent=2)
    out.line(f"L = {num(r.loss_before)}", "title", indent=2)

    out.section("Backward: δ = ∂L/∂z, then ∂L/∂W = xᵀ·δ and ∂L/∂b = Σ δ; δ·Wᵀ is ∂L/∂a of the layer below")
    out.line(f"output: {r.loss_gradient}", indent=2)
    last = r.layers[-1].index
    for l in reversed(r.layers):
        d = l.derivative
        out.line(f"layer {l.index}:", indent=2)
        if l.index == last and r.fused:
            how = "δ = ∂L/∂z (fused, above)"
        elif l.index == last:
            how = f"δ = ∂L/∂ŷ ⊙ f'(z), {d}"
        else:
            how = f"δ = (δ of layer {l.index + 1} · W{l.index + 1}ᵀ) ⊙ f'(z), {d}"
        out.value(how, l.delta, indent=4)
        out.value("∂L/∂W = xᵀ·δ", l.dW, indent=4)
        out.value("∂L/∂b = Σ δ (over the batch)", l.db, indent=4)
    for n in r.notes:
        if "∂L/∂W used" in n or "clip_norm" in n:
            out.note(n)

    shown = {k: v for k, v in r.hyper.items() if not (k in ("momentum", "nesterov") and not v)}
    hyper = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items())
    out.section(f"Update ({r.optimizer}, η = {num(r.learning_rate)}{', ' + hyper if hyper else ''}): {r.update_rule}")
    for l in r.layers:
        out.line(f"layer {l.index}:", indent=2)
        for name, old, g, new in (("W", l.W, l.gW, l.W_new), ("b", l.b, l.gb, l.b_new)):
            if r.plain_sgd:
                label = f"{name}_new = {name} − η·∂L/∂{name}"
                if old.size == 1:
                    out.line(f"{label} = {scalar(old)} − {num(r.learning_rate)} × ({scalar(g)}) = {scalar(new)}",
                             indent=4)
                else:
                    out.value(label, new, indent=4)
            else:
                out.value(f"{name}_new", new, indent=4)
                if old.size > 1:
                    import numpy as np

                    out.note(f"‖{name}_new − {name}‖ = {num(np.linalg.norm((new - old).astype(np.float64)))}", indent=6)

    out.section("After the step")
    change = r.loss_after - r.loss_before
    out.line(f"loss on the same batch: L = {num(r.loss_after)} (was {num(r.loss_before)}, change {num(change)})",
             "good" if change < 0 else "bad", indent=2)
    for n in r.notes:
        if not ("∂L/∂W used" in n or "clip_norm" in n):
            out.note(n)
