"""The training loop: shuffle once per epoch, slice batches, forward, loss, backward, step.

The loop owns no I/O: it reports through callbacks (progress, checkpoints) and returns a History.
Everything random comes from generators seeded from the config's one seed, and the whole state
(weights, optimizer, schedule, generators, position in the epoch) can be captured with
``state()`` and put back with ``restore()``, so an interrupted run resumes bit-exactly.
"""

from __future__ import annotations

import io
import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import metrics as M
from .errors import DivergedError
from .nn import losses, optimizers, schedules
from .nn.network import Network


@dataclass
class History:
    """One row per epoch: epoch, train_loss, [val_loss], train_<metric>, [val_<metric>], lr, seconds."""

    columns: dict[str, list[float]] = field(default_factory=dict)

    def append(self, row: dict[str, float]) -> None:
        for key in row:
            self.columns.setdefault(key, [])
        for key, values in self.columns.items():
            values.append(row.get(key, float("nan")))

    def __len__(self) -> int:
        return len(self.columns.get("epoch", []))

    @property
    def train_loss(self) -> list[float]:
        return self.columns.get("train_loss", [])

    @property
    def val_loss(self) -> list[float]:
        return self.columns.get("val_loss", [])

    def last(self) -> dict[str, float]:
        return {k: v[-1] for k, v in self.columns.items() if v}

    def to_csv(self) -> str:
        buf = io.StringIO()
        names = list(self.columns)
        buf.write(",".join(names) + "\n")
        for i in range(len(self)):
            cells = []
            for n in names:
                v = self.columns[n][i]
                cells.append(str(int(v)) if n == "epoch" else repr(float(v)))
            buf.write(",".join(cells) + "\n")
        return buf.getvalue()


class Callback:
    def on_train_begin(self, trainer: "Trainer") -> None: ...
    def on_epoch_end(self, trainer: "Trainer", row: dict[str, float]) -> None: ...
    def on_train_end(self, trainer: "Trainer") -> None: ...


def make_optimizer(cfg, network: Network):
    o = cfg.training.optimizer
    hyper = o.model_dump(exclude={"name"})
    if o.name == "adamw":
        hyper["decay"] = slice(0, network.n_weights)  # weights only, never biases
    return optimizers.get(o.name, network.n_params, dtype=network.dtype, **hyper)


def make_schedule(cfg):
    s = cfg.training.schedule
    return schedules.get(s.name, cfg.training.optimizer.learning_rate, cfg.training.epochs, **s.model_dump(exclude={"name"}))


def make_loss(cfg):
    spec = cfg.training.loss
    return losses.get(spec.name, **spec.model_dump(exclude={"name"}))


