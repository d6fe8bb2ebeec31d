"""What a trained network learned, for `nncli weights RUN_DIR`.

Every layer's W (inputs × units) and b. For the thread's first steps — one linear neuron,
ŷ = Σ wᵢxᵢ + b — the weights are also given in the data's own units (undoing the feature scaling
fitted at training: x' = (x − offset)/scale, so wᵢ = w'ᵢ/scaleᵢ and b = b' − Σ w'ᵢ·offsetᵢ/scaleᵢ), next
to the generating values when the data came from the `line` or `linear` generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Coefficient:
    name: str  # e.g. "m (weight of x)", "w2 (weight of x2)", "c (bias)"
    learned: float
    true: float | None = None


@dataclass
class WeightsReport:
    name: str
    layers: list[tuple[str, int, int, np.ndarray, np.ndarray]]  # (activation, fan_in, units, W, b)
    input_names: list[str]
    coefficients: list[Coefficient] = field(default_factory=list)  # single linear neuron only
    source: str = ""  # where the true values come from


def weights_report(run) -> WeightsReport:
    net, pre, cfg = run.network, run.preprocessor, run.config
    layers = [(l.activation_name, l.fan_in, l.units, l.W.copy(), l.b.copy()) for l in net.layers]
    report = WeightsReport(cfg.name, layers, pre.input_names)
    if len(net.layers) == 1 and net.layers[0].activation_name == "linear" and net.layers[0].units == 1 \
            and pre.task == "regression":
        W, b = net.layers[0].W[:, 0].astype(np.float64), float(net.layers[0].b[0])
        offset, scale = np.asarray(pre.offset), np.asarray(pre.scale)
        w_raw = W / scale
        b_raw = b - float(np.sum(W * offset / scale))
        gen = cfg.data.generator
        true_w: list[float | None] = [None] * len(W)
        true_b = None
        if gen is not None and gen.name == "line":
            true_w, true_b = [gen.slope], gen.intercept
            report.source = f"generator line: y = {gen.slope:g}·x + {gen.intercept:g} + noise"
        elif gen is not None and gen.name == "linear":
            true_w, true_b = list(gen.weights), gen.bias
            report.source = "generator linear: y = " + " + ".join(
                f"{w:g}·x{i + 1}" for i, w in enumerate(gen.weights)) + f" + {gen.bias:g} + noise"
        one = len(W) == 1
        for i, name in enumerate(pre.input_names):
            label = f"m (weight of {name})" if one else f"w{i + 1} (weight of {name})"
            report.coefficients.append(Coefficient(label, float(w_raw[i]), true_w[i] if i < len(true_w) else None))
        report.coefficients.append(Coefficient("c (bias)" if one else "b (bias)", b_raw, true_b))
    return report
