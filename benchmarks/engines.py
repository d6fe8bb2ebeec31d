"""One runner per engine. Each takes a Job and its in-memory data and returns a Result.

``seconds`` is training only: nncli's ``run.seconds`` (its training loop), sklearn's ``fit``
(the closest it exposes), and PyTorch's epoch loop (model built before the clock starts).
``wall`` is a perf_counter around the whole call (for nncli: config validation, network init, loop).
``loss`` is the mean training loss over the last epoch (batch losses weighted by batch size),
in the nncli loss's own units (plain MSE for regression, mean log-loss for classification).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from .jobs import LINEAR, Job, nncli_config

PEER_INSTALL = {
    "sklearn": "pip install -e .[bench]  (or: pip install scikit-learn)",
    "torch": "pip install torch==2.13.0",
}


@dataclass
class Result:
    engine: str
    seconds: float | None = None
    wall: float | None = None
    loss: float | None = None
    skipped: str | None = None  # reason, when the engine could not run

    @property
    def ok(self) -> bool:
        return self.skipped is None and self.seconds is not None


class Skip(Exception):
    """The engine is unavailable or cannot express the job; the message says why / how to fix."""


# ----------------------------------------------------------------------------------------- nncli
def run_nncli(job: Job, X: np.ndarray, y: np.ndarray) -> Result:
    try:
        import nncli
    except ImportError as exc:  # pragma: no cover - the bench lives inside the nncli repo
        raise Skip(f"skipped (import nncli failed: {exc})") from exc
    if not callable(getattr(nncli, "train", None)):
        raise Skip("skipped (nncli.train not available yet)")
    cfg = nncli_config(job)
    t0 = time.perf_counter()
    run = nncli.train(cfg, data=(X, y), out=False, quiet=True)
    wall = time.perf_counter() - t0
    return Result("nncli", seconds=float(run.seconds), wall=wall, loss=float(run.history.train_loss[-1]))


# --------------------------------------------------------------------------------------- sklearn
def run_sklearn(job: Job, X: np.ndarray, y: np.ndarray) -> Result:
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier, MLPRegressor
    except ImportError as exc:
        raise Skip(f"skipped ({PEER_INSTALL['sklearn']})") from exc

    hidden = job.layers[:-1]
    acts = {a for _, a in hidden}
    if len(acts) != 1:
        raise Skip("skipped (sklearn needs one activation for all hidden layers)")
    act = {"relu": "relu", "tanh": "tanh", "sigmoid": "logistic", LINEAR: "identity"}[acts.pop()]
    out_units, out_act = job.layers[-1]
    opt = job.optimizer
    lr = float(opt["learning_rate"])
    if not job.classification:
        # sklearn's regression loss is 0.5*MSE, so its gradient is half of MSE's. Doubling the SGD
        # step makes each update identical to SGD on plain MSE (Adam is scale-invariant anyway).
        if out_act != LINEAR:
            raise Skip("skipped (sklearn regressors have a linear output)")
        if opt["name"] == "sgd":
            lr *= 2.0
    common = dict(
        hidden_layer_sizes=tuple(u for u, _ in hidden),
        activation=act,
        alpha=0.0,  # no L2
        batch_size=job.batch_size,
        learning_rate="constant",
        learning_rate_init=lr,
        max_iter=job.epochs,
        shuffle=True,
        random_state=job.seed,
        tol=0.0,
        n_iter_no_change=job.epochs + 1,  # never stop early
        early_stopping=False,
        verbose=False,
    )
    if opt["name"] == "sgd":
        common.update(solver="sgd", momentum=float(opt.get("momentum", 0.0)), nesterovs_momentum=False)
    elif opt["name"] == "adam":
        common.update(solver="adam", beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    else:
        raise Skip(f"skipped (sklearn has no {opt['name']} solver)")
    model = (MLPClassifier if job.classification else MLPRegressor)(**common)
    target = y if job.classification else y.ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: that is the point
        t0 = time.perf_counter()
        model.fit(X, target)
        secs = time.perf_counter() - t0
    loss = float(model.loss_curve_[-1])
    if not job.classification:
        loss *= 2.0  # 0.5*MSE -> MSE
    return Result("sklearn", seconds=secs, wall=secs, loss=loss)


# ----------------------------------------------------------------------------------------- torch
def run_torch(job: Job, X: np.ndarray, y: np.ndarray) -> Result:
    try:
        import torch
    except ImportError as exc:
        raise Skip(f"skipped ({PEER_INSTALL['torch']})") from exc
    from torch import nn

    t_wall = time.perf_counter()
    torch.set_num_threads(2)
    torch.manual_seed(job.seed)
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    mods: list = []
    sizes = job.sizes
    for i, (units, act) in enumerate(job.layers):
        mods.append(nn.Linear(sizes[i], units))
        last = i == len(job.layers) - 1
        if not last:
            mods.append(acts[act]())
    out_act = job.layers[-1][1]
    # The output activation is fused into the loss (same math, numerically stable).
    if job.loss == "cross_entropy" and out_act == "softmax":
        loss_fn = nn.CrossEntropyLoss()
        yt = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    elif job.loss == "binary_crossentropy" and out_act == "sigmoid":
        loss_fn = nn.BCEWithLogitsLoss()
        yt = torch.from_numpy(np.asarray(y, dtype=np.float32).reshape(-1, 1))
    elif job.loss == "mse" and out_act == LINEAR:
        loss_fn = nn.MSELoss()
        yt = torch.from_numpy(np.asarray(y, dtype=np.float32).reshape(len(y), -1))
    else:
        raise Skip(f"skipped (no torch mapping for {out_act} + {job.loss})")
    model = nn.Sequential(*mods).float()
    _init_like_nncli(torch, job, [m for m in mods if isinstance(m, nn.Linear)])
    opt = job.optimizer
    if opt["name"] == "sgd":
        optim = torch.optim.SGD(
            model.parameters(), lr=opt["learning_rate"], momentum=opt.get("momentum", 0.0), nesterov=False
        )
    elif opt["name"] == "adam":
        optim = torch.optim.Adam(model.parameters(), lr=opt["learning_rate"], betas=(0.9, 0.999), eps=1e-8)
    else:
        raise Skip(f"skipped (no torch mapping for optimizer {opt['name']})")
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    n, bs = len(Xt), job.batch_size
    gen = torch.Generator().manual_seed(job.seed)

    t0 = time.perf_counter()
    epoch_loss = 0.0
    for _ in range(job.epochs):
        perm = torch.randperm(n, generator=gen)
        total = torch.zeros(())
        for start in range(0, n, bs):
            idx = perm[start : start + bs]
            xb, yb = Xt[idx], yt[idx]
            optim.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optim.step()
            total += loss.detach() * len(idx)
        epoch_loss = float(total) / n
    secs = time.perf_counter() - t0
    return Result("torch", seconds=secs, wall=time.perf_counter() - t_wall, loss=epoch_loss)


def _init_like_nncli(torch, job: Job, linears: list) -> None:
    """Use nncli's default initialisation (each activation's default_initializer in
    nncli/nn/activations.py) instead of torch's, so the final-loss comparison measures the
    implementations, not init schemes: He-uniform for ReLU-family layers, Glorot-uniform otherwise,
    zero biases."""
    from nncli.nn import activations

    with torch.no_grad():
        for lin, (_, act) in zip(linears, job.layers):
            fan_out, fan_in = lin.weight.shape
            he = activations.REGISTRY.get(act).default_initializer == "he_uniform"
            limit = (6.0 / fan_in) ** 0.5 if he else (6.0 / (fan_in + fan_out)) ** 0.5
            lin.weight.uniform_(-limit, limit)
            lin.bias.zero_()


ENGINES = {"nncli": run_nncli, "sklearn": run_sklearn, "torch": run_torch}


def run_engine(name: str, job: Job, X: np.ndarray, y: np.ndarray) -> Result:
    try:
        return ENGINES[name](job, X, y)
    except Skip as exc:
        return Result(name, skipped=str(exc))
