"""A run's whole prediction path as one ONNX model: `nncli export RUN_DIR OUT.onnx`.

The graph takes the raw feature columns `nncli predict` takes and does what Run.predict does:

    numeric   float [N, n_numeric]  -> NaN filled with the training means (data.missing: mean)
                                    -> (x − offset) / scale                  (in float64, as nncli)
    <column>  string [N, 1] each    -> one-hot over the training categories (ai.onnx.ml OneHotEncoder;
                                       an unseen category is an error, as in nncli predict)
    -> columns put in the network's input order -> dense layers (the run's dtype) ->
    probabilities [N, n_classes] + label [N]      (classification, classes in the run's order)
    values [N, n_targets]                         (regression)

Numeric columns come in the order of preprocessing.json's features (categorical ones left out);
the model's metadata names them (``nncli.numeric_columns``, JSON) with the categories of each string
input, the classes and the task, so a deployment needs no nncli. The `onnx` package is an optional
extra (nncli.extras: onnx); it is imported here, lazily.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from . import __version__
from .errors import UsageError

OPSET = 17  # ai.onnx; onnxruntime ≥ 1.14 runs it
ML_OPSET = 3  # ai.onnx.ml (OneHotEncoder)
NUMERIC_INPUT = "numeric"


def _onnx():
    from .extras import require

    onnx = require("onnx", "onnx", "nncli export")
    from onnx import helper, numpy_helper

    return onnx, helper, numpy_helper


class _Graph:
    """Nodes and constants of one graph, with fresh names."""

    def __init__(self, helper, numpy_helper):
        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes, self.initializers = [], []
        self._n = 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        name = self.name(hint)
        self.initializers.append(self.numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, hint: str | None = None, output: str | None = None,
           domain: str | None = None, **attrs) -> str:
        out = output or self.name(hint or op_type.lower())
        kw = {"domain": domain} if domain else {}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], **kw, **attrs))
        return out


def _activation(g: _Graph, name: str, z: str, dtype) -> str:
    """f(z) as ONNX ops, written as nncli's NumPy forward computes it (nn/activations.py)."""
    c = lambda v: g.const(np.asarray(v, dtype))  # noqa: E731 - scalars in the layer's dtype
    if name == "linear":
        return z
    if name == "sigmoid":  # σ(z) = ½(1 + tanh(z/2)), as nncli computes it (no e^-z to overflow)
        return _sigmoid(g, z, c)
    if name == "tanh":
        return g.op("Tanh", z)
    if name == "relu":
        return g.op("Relu", z)
    if name == "leaky_relu":  # max(z, αz), α = 0.01
        return g.op("Max", z, g.op("Mul", z, c(0.01)))
    if name == "elu":  # z for z > 0, e^z − 1 otherwise (α = 1)
        neg = g.op("Sub", g.op("Exp", g.op("Min", z, c(0.0))), c(1.0))
        return g.op("Where", g.op("Greater", z, c(0.0)), z, neg)
    if name == "softplus":  # ln(1 + e^z) = max(z, 0) + ln(1 + e^−|z|), finite for any z
        tail = g.op("Log", g.op("Add", c(1.0), g.op("Exp", g.op("Neg", g.op("Abs", z)))))
        return g.op("Add", g.op("Max", z, c(0.0)), tail)
    if name == "silu":  # z·σ(z)
        return g.op("Mul", z, _sigmoid(g, z, c))
    if name == "gelu":  # ½z(1 + tanh(√(2/π)(z + 0.044715 z³)))
        cube = g.op("Mul", g.op("Mul", z, z), z)
        inner = g.op("Mul", c(math.sqrt(2.0 / math.pi)), g.op("Add", z, g.op("Mul", c(0.044715), cube)))
        return g.op("Mul", g.op("Mul", c(0.5), z), g.op("Add", c(1.0), g.op("Tanh", inner)))
    if name == "softmax":
        return g.op("Softmax", z, axis=-1)
    raise UsageError(f"activation {name!r} has no ONNX form in nncli export; "
                     f"add it to nncli/onnx_export.py:_activation")


