"""Where a training step's time goes (issue #16): nncli's own Trainer loop, timed phase by phase.

Nothing in nncli is changed: the benchmark builds the Trainer the way ``nncli.train`` does and wraps,
from outside, the calls the loop makes — ``np.dot`` as seen by nncli/nn/layers.py (the matrix
products: z = xW, dW = xᵀδ, db = 1ᵀδ, dx = δWᵀ), each layer's activation forward/backward, the
loss call, ``optimizer.step``, ``np.take`` as seen by nncli/training.py (the shuffled batch gather
and the per-epoch target shuffle), and the network's forward/backward as a whole. What forward +
backward spend outside products and activations is the bias add and the per-layer Python; what the
loop spends outside every wrapped call is the loop's own Python and the per-epoch train metrics.

Each wrapped call costs two perf_counter reads (about 0.1 µs each), so the instrumented run is a
little slower than a plain one; the table shows both totals.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from . import floor, jobs
from .jobs import nncli_config

PHASES = (
    ("products", "products (np.dot: xW, xᵀδ, 1ᵀδ, δWᵀ)"),
    ("activations", "activations (forward + derivative)"),
    ("layer_rest", "bias add + per-layer Python"),
    ("loss", "loss (fused output delta)"),
    ("optimizer", "optimizer step"),
    ("batching", "batching (gather rows, shuffle targets)"),
    ("loop_rest", "loop Python + epoch metrics"),
)


class _Timed:
    """A callable that adds its wall time to ``acc[key]``."""

    def __init__(self, fn, acc: dict, key: str):
        self.fn, self.acc, self.key = fn, acc, key

    def __call__(self, *a, **kw):
        t0 = time.perf_counter()
        try:
            return self.fn(*a, **kw)
        finally:
            self.acc[self.key] += time.perf_counter() - t0


class _NumpyProxy:
    """Stands in for ``np`` inside one nncli module: named functions timed, the rest passed through."""

    def __init__(self, acc: dict, timed: dict[str, str]):
        for name, key in timed.items():
            setattr(self, name, _Timed(getattr(np, name), acc, key))

    def __getattr__(self, name):
        return getattr(np, name)


class _TimedActivation:
    def __init__(self, act, acc: dict):
        self._act = act
        self.forward = _Timed(act.forward, acc, "activations")
        self.backward = _Timed(act.backward, acc, "activations")

    def __getattr__(self, name):  # needs_z, name, ...
        return getattr(self._act, name)


class _TimedLoss:
    def __init__(self, loss, acc: dict):
        self._loss = loss
        self._call = _Timed(loss.__call__, acc, "loss")

    def __call__(self, *a, **kw):
        return self._call(*a, **kw)

    def __getattr__(self, name):  # prepare_targets, fuses_with, ...
        return getattr(self._loss, name)


def _trainer(job: jobs.Job, X, y):
    """A Trainer built as nncli.train builds it (config, preprocessing, seeded init)."""
    from nncli.api import build_network, prepare_checked
    from nncli.seeding import Stream, rng
    from nncli.training import Trainer

    cfg, prepared = prepare_checked(nncli_config(job), data=(X, y))
    pre = prepared.preprocessor
    net = build_network(cfg, pre.n_inputs, rng(cfg.seed, Stream.INIT))
    n_classes = len(pre.classes) if pre.task == "classification" else None
    return Trainer(cfg, net, prepared.train.X, prepared.train.y, n_classes=n_classes)


def profile_job(job: jobs.Job) -> dict:
    """Seconds per phase over the whole run of ``job``, plus plain and instrumented totals."""
    import nncli.nn.layers as layers_mod
    import nncli.training as training_mod

    X, y = jobs.make_data(job)
    _trainer(job.with_(n_samples=min(job.n_samples, 4 * job.batch_size), epochs=1), X[:4 * job.batch_size],
             y[:4 * job.batch_size]).run()  # warm: lazy imports, BLAS threads
    plain = _trainer(job, X, y)
    plain.run()
    acc: dict[str, float] = defaultdict(float)
    tr = _trainer(job, X, y)
    net = tr.network
    for layer in net.layers:
        layer.activation = _TimedActivation(layer.activation, acc)
    net.forward = _Timed(net.forward, acc, "forward")
    net.backward = _Timed(net.backward, acc, "backward")
    tr.optimizer.step = _Timed(tr.optimizer.step, acc, "optimizer")
    tr.loss = _TimedLoss(tr.loss, acc)
    saved = layers_mod.np, training_mod.np
    layers_mod.np = _NumpyProxy(acc, {"dot": "products"})
    training_mod.np = _NumpyProxy(acc, {"take": "batching"})
    try:
        tr.run()
    finally:
        layers_mod.np, training_mod.np = saved
    total = tr.seconds
    phases = {
        "products": acc["products"],
        "activations": acc["activations"],
        "layer_rest": acc["forward"] + acc["backward"] - acc["products"] - acc["activations"],
        "loss": acc["loss"],
        "optimizer": acc["optimizer"],
        "batching": acc["batching"],
    }
    phases["loop_rest"] = total - (acc["forward"] + acc["backward"] + acc["loss"] + acc["optimizer"]
                                   + acc["batching"])
    steps = job.steps_per_epoch * job.epochs
    return {"steps": steps, "plain_s": plain.seconds, "instrumented_s": total, "phases_s": phases,
            "floor_step_s": floor.gemm_step_seconds(job)}


def profile_jobs(quick: bool) -> dict[str, jobs.Job]:
    if quick:
        return {"big": jobs.big(n_samples=5000, epochs=1), "tanh": jobs.tanh(n_samples=5000, epochs=1)}
    return {"big": jobs.big(epochs=1), "tanh": jobs.tanh(epochs=2)}


def section(out, quick: bool) -> dict:
    """Profile each job and print one table: µs per step and share of the step, per phase."""
    from .report import Table

    record = {}
    cols = ["phase"]
    for name, job in profile_jobs(quick).items():
        record[name] = profile_job(job)
        cols += [f"{name} µs/step", f"{name} %"]
    t = Table("Per-phase profile of one training step (nncli's Trainer, calls wrapped from outside)", cols)
    names = list(record)

    def per_step(name, secs):
        return f"{secs / record[name]['steps'] * 1e6:.1f}"

    for key, label in PHASES:
        row = [label]
        for n in names:
            r = record[n]
            row += [per_step(n, r["phases_s"][key]), f"{100 * r['phases_s'][key] / r['instrumented_s']:.0f}%"]
        t.add(*row)
    row = ["total, instrumented"]
    for n in names:
        row += [per_step(n, record[n]["instrumented_s"]), "100%"]
    t.add(*row)
    row = ["total, plain run (no wrappers)"]
    for n in names:
        row += [per_step(n, record[n]["plain_s"]), ""]
    t.add(*row)
    row = ["GEMM floor, one fresh full batch"]
    for n in names:
        r = record[n]
        row += [f"{r['floor_step_s'] * 1e6:.1f}", f"{100 * r['floor_step_s'] * r['steps'] / r['instrumented_s']:.0f}%"]
    t.add(*row)
    jl = profile_jobs(quick)
    t.note = "; ".join(
        f"{n}: {'-'.join(map(str, j.sizes))} {j.layers[0][1]}, batch {j.batch_size}, {j.optimizer['name']}, "
        f"{j.n_samples} samples x {j.epochs} ep = {record[n]['steps']} steps" for n, j in jl.items())
    out.table(t)
    return record
