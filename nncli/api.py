"""The Python API that the command line is a thin shell over; it works from a notebook too.

    import nncli
    run = nncli.train("configs/xor.yaml")          # -> Run (writes runs/xor)
    run = nncli.train(cfg_dict, data=(X, y), out=False)   # in memory, nothing written
    nncli.load_run("runs/xor").predict(X)          # X: raw features (n_samples, n_features)

Errors are NncliError subclasses carrying facts (Interrupted.checkpoint, DivergedError.checkpoint);
turning them into command lines to type is the CLI's business (nncli/cli/train.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config.schema import Config, config_from_dict, load_config
from .data.checks import prepare_checked
from .data.preprocess import Preprocessor
from .data.tables import Table
from .errors import DataError, Interrupted, UsageError
from .nn.network import LayerSpec, Network
from .run import store
from .training import Callback, History, Trainer, make_loss


class Run:
    """A trained network with its preprocessing: predict from raw features."""

    replaced: str | None = None  # what train() replaced at the run's path ("the previous run at ...")

    def __init__(self, config: Config, network: Network, preprocessor: Preprocessor, history: History,
                 metrics: dict, path: Path | None = None, seconds: float = 0.0):
        self.config, self.network, self.preprocessor = config, network, preprocessor
        self.history, self.metrics, self.path, self.seconds = history, metrics, path, seconds

    @property
    def task(self) -> str:
        return self.preprocessor.task

    def _inputs(self, X) -> np.ndarray:
        if isinstance(X, Table):
            return self.preprocessor.transform(X, self.network.dtype)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 1:
            X = X[:, None] if self.preprocessor.n_inputs == 1 else X[None, :]
        if X.shape[1] != self.preprocessor.n_inputs:
            raise DataError(f"input has {X.shape[1]} feature columns but the network was trained on "
                            f"{self.preprocessor.n_inputs} ({', '.join(self.preprocessor.input_names)})")
        return self.preprocessor.scale_features(X, self.network.dtype)

    def output(self, X) -> np.ndarray:
        """Raw network output (n_samples, n_outputs) for raw features X (n_samples, n_features)."""
        return self.network.predict_output(self._inputs(X))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), columns in ``preprocessor.classes`` order."""
        if self.task != "classification":
            raise UsageError("predict_proba is for classification runs; this run is a regression")
        loss = make_loss(self.config)
        return np.asarray(loss.probabilities(self.output(X), self.network.output_activation), np.float64)

    def predict(self, X) -> np.ndarray:
        """Class labels as in the training data (classification), or values (n_samples, n_targets)."""
        out = self.output(X)
        if self.task == "classification":
            from .metrics import predicted_classes

            idx = predicted_classes(out, self.network.output_activation)
            return np.asarray(self.preprocessor.labels(idx), dtype=object)
        return out.astype(np.float64)


def build_network(cfg: Config, n_inputs: int, rng: np.random.Generator | None = None) -> Network:
    """The network the config describes, for inputs of width ``n_inputs`` (weights from ``rng``,
    then from model.init_from's run when the config names one: a network about to train)."""
    specs = [LayerSpec(l.units, l.activation, l.dropout, l.initializer) for l in cfg.model.layers]
    network = Network(n_inputs, specs, dtype=np.dtype(cfg.training.dtype), rng=rng)
    if rng is not None and cfg.model.init_from is not None:
        from .warmstart import load_layers

        load_layers(cfg, network)
    return network


def as_config(config: Config | dict | str | Path, overrides=()) -> Config:
    """A validated Config from a Config, a dict or a YAML path, with ``overrides`` ("key=value") applied."""
    if isinstance(config, Config):
        if overrides:
            return config_from_dict(config.resolved(), base_dir=config.base_dir, overrides=overrides)
        return config
    if isinstance(config, dict):
        return config_from_dict(config, overrides=overrides)
    return load_config(config, overrides)