def _sigmoid(g: _Graph, z: str, c) -> str:
    t = g.op("Tanh", g.op("Mul", z, c(0.5)))
    return g.op("Add", g.op("Mul", t, c(0.5)), c(0.5))


def _class_tensor(classes: list) -> np.ndarray:
    """The run's class labels as one tensor: int64 when all are integers, float64 when all are
    numbers, text otherwise (as preprocessing.json holds them)."""
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return np.asarray(classes, np.int64)
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes):
        return np.asarray(classes, np.float64)
    return np.asarray([str(c) for c in classes], dtype=object)


def build_model(run):
    """The onnx ModelProto of a loaded Run (nncli.load_run): preprocessing, network, outputs."""
    onnx, helper, numpy_helper = _onnx()
    from onnx import TensorProto

    pre, net = run.preprocessor, run.network
    dtype = np.dtype(net.dtype)
    elem = TensorProto.FLOAT if dtype == np.float32 else TensorProto.DOUBLE
    g = _Graph(helper, numpy_helper)
    numeric = [f for f in pre.features if f not in pre.categories]
    categorical = [f for f in pre.features if f in pre.categories]
    inputs = []

    # -- preprocessing: the numeric block, then one-hot blocks, then one Gather into input order
    blocks, order = [], []  # order: for each block column, its feature name (one-hot: name=cat)
    names = pre.input_names
    offset = np.asarray(pre.offset, np.float64)
    scale = np.asarray(pre.scale, np.float64)
    if numeric:
        inputs.append(helper.make_tensor_value_info(NUMERIC_INPUT, TensorProto.FLOAT, ["N", len(numeric)]))
        inputs[-1].doc_string = "raw numeric feature columns, in this order: " + ", ".join(numeric)
        x = g.op("Cast", NUMERIC_INPUT, to=TensorProto.DOUBLE)  # nncli preprocesses in float64
        if any(f in pre.fill for f in numeric):
            # A column without a fill value keeps NaN (nncli predict refuses such a row instead).
            fill = np.asarray([pre.fill.get(f, np.nan) for f in numeric], np.float64)
            x = g.op("Where", g.op("IsNaN", x), g.const(fill, "fill"), x, hint="filled")
        idx = [names.index(f) for f in numeric]
        if offset[idx].any():
            x = g.op("Sub", x, g.const(offset[idx], "offset"))
        if (scale[idx] != 1).any():
            x = g.op("Div", x, g.const(scale[idx], "scale"))
        blocks.append(g.op("Cast", x, to=elem))
        order += numeric
    for f in categorical:
        cats = [str(c) for c in pre.categories[f]]
        inputs.append(helper.make_tensor_value_info(f, TensorProto.STRING, ["N", 1]))
        inputs[-1].doc_string = f"raw text column {f!r}; one of: " + ", ".join(cats)
        onehot = g.op("OneHotEncoder", f, domain="ai.onnx.ml", cats_strings=cats, zeros=0)  # [N, 1, K]
        onehot = g.op("Squeeze", onehot, g.const(np.asarray([1], np.int64), "axes"))
        blocks.append(g.op("Cast", onehot, to=elem))
        order += [f"{f}={c}" for c in pre.categories[f]]
    x = blocks[0] if len(blocks) == 1 else g.op("Concat", *blocks, axis=1)
    perm = [order.index(n) for n in names]
    if perm != list(range(len(perm))):
        x = g.op("Gather", x, g.const(np.asarray(perm, np.int64), "perm"), axis=1, hint="inputs")

    # -- the network: z = x·W + b, a = f(z), layer by layer
    for i, (layer, spec) in enumerate(zip(net.layers, net.specs)):
        z = g.op("Gemm", x, g.const(layer.W.astype(dtype), f"layers.{i}.weight"),
                 g.const(layer.b.astype(dtype), f"layers.{i}.bias"), hint=f"z{i}")
        x = _activation(g, spec.activation, z, dtype)
    out = x

    # -- outputs in the run's class order
    outputs = []
    if pre.task == "classification":
        loss = run.config.training.loss.name
        act = net.output_activation
        c = lambda v: g.const(np.asarray(v, dtype))  # noqa: E731
        if loss == "binary_crossentropy":
            if act == "sigmoid":
                p1 = out
                positive = g.op("Greater", out, c(0.5))
            else:  # a logit: σ as nncli's probabilities() computes it, label from the sign
                clipped = g.op("Clip", out, c(-88.0), c(88.0))
                p1 = g.op("Reciprocal", g.op("Add", c(1.0), g.op("Exp", g.op("Neg", clipped))))
                positive = g.op("Greater", out, c(0.0))
            proba = g.op("Concat", g.op("Sub", c(1.0), p1), p1, axis=1)
            index = g.op("Squeeze", g.op("Cast", positive, to=TensorProto.INT64),
                         g.const(np.asarray([1], np.int64), "axes"))
        else:
            proba = out if act == "softmax" else g.op("Softmax", out, axis=-1)
            index = g.op("ArgMax", out, axis=1, keepdims=0)  # the first maximum, as NumPy's argmax
        g.op("Cast", proba, to=TensorProto.FLOAT, output="probabilities")
        classes = _class_tensor(pre.classes)
        g.op("Gather", g.const(classes, "classes"), index, axis=0, output="label")
        label_elem = {np.dtype(np.int64): TensorProto.INT64, np.dtype(np.float64): TensorProto.DOUBLE}.get(
            classes.dtype, TensorProto.STRING)
        outputs.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(pre.classes)]))
        outputs[-1].doc_string = "class probabilities, columns in this order: " + ", ".join(map(str, pre.classes))
        outputs.append(helper.make_tensor_value_info("label", label_elem, ["N"]))
        outputs[-1].doc_string = "the predicted class, as nncli predict prints it"
    else:
        g.op("Cast", out, to=TensorProto.FLOAT, output="values")
        outputs.append(helper.make_tensor_value_info("values", TensorProto.FLOAT, ["N", len(pre.targets)]))
        outputs[-1].doc_string = "predicted values, columns in this order: " + ", ".join(pre.targets)

    graph = helper.make_graph(g.nodes, f"nncli_{run.config.name}", inputs, outputs, g.initializers)
    model = helper.make_model(graph, producer_name="nncli", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", OPSET),
                                             helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime releases of the last years
    model.doc_string = (f"nncli run {run.config.name}: raw feature columns in, "
                        + ("class probabilities and labels" if pre.task == "classification" else "values") + " out")
    helper.set_model_props(model, {
        "nncli.task": pre.task,
        "nncli.numeric_input": NUMERIC_INPUT if numeric else "",
        "nncli.numeric_columns": json.dumps(numeric),
        "nncli.categorical_columns": json.dumps({f: [str(c) for c in pre.categories[f]] for f in categorical}),
        "nncli.fill": json.dumps({f: pre.fill[f] for f in numeric if f in pre.fill}),
        "nncli.classes": json.dumps(pre.classes),
        "nncli.targets": json.dumps(pre.targets),
        "nncli.outputs": json.dumps([o.name for o in outputs]),
    })
    onnx.checker.check_model(model)
    return model


def export_run(run_dir: str | Path, out: str | Path) -> dict:
    """Load a run, write its ONNX model to ``out`` atomically; returns a short description."""
    _onnx()  # before loading the run: a missing extra is the first thing to say
    from .api import load_run
    from .run.files import write_bytes_atomic

    out = Path(out)
    if out.is_dir():
        raise UsageError(f"{out}: is a directory; give the .onnx file to write, e.g. {out / 'model.onnx'}")
    if not out.parent.is_dir():
        raise UsageError(f"{out}: the folder {out.parent} does not exist; create it or choose another path")
    run = load_run(run_dir)
    model = build_model(run)
    data = model.SerializeToString()
    try:
        write_bytes_atomic(out, data)  # a temporary name, renamed when complete: nothing half-written
    except OSError as exc:
        raise UsageError(f"{out}: cannot write ({exc.strerror}); check the folder is writable") from None
    pre = run.preprocessor
    return {
        "path": str(out), "bytes": len(data), "task": pre.task,
        "inputs": [i.name for i in model.graph.input], "outputs": [o.name for o in model.graph.output],
        "numeric_columns": [f for f in pre.features if f not in pre.categories],
        "categorical_columns": [f for f in pre.features if f in pre.categories],
    }
