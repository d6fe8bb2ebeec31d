"""The network as a table, like Keras' model.summary(): one row per dense layer with its input and
output shape, activation, dropout and parameter count (fan_in·units weights + units biases).

Layers are numbered from 0, as everywhere in nncli: weights.npz (``layers.0.weight``), the config's
``model.layers[0]``, `nncli weights`, `nncli explain` and `nncli gradcheck`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LayerRow:
    index: int
    kind: str
    input_shape: tuple
    output_shape: tuple
    activation: str
    dropout: float
    weights: int
    biases: int

    @property
    def params(self) -> int:
        return self.weights + self.biases


def layer_rows(cfg, n_inputs: int) -> list[LayerRow]:
    rows, fan_in = [], n_inputs
    for i, layer in enumerate(cfg.model.layers):
        rows.append(LayerRow(i, "Dense", (None, fan_in), (None, layer.units), layer.activation, layer.dropout,
                             fan_in * layer.units, layer.units))
        fan_in = layer.units
    return rows


def shape_text(shape: tuple) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def plain_table(title: str, rows: list[LayerRow]) -> str:
    """The table as aligned plain text (for pipes and files)."""
    header = ["layer", "type", "input shape", "output shape", "activation", "dropout", "params"]
    body = [[str(r.index), r.kind, shape_text(r.input_shape), shape_text(r.output_shape), r.activation,
             f"{r.dropout:g}", f"{r.params:,}"] for r in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    right = {0, 5, 6}

    def fmt(cells):
        return "  ".join(c.rjust(w) if j in right else c.ljust(w) for j, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * len(fmt(header))
    total = sum(r.params for r in rows)
    lines = [title, rule, fmt(header), rule, *(fmt(b) for b in body), rule,
             f"Total params: {total:,} ({sum(r.weights for r in rows):,} weights, {sum(r.biases for r in rows):,} biases)"]
    return "\n".join(lines) + "\n"