def train(config: Config | dict | str | Path, *, data: tuple[np.ndarray, np.ndarray] | None = None,
          out: str | Path | None | bool = None, overrides=(), callbacks: list[Callback] | None = None,
          resume: bool = False, allow_data_change: bool = False, handle_signals: bool = False,
          quiet: bool = True) -> Run:
    """Validate the config, prepare the data, train, and (unless out=False) write the run directory.

    data: optional (X, y) arrays instead of the config's data section; X (n_samples, n_features),
    y class labels (n_samples,) or regression targets (n_samples,) / (n_samples, n_targets).
    out: run directory (None: the config's output.dir, default runs/<name>; False: write nothing).
    resume: continue from the checkpoint an interrupted training left for ``out``, with the config
    and overrides saved in it (run/resume.py says what may differ); allow_data_change: resume even
    though the training data changed since the checkpoint (recorded in metrics.json).
    handle_signals: SIGINT/SIGTERM at any moment end in Interrupted (exit code 128 + signal) with
    either a resumable checkpoint or the complete run published, never killing the process.
    """
    from .run import checkpoint

    with checkpoint.guarded(handle_signals) as guard:
        run = _train(config, data, out, overrides, callbacks, resume, allow_data_change, guard)
        if guard is not None and guard.signum is not None:  # arrived after training was over
            name = checkpoint.signal_name(guard.signum)
            where = f"; the complete run was published to {run.path}" if run.path else ""
            raise Interrupted(f"interrupted by {name} after training had finished{where}", guard.signum)
    return run


def _train(config, data, out, overrides, callbacks, resume: bool, allow_data_change: bool, guard) -> Run:
    from .run import faults, files, resume as resuming
    from .seeding import Stream, rng as seeded_rng

    cfg = as_config(config, overrides)
    if resume and out is False:
        raise UsageError("resume needs a run directory (out=False writes nothing to resume from)")
    out_dir = None if out is False else (Path(out) if out not in (None, True) else cfg.output_dir())
    plan = resuming.plan(cfg, out_dir, files.staging_dir(out_dir)) if resume else None
    if plan is not None:
        cfg = plan.config
    checked = prepare_checked(cfg, data)
    faults.point("start.prepared")
    network = build_network(cfg, checked.preprocessor.n_inputs, seeded_rng(cfg.seed, Stream.INIT))
    trainer = Trainer.from_prepared(cfg, network, checked, callbacks=list(callbacks or []))
    if out is False:
        if guard is not None:
            guard.trainer, guard.phase = trainer, "train"
        store.train_unsaved(trainer, handle_signals=guard is not None)
        if guard is not None:
            guard.phase = "finish"
        return _result(cfg, trainer, checked, None, None)
    data_id = resuming.identify_data(cfg, checked)
    segment = {"start_epoch": 0, "start_batch": 0, "overrides": list(cfg.overrides), "changes": [],
               "data_change_allowed": False}
    segments = [segment]
    if plan is not None:
        changed = resuming.check_data(plan, data_id, files.staging_dir(out_dir), allow_data_change)
        segments = list(plan.meta["segments"]) + [{
            "start_epoch": plan.meta["epoch"], "start_batch": plan.meta["step_in_epoch"],
            "overrides": plan.new_overrides, "changes": plan.changes, "data_change_allowed": changed}]
    trainer.extra_state = {"config": cfg.resolved(), "overrides": list(cfg.overrides),
                           "data": data_id, "segments": segments}
    if guard is not None:
        guard.trainer, guard.phase = trainer, "train"
    with store.writing(out_dir, store.inputs_of(cfg)) as writer:
        resumed_from = writer.start(trainer, resume_from_checkpoint=plan)
        faults.point("start.ready")
        writer.train(trainer, handle_signals=guard is not None)
        if guard is not None:  # training is over: a signal now waits until the run is published
            guard.phase = "finish"
        faults.point("finish.evaluate")
        run = _result(cfg, trainer, checked, out_dir, resumed_from)
        faults.point("finish.publish")
        writer.publish(cfg, run.network, run.preprocessor, run.history, run.metrics)
    faults.point("finish.published")
    run.replaced = writer.replaced
    return run


def _result(cfg: Config, trainer: Trainer, checked, out_dir: Path | None, resumed_from: int | None) -> Run:
    metrics = store.final_metrics(cfg, trainer, checked.splits, checked.preprocessor, resumed_from)
    if cfg.model.init_from is not None:
        from .warmstart import record

        metrics["init_from"] = record(cfg)
    return Run(cfg, trainer.network, checked.preprocessor, trainer.history, metrics, out_dir, trainer.seconds)


def load_run(path: str | Path) -> Run:
    """Load a run directory, checking every file against the others (never executes code)."""
    stored = store.load(path, build_network)
    return Run(stored.config, stored.network, stored.preprocessor, stored.history, stored.metrics,
               Path(path), stored.seconds)