class Trainer:
    """Trains ``network`` on (X, y) as the config says.

    X (n_samples, n_inputs) float; y int class indices (n_samples,) or float (n_samples, n_outputs).
    ``class_weights`` (n_classes,) turns into per-sample weights for the loss.

    ``step()`` is one whole training step on one batch; ``run()`` is the loop around it (epochs,
    shuffling, metrics, callbacks, stopping, the state a checkpoint needs). `nncli explain` and
    `nncli gradcheck` call the same ``step()`` / ``forward_loss()`` / ``backward()``.
    """

    def __init__(self, cfg, network: Network, X, y, *, validation=None, class_weights=None,
                 callbacks: list[Callback] | None = None, n_classes: int | None = None):
        from .seeding import Stream, rng as seeded_rng

        self.cfg, self.network = cfg, network
        self.X, self.y = X, y
        self.validation = validation
        self.n_classes = n_classes
        self.class_weights = None if class_weights is None else np.asarray(class_weights, network.dtype)
        self.callbacks = callbacks or []
        self.loss = make_loss(cfg)
        self.optimizer = make_optimizer(cfg, network)
        self.schedule = make_schedule(cfg)
        self.shuffle_rng = seeded_rng(cfg.seed, Stream.SHUFFLE)
        self.network.dropout_rng = seeded_rng(cfg.seed, Stream.DROPOUT)
        self.metric_names = cfg.metrics_tracked()
        self.history = History()
        self.epoch = 0  # completed epochs
        self.step_in_epoch = 0  # completed batches of the current (unfinished) epoch
        self.stop_signal: int | None = None  # set by a signal handler: stop after this batch
        self.stopped_early = False
        es = cfg.training.early_stopping
        self._es_best: float | None = None
        self._es_wait = 0
        self._best_params: np.ndarray | None = None
        self._best_epoch = 0
        self._epoch_start_shuffle_state = None
        self._loss_sum = np.float64(0)
        self._seen = 0
        self._epoch_seconds = 0.0
        self.seconds = 0.0
        self.fused = self.loss.fuses_with(network.output_activation)
        self._es = es
        n = len(X)
        self.batch_size = cfg.training.batch_size_for(n)
        self.n_batches = math.ceil(n / self.batch_size)
        self._restored_preds = None  # partial_preds of a restored checkpoint, put back by run()
        self._partial_preds = None  # outputs of the batches done when a stop signal ended an epoch early
        # What every step reuses, so a step allocates no array: targets converted once, the
        # per-sample weights, ∂L/∂(output) per batch size, the penalty scratch, the weights' views.
        self.targets = self.loss.prepare_targets(y, network.dtype)
        self.sample_weights = None if self.class_weights is None else self.class_weights[y]
        tr = cfg.training
        nw = network.n_weights
        self._l1, self._l2x2, self._clip = tr.l1, 2.0 * tr.l2, tr.clip_norm
        self._penalty_tmp = np.empty(nw, network.dtype) if (tr.l1 or tr.l2) else None
        self._weights, self._weight_grads = network.params[:nw], network.grads[:nw]
        self._deltas: dict[int, np.ndarray] = {}
        self.output: np.ndarray | None = None  # the network output of the last forward_loss (a reused buffer)
        self.delta: np.ndarray | None = None  # its ∂L/∂(output), or ∂L/∂z of the output layer when fused
        self.grad_norm: float | None = None  # ‖g‖ measured by the last regularize() (with clip_norm only)

    @classmethod
    def from_prepared(cls, cfg, network: Network, checked, *, callbacks: list[Callback] | None = None) -> "Trainer":
        """The trainer `nncli train` uses for checked data (data.checks.CheckedData): its training
        split, validation split, class count and class weights."""
        validation = (checked.validation.X, checked.validation.y) if checked.validation is not None else None
        return cls(cfg, network, checked.train.X, checked.train.y, validation=validation,
                   class_weights=checked.class_weights, callbacks=callbacks, n_classes=checked.n_classes)

    # ------------------------------------------------------------------ one step
    def forward_loss(self, X_batch: np.ndarray, y_batch: np.ndarray, sample_weights: np.ndarray | None = None,
                     *, training: bool = True) -> np.float64:
        """Forward pass of X_batch (n, n_inputs) and the loss against y_batch (prepared targets, as
        ``self.targets``), with optional per-sample weights (n,). Returns the batch's loss sum
        (float64); leaves the output (n, n_outputs) in ``self.output`` and ∂L/∂(output) of the batch
        mean in ``self.delta`` (∂L/∂z when the loss is fused with the output activation)."""
        out = self.network.forward(X_batch, training=training)
        n = out.shape[0]
        delta = self._deltas.get(n)
        if delta is None:
            delta = self._deltas[n] = np.empty_like(out)
        self.output, self.delta = out, delta
        return self.loss(out, y_batch, delta, sample_weights, self.network.output_activation)

    def backward(self) -> None:
        """Backpropagate ``self.delta``: fills network.grads with ∂L/∂θ of the data loss."""
        self.network.backward(self.delta, fused=self.fused)

    def regularize(self) -> None:
        """Turn the data loss's gradient into the one the optimizer takes: + 2λ₂·w (L2) and
        + λ₁·sign(w) (L1) on the weights (not biases), then the global norm clipped to clip_norm."""
        grads = self.network.grads
        tmp = self._penalty_tmp
        if tmp is not None:
            if self._l2x2:  # ∂(λ·Σw²)/∂w = 2λw
                np.multiply(self._weights, self._l2x2, out=tmp)
                self._weight_grads += tmp
            if self._l1:  # ∂(λ·Σ|w|)/∂w = λ·sign(w)
                np.sign(self._weights, out=tmp)
                tmp *= self._l1
                self._weight_grads += tmp
        clip = self._clip
        if clip is not None:
            norm = math.sqrt(float(np.dot(grads, grads)))
            if not math.isfinite(norm):  # Σg² overflowed float32: measure in float64
                norm = float(np.linalg.norm(grads.astype(np.float64)))
            self.grad_norm = norm
            if norm > clip:
                grads *= clip / norm

    def step(self, X_batch: np.ndarray, y_batch: np.ndarray, sample_weights: np.ndarray | None = None,
             watch=None) -> np.float64:
        """One whole training step on one batch: forward (training mode: dropout on), loss, backward,
        L1/L2 penalties, clipping, optimizer update. Shapes as in ``forward_loss``; returns the
        batch's loss sum (float64). Raises DivergedError, before any update, if the loss is not finite.

        ``watch(stage)``, when given, is called with "backward" (network.grads hold the data loss's
        gradient) and "regularized" (they hold what the optimizer is about to use): how `nncli
        explain` records a step without taking it differently."""
        loss = self.forward_loss(X_batch, y_batch, sample_weights)
        if not math.isfinite(loss):
            raise DivergedError(self._diverged(f"the loss became {float(loss)}", self.epoch, self.step_in_epoch,
                                               self.n_batches, self.optimizer.learning_rate))
        self.backward()
        if watch is not None:
            watch("backward")
        self.regularize()
        if watch is not None:
            watch("regularized")
        self.optimizer.step(self.network.params, self.network.grads)
        return loss

    def first_rows(self, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The first k training rows in file order, as ``step()`` takes a batch: X (k, n_inputs)
        contiguous, prepared targets, per-sample weights or None (memory-mapped data read here)."""
        X = self.X[:k] if isinstance(self.X, np.ndarray) else self.X.rows(np.arange(k))
        w = None if self.sample_weights is None else self.sample_weights[:k]
        return np.ascontiguousarray(X), self.targets[:k], w

    def start_epoch(self) -> float:
        """Set the optimizer's learning rate for the current epoch (``self.epoch``) and return it."""
        lr = self.schedule.lr(self.epoch)
        self.optimizer.learning_rate = lr
        return lr

    # ------------------------------------------------------------------ the loop
    def run(self, max_steps: int | None = None) -> History:
        """Train until the configured epochs are done, early stopping says stop, a stop signal
        arrives, or (when given) ``max_steps`` steps have been taken by this call. Stopping inside an
        epoch leaves the trainer where ``state()`` can save it and a later ``run()`` continues."""
        # Overflow on the way to a divergence is reported once, as DivergedError, not as warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._run(max_steps)

    def _run(self, max_steps: int | None) -> History:
        for cb in self.callbacks:
            cb.on_train_begin(self)
        cfg, net = self.cfg, self.network
        X = self.X
        n = len(X)
        bs = self.batch_size
        n_batches = self.n_batches
        classification = cfg.task == "classification"
        tr = cfg.training
        shuffle = tr.shuffle
        y, sample_w = self.targets, self.sample_weights
        lazy = not isinstance(X, np.ndarray)  # LazyRows (memory-mapped .npy): gather each batch, no copy
        # Shuffled in-memory data: each batch's rows are gathered into a reused buffer that is still
        # in cache for the first matrix product. Measured against shuffling the whole array into a
        # copy once per epoch, this is as fast or faster, and it needs no second copy of the data.
        gather = shuffle and not lazy
        xbufs: dict[int, np.ndarray] = {}
        ys = np.empty_like(y) if shuffle else y
        ws = np.empty_like(sample_w) if (shuffle and sample_w is not None) else sample_w
        # Outputs of the epoch, kept as they come out of each batch, for the train metrics
        # (as Keras does): no second pass over the data, one copy per batch.
        track_preds = bool(self.metric_names)
        preds = np.empty((n, net.n_outputs), net.dtype) if track_preds else None
        out_act = net.output_activation
        params = net.params
        step = self.step
        steps_left = math.inf if max_steps is None else max_steps
        t_start = time.perf_counter()
        while self.epoch < tr.epochs and steps_left > 0:
            epoch = self.epoch
            lr = self.start_epoch()
            t0 = time.perf_counter()
            order = self._begin_epoch(n)
            if shuffle:
                if lazy:  # each batch's rows ascending, so a batch reads the file forward
                    for s0 in range(0, n, bs):
                        order[s0:s0 + bs].sort()
                np.take(y, order, axis=0, out=ys, mode="clip")
                if sample_w is not None:
                    np.take(sample_w, order, out=ws, mode="clip")
            if self._restored_preds is not None and preds is not None:  # restored partial predictions
                preds[: len(self._restored_preds)] = self._restored_preds
                self._restored_preds = None
            loss_sum = self._loss_sum
            for b in range(self.step_in_epoch, n_batches):
                s = b * bs
                e = min(s + bs, n)
                if gather:
                    xb = xbufs.get(e - s)
                    if xb is None:
                        xb = xbufs[e - s] = np.empty((e - s,) + X.shape[1:], X.dtype)
                    np.take(X, order[s:e], axis=0, out=xb, mode="clip")  # "clip": unbuffered, indices are valid
                elif lazy:
                    xb = X.rows(order[s:e] if shuffle else np.arange(s, e))
                else:
                    xb = X[s:e]
                loss_sum += step(xb, ys[s:e], None if ws is None else ws[s:e])
                if track_preds:
                    preds[s:e] = self.output  # the step's forward output; backward and update leave it
                self.step_in_epoch = b + 1
                self._seen = e
                self._loss_sum = loss_sum
                steps_left -= 1
                if (self.stop_signal is not None or steps_left <= 0) and self.step_in_epoch < n_batches:
                    self._pause(t0, t_start, preds, e)
                    return self.history
            self._epoch_seconds += time.perf_counter() - t0
            if not np.isfinite(params).all():  # the last step overflowed: no later loss would show it
                raise DivergedError(self._diverged("the weights became NaN or infinite", epoch, n_batches - 1, n_batches, lr))
            row = {"epoch": epoch + 1, "train_loss": float(loss_sum / n)}
            if track_preds:
                if classification:
                    truth = ys if ys.ndim == 1 else ys[:, 0].astype(np.int64)
                    guess = M.predicted_classes(preds, out_act)
                else:
                    truth, guess = ys, preds
                for m in self.metric_names:
                    row[f"train_{m}"] = M.compute(m, truth, guess, self.n_classes)
            if self.validation is not None:
                row.update(self.evaluate(*self.validation, prefix="val_"))
            row["lr"] = lr
            row["seconds"] = self._epoch_seconds
            self.history.append(row)
            self.epoch += 1
            self.step_in_epoch = 0
            self.schedule.end_epoch(epoch, row)
            stop = self._early_stopping(row)
            for cb in self.callbacks:
                cb.on_epoch_end(self, row)
            if stop or self.stop_signal is not None:
                break
        self.seconds += time.perf_counter() - t_start
        if self.stopped_early and self._es is not None and self._es.restore_best and self._best_params is not None:
            params[...] = self._best_params
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    # ------------------------------------------------------------------ resume bookkeeping
    def _begin_epoch(self, n: int) -> np.ndarray | None:
        """This epoch's permutation of the rows (None without shuffle). A fresh epoch saves the
        shuffle stream's state first and zeroes the epoch's sums; an epoch resumed mid-way replays
        its permutation from that saved state, so the remaining batches are the ones an
        uninterrupted run would take."""
        if self.step_in_epoch == 0:
            self._epoch_start_shuffle_state = self.shuffle_rng.bit_generator.state
            self._loss_sum, self._seen = np.float64(0), 0
            self._epoch_seconds = 0.0
        else:
            self.shuffle_rng.bit_generator.state = self._epoch_start_shuffle_state
        return self.shuffle_rng.permutation(n) if self.cfg.training.shuffle else None

    def _pause(self, t0: float, t_start: float, preds, seen: int) -> None:
        """Stopped inside an epoch: keep what ``state()`` needs to continue it."""
        now = time.perf_counter()
        self._epoch_seconds += now - t0
        self._partial_preds = None if preds is None else preds[:seen].copy()
        self.seconds += now - t_start

    def _diverged(self, what: str, epoch: int, batch: int, n_batches: int, lr: float) -> str:
        fixes = [f"lower training.optimizer.learning_rate (now {lr:g})"]
        if self.cfg.data.scaling == "none":
            fixes.append("scale the features (data.scaling: standardize)")
        if self.cfg.training.clip_norm is None:
            fixes.append("set training.clip_norm (e.g. 1.0)")
        return (f"training diverged: {what} at epoch {epoch + 1}, batch {batch + 1} of {n_batches}; "
                + ", ".join(fixes[:-1]) + (" or " if len(fixes) > 1 else "") + fixes[-1])

    @property
    def finished(self) -> bool:
        return self.epoch >= self.cfg.training.epochs or self.stopped_early

    def _early_stopping(self, row: dict[str, float]) -> bool:
        es = self._es
        if es is None:
            return False
        value = row.get(es.monitor)
        if value is None or not math.isfinite(value):
            return False
        if M.improves(value, self._es_best, es.min_delta, M.higher_is_better(es.monitor)):
            self._es_best, self._es_wait = value, 0
            self._best_epoch = int(row["epoch"])
            if es.restore_best:
                if self._best_params is None:
                    self._best_params = np.empty_like(self.network.params)
                np.copyto(self._best_params, self.network.params)
            return False
        self._es_wait += 1
        if self._es_wait >= es.patience:
            self.stopped_early = True
            return True
        return False

    def evaluate(self, X, y, prefix: str = "") -> dict[str, float]:
        """Loss and tracked metrics on a data set, in inference mode (no dropout). The loss is not
        class-weighted (as in Keras), so val_loss matches metrics.json's validation loss."""
        return evaluate(self.network, self.loss, X, y, self.metric_names, self.n_classes, prefix)

    # ------------------------------------------------------------------ checkpoint state
    def state(self) -> tuple[dict[str, np.ndarray], dict]:
        """(arrays, meta) capturing everything needed to continue bit-exactly."""
        arrays = {"params": self.network.params.copy()}
        for k, v in self.optimizer.state_dict().items():
            arrays[f"optimizer.{k}"] = np.asarray(v).copy()
        if self._best_params is not None:
            arrays["best_params"] = self._best_params.copy()
        if self._partial_preds is not None and self.step_in_epoch > 0:
            arrays["partial_preds"] = self._partial_preds
        meta = {
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "loss_sum": float(self._loss_sum),
            "seen": int(self._seen),
            "epoch_seconds": self._epoch_seconds,
            "seconds": self.seconds,
            "shuffle_rng": _jsonable_state(self.shuffle_rng.bit_generator.state),
            "epoch_start_shuffle_rng": _jsonable_state(self._epoch_start_shuffle_state),
            "dropout_rng": _jsonable_state(self.network.dropout_rng.bit_generator.state),
            "schedule": self.schedule.state_dict(),
            "early_stopping": {"best": self._es_best, "wait": self._es_wait, "best_epoch": self._best_epoch},
            "history": self.history.columns,
        }
        return arrays, meta

    def restore(self, arrays: dict[str, np.ndarray], meta: dict) -> None:
        self.network.params[...] = arrays["params"]
        self.optimizer.load_state_dict({k[len("optimizer."):]: v for k, v in arrays.items() if k.startswith("optimizer.")})
        if "best_params" in arrays:
            self._best_params = np.array(arrays["best_params"], self.network.dtype)
        self.epoch = int(meta["epoch"])
        self.step_in_epoch = int(meta["step_in_epoch"])
        self._loss_sum = np.float64(meta["loss_sum"])
        self._seen = int(meta["seen"])
        self._epoch_seconds = float(meta["epoch_seconds"])
        self.seconds = float(meta["seconds"])
        self.shuffle_rng.bit_generator.state = meta["shuffle_rng"]
        self._epoch_start_shuffle_state = meta["epoch_start_shuffle_rng"]
        self.network.dropout_rng.bit_generator.state = meta["dropout_rng"]
        self.schedule.load_state_dict(meta["schedule"])
        es = meta["early_stopping"]
        self._es_best, self._es_wait, self._best_epoch = es["best"], es["wait"], es["best_epoch"]
        self.history = History({k: list(v) for k, v in meta["history"].items()})
        if self.step_in_epoch > 0 and "partial_preds" in arrays:
            self._restored_preds = arrays["partial_preds"]


def _jsonable_state(state):
    """numpy bit-generator states are dicts of ints (Python ints, which JSON keeps exactly)."""
    if state is None:
        return None
    return {k: (_jsonable_state(v) if isinstance(v, dict) else (int(v) if isinstance(v, (int, np.integer)) else v))
            for k, v in state.items()}


def evaluate(network: Network, loss, X, y, metric_names, n_classes, prefix: str = "",
             chunk: int = 8192) -> dict[str, float]:
    """Loss (unweighted) and metrics of ``network`` on (X, y) in inference mode, in chunks."""
    n = len(X)
    out_act = network.output_activation
    if isinstance(X, np.ndarray):
        outputs = network.predict_output(X, chunk)
    else:  # LazyRows: read chunk by chunk
        outputs = np.concatenate([network.predict_output(X.rows(np.arange(s, min(s + chunk, n))), chunk)
                                  for s in range(0, n, chunk)])
    delta = np.empty_like(outputs)
    total = loss(outputs, y, delta, None, out_act)
    row = {f"{prefix}loss": float(total / n)}
    if metric_names:
        pred = M.predicted_classes(outputs, out_act) if n_classes is not None else outputs
        for m in metric_names:
            row[f"{prefix}{m}"] = M.compute(m, y, pred, n_classes)
    return row
