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
from .errors import DataError, UsageError
from .nn.network import LayerSpec, Network
from .run import store
from .training import Callback, History, Trainer, make_loss


class Run:
    """A trained network with its preprocessing: predict from raw features."""

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
          resume: bool = False, handle_signals: bool = False, quiet: bool = True) -> Run:
    """Validate the config, prepare the data, train, and (unless out=False) write the run directory.

    data: optional (X, y) arrays instead of the config's data section; X (n_samples, n_features),
    y class labels (n_samples,) or regression targets (n_samples,) / (n_samples, n_targets).
    out: run directory (None: the config's output.dir, default runs/<name>; False: write nothing).
    resume: continue from the checkpoint an interrupted training left for ``out``.
    handle_signals: SIGINT/SIGTERM stop after the current batch, save a checkpoint and raise
    Interrupted (exit code 128 + signal) instead of killing the process.
    """
    from .seeding import Stream, rng as seeded_rng

    cfg = as_config(config, overrides)
    checked = prepare_checked(cfg, data)
    network = build_network(cfg, checked.preprocessor.n_inputs, seeded_rng(cfg.seed, Stream.INIT))
    trainer = Trainer.from_prepared(cfg, network, checked, callbacks=list(callbacks or []))
    if out is False:
        store.train_unsaved(trainer, handle_signals=handle_signals)
        return _result(cfg, trainer, checked, None, None)
    out_dir = Path(out) if out not in (None, True) else cfg.output_dir()
    with store.writing(out_dir) as writer:
        resumed_from = writer.start(trainer, resume_from_checkpoint=resume)
        writer.train(trainer, handle_signals=handle_signals)
        run = _result(cfg, trainer, checked, out_dir, resumed_from)
        writer.publish(cfg, run.network, run.preprocessor, run.history, run.metrics)
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
