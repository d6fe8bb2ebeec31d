"""The Python API that the command line is a thin shell over; it works from a notebook too.

    import nncli
    run = nncli.train("configs/xor.yaml")          # -> Run (writes runs/xor)
    run = nncli.train(cfg_dict, data=(X, y), out=False)   # in memory, nothing written
    nncli.load_run("runs/xor").predict(X)          # X: raw features (n_samples, n_features)
"""

from __future__ import annotations

import json
import platform
import shutil
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import __version__
from .run import files as rundir
from .config.schema import Config, config_from_dict, load_config
from .data.prepare import PreparedData, class_weights, prepare
from .data.preprocess import Preprocessor
from .data.tables import Table
from .errors import DataError, DivergedError, Interrupted, RunDirError, UsageError
from .nn.network import LayerSpec, Network
from .training import Callback, History, Trainer, evaluate, make_loss


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
    """The config's network; with ``rng`` (a network about to train) its initial weights, from the
    initializers and then from model.init_from's run when the config names one."""
    specs = [LayerSpec(l.units, l.activation, l.dropout, l.initializer) for l in cfg.model.layers]
    network = Network(n_inputs, specs, dtype=np.dtype(cfg.training.dtype), rng=rng)
    if rng is not None and cfg.model.init_from is not None:
        from .warmstart import load_layers

        load_layers(cfg, network)
    return network


def _as_config(config, overrides) -> Config:
    if isinstance(config, Config):
        if overrides:
            return config_from_dict(config.resolved(), base_dir=config.base_dir, overrides=overrides)
        return config
    if isinstance(config, dict):
        return config_from_dict(config, overrides=overrides)
    return load_config(config, overrides)


def check_against_data(cfg: Config, prepared: PreparedData) -> None:
    """Checks that need the data: output width, batch size, class weights (all reported at once)."""
    errors: list[str] = []
    pre = prepared.preprocessor
    last = len(cfg.model.layers) - 1
    units = cfg.model.layers[-1].units
    where = cfg.where("model", "layers", last, "units")
    if cfg.task == "classification":
        k = len(pre.classes)
        if cfg.training.loss.name == "binary_crossentropy" and k != 2:
            errors.append(f"{cfg.where('training', 'loss')}: training.loss: binary_crossentropy needs exactly 2 classes, "
                            f"the data has {k} ({', '.join(map(str, pre.classes))}); use cross_entropy with {k} softmax units")
        if cfg.training.loss.name == "cross_entropy" and units != k:
            errors.append(f"{where}: model.layers[{last}].units: the output layer has {units} units but the data has "
                            f"{k} classes ({', '.join(map(str, pre.classes))}); set units: {k}")
    elif units != len(pre.targets):
        errors.append(f"{where}: model.layers[{last}].units: the output layer has {units} units but there "
                        f"{'is' if len(pre.targets) == 1 else 'are'} {len(pre.targets)} target column(s) "
                        f"({', '.join(pre.targets)}); set units: {len(pre.targets)}")
    bs = cfg.training.batch_size
    n = len(prepared.train.X)
    # Only a batch size the config gives: the default (32) is capped at the training set.
    if bs != "full" and bs > n and "batch_size" in cfg.training.model_fields_set:
        errors.append(f"{cfg.where('training', 'batch_size')}: training.batch_size: {bs} is larger than the "
                        f"training set ({n} rows); use at most {n}, or 'full'")
    if cfg.task == "classification" and isinstance(cfg.training.class_weight, dict):
        try:
            class_weights(cfg, pre, prepared.train.y)
        except DataError as exc:
            errors.append(exc.message)
    if errors:
        raise DataError("\n".join(errors))


class _CheckpointCallback(Callback):
    """Every N epochs, or (by default) after the first epoch and then at most every 30 s: a
    checkpoint per epoch would dominate the time of small networks trained for many epochs."""

    INTERVAL = 30.0

    def __init__(self, staging: Path, every: int | None):
        self.staging, self.every = staging, every
        self._last = None

    def on_epoch_end(self, trainer, row):
        if trainer.finished:  # the last epoch, or early stopping said stop: nothing left to resume
            return
        import time

        now = time.monotonic()
        if self.every is not None:
            due = trainer.epoch % self.every == 0
        else:
            due = self._last is None or now - self._last >= self.INTERVAL
        if due:
            save_trainer_checkpoint(trainer, self.staging)
            self._last = now


def save_trainer_checkpoint(trainer: Trainer, staging: Path) -> None:
    arrays, meta = trainer.state()
    meta["config"] = trainer.cfg.resolved()
    rundir.save_checkpoint(staging, arrays, meta)


@contextmanager
def _signals_stop(trainer: Trainer, enabled: bool):
    """SIGINT/SIGTERM ask the loop to stop after the current batch (it then checkpoints)."""
    if not enabled:
        yield
        return
    previous = {}

    def handler(signum, frame):
        if trainer.stop_signal is not None:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        trainer.stop_signal = signum

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, h in previous.items():
            signal.signal(sig, h)


def _config_differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    diffs = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            diffs += _config_differences(a, b, path + ".")
        elif a != b:
            diffs.append(f"{path} ({a!r} -> {b!r})")
    return diffs


IGNORED_ON_RESUME = ("training.epochs", "training.checkpoint_every", "output.dir",
                     # what the divergence message tells a user to change before resuming
                     "training.optimizer.learning_rate", "training.clip_norm")


def prepare_checked(config, overrides=(), data=None) -> tuple[Config, PreparedData]:
    """Everything training does before it builds the network: the config validated, its data read,
    split and preprocessed, and the checks that need the data. Shared by train, validate, explain
    and gradcheck, so they agree on what a good config is."""
    from .warmstart import check_layers, source_preprocessor

    cfg = _as_config(config, overrides)
    prepared = prepare(cfg, data, fitted=source_preprocessor(cfg))
    check_against_data(cfg, prepared)
    if cfg.model.init_from is not None:  # layer shapes need the data's input width
        check_layers(cfg, prepared.preprocessor.n_inputs)
    return cfg, prepared


def train(config: Config | dict | str | Path, *, data: tuple[np.ndarray, np.ndarray] | None = None,
          out: str | Path | None | bool = None, overrides=(), callbacks: list[Callback] | None = None,
          resume: bool = False, handle_signals: bool = False, quiet: bool = True) -> Run:
    """Validate the config, prepare the data, train, and (unless out=False) write the run directory.

    data: optional (X, y) arrays instead of the config's data section; X (n_samples, n_features),
    y class labels (n_samples,) or regression targets (n_samples,) / (n_samples, n_targets).
    out: run directory (None: the config's output.dir, default runs/<name>; False: write nothing).
    """
    cfg, prepared = prepare_checked(config, overrides, data)
    from .seeding import Stream, rng as seeded_rng

    pre = prepared.preprocessor
    network = build_network(cfg, pre.n_inputs, seeded_rng(cfg.seed, Stream.INIT))
    init_from = None
    if cfg.model.init_from is not None:
        from .warmstart import record

        init_from = record(cfg)
    n_classes = len(pre.classes) if pre.task == "classification" else None
    cw = class_weights(cfg, pre, prepared.train.y) if n_classes else None
    validation = (prepared.validation.X, prepared.validation.y) if prepared.validation is not None else None
    cbs = list(callbacks or [])
    trainer = Trainer(cfg, network, prepared.train.X, prepared.train.y, validation=validation,
                      class_weights=cw, callbacks=cbs, n_classes=n_classes)
    if out is False:
        with _signals_stop(trainer, handle_signals):
            trainer.run()
        if trainer.stop_signal is not None:
            raise Interrupted("training interrupted (nothing was being written)", trainer.stop_signal)
        return _finish(cfg, trainer, prepared, None, init_from=init_from)

    out_dir = Path(out) if out not in (None, True) else cfg.output_dir()
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: exists and is not a directory; choose another output with --out")
    import shlex

    resume_cmd = (f"nncli train {shlex.quote(str(cfg.source_path))} --resume"
                  + (f" --out {shlex.quote(str(out_dir))}" if out not in (None, True) else ""))
    with rundir.locked(out_dir):
        rundir.recover(out_dir)
        staging = rundir.staging_dir(out_dir)
        resumed_from = None
        if resume:
            if staging.exists() and not staging.is_dir():
                raise RunDirError(f"{staging}: is not a directory, so it holds no checkpoint; remove it and "
                                  f"train without --resume")
            ckpt = rundir.load_checkpoint(staging)
            if ckpt is None:
                raise UsageError(f"{out_dir}: no checkpoint to resume from (looked in {staging}); "
                                 f"train without --resume to start over")
            arrays, meta = ckpt
            old = {k: v for k, v in meta.get("config", {}).items()}
            diffs = [d for d in _config_differences(old, cfg.resolved())
                     if not d.startswith(IGNORED_ON_RESUME)]
            if diffs:
                raise UsageError(f"{staging / rundir.CHECKPOINT_META}: cannot resume: the config changed since the "
                                 f"checkpoint: {'; '.join(diffs)}; undo the change or train without --resume")
            _check_checkpoint_arrays(arrays, trainer, staging)
            try:
                trainer.restore(arrays, meta)
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                raise RunDirError(f"{staging / rundir.CHECKPOINT_META}: damaged checkpoint ({exc.__class__.__name__}: "
                                  f"{exc}); train without --resume to start over") from None
            resumed_from = trainer.epoch
        else:
            if staging.is_dir() and not staging.is_symlink():
                shutil.rmtree(staging)
            elif staging.exists() or staging.is_symlink():
                staging.unlink()
        try:
            staging.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"{staging}: cannot create the staging folder ({exc.strerror}); "
                             f"choose another output with --out") from None
        trainer.callbacks.insert(0, _CheckpointCallback(staging, cfg.training.checkpoint_every))
        try:
            with _signals_stop(trainer, handle_signals):
                trainer.run()
        except DivergedError as exc:
            kept = (staging / rundir.CHECKPOINT_META).exists()
            if kept:
                note = (f"; the last good checkpoint (epoch {trainer_checkpoint_epoch(staging)}) is kept in {staging}: "
                        f"after the change, continue with: {resume_cmd}")
            else:
                note = "; no checkpoint had been written, nothing was kept"
                try:
                    staging.rmdir()  # only when empty
                except OSError:
                    pass
            raise DivergedError(exc.message + note) from None
        if trainer.stop_signal is not None and not trainer.finished:
            save_trainer_checkpoint(trainer, staging)
            name = "Ctrl-C" if trainer.stop_signal == signal.SIGINT else "SIGTERM"
            where = (f"at epoch {trainer.epoch + 1}, batch {trainer.step_in_epoch}" if trainer.step_in_epoch
                     else f"after epoch {trainer.epoch}")
            raise Interrupted(f"interrupted by {name} {where}; checkpoint saved in {staging}; "
                              f"continue with: {resume_cmd}", trainer.stop_signal)
        run = _finish(cfg, trainer, prepared, out_dir, resumed_from=resumed_from, init_from=init_from)
        _write_run(run, staging)
        rundir.commit(staging, out_dir)
        return run


def trainer_checkpoint_epoch(staging: Path) -> str:
    try:
        meta = rundir.read_json(staging / rundir.CHECKPOINT_META)
        return f"{int(meta['epoch'])}" + (f", batch {int(meta['step_in_epoch'])}" if meta.get("step_in_epoch") else "")
    except Exception:  # the message is being built for another error; never hide that one
        return "?"


def _check_checkpoint_arrays(arrays, trainer, staging):
    network = trainer.network
    expected = {"params": network.params}
    expected.update({f"optimizer.{k}": np.asarray(v) for k, v in trainer.optimizer.state_dict().items()})
    if "best_params" in arrays:  # optional: early stopping with restore_best
        expected["best_params"] = network.params
    for key, want in expected.items():
        got = arrays.get(key)
        if got is None or got.shape != want.shape or got.dtype != want.dtype:
            found = "missing" if got is None else f"{got.dtype} {got.shape}"
            raise RunDirError(f"{staging / rundir.CHECKPOINT_ARRAYS}: {key} is {found}, the network needs "
                              f"{want.dtype} {want.shape}; train without --resume to start over")
    partial = arrays.get("partial_preds")  # optional: outputs of an unfinished epoch's batches
    if partial is not None and (partial.ndim != 2 or partial.shape[1] != network.n_outputs
                                or len(partial) > len(trainer.X) or partial.dtype != network.dtype):
        raise RunDirError(f"{staging / rundir.CHECKPOINT_ARRAYS}: partial_preds is {partial.dtype} {partial.shape}, "
                          f"the network needs {network.dtype} (at most {len(trainer.X)}, {network.n_outputs}); "
                          f"train without --resume to start over")


def _finish(cfg: Config, trainer: Trainer, prepared: PreparedData, out_dir: Path | None, resumed_from=None,
            init_from: dict | None = None) -> Run:
    net, pre = trainer.network, prepared.preprocessor
    n_classes = len(pre.classes) if pre.task == "classification" else None
    loss = trainer.loss
    final: dict[str, Any] = {}
    for label, split in (("train", prepared.train), ("validation", prepared.validation), ("test", prepared.test)):
        if split is not None:
            final[label] = evaluate(net, loss, split.X, split.y, _final_metrics(cfg), n_classes)
    metrics = {
        "task": pre.task,
        "epochs_run": len(trainer.history),
        "epochs_configured": cfg.training.epochs,
        "stopped_early": trainer.stopped_early,
        **({"best_epoch": trainer._best_epoch} if cfg.training.early_stopping else {}),
        **({"resumed_from_epoch": resumed_from} if resumed_from is not None else {}),
        **({"init_from": init_from} if init_from is not None else {}),
        **final,
        "training_seconds": round(trainer.seconds, 6),
        "n_parameters": int(net.n_params),
        "seed": cfg.seed,
        "overrides": list(cfg.overrides),
        "versions": {"nncli": __version__, "numpy": np.__version__, "python": platform.python_version()},
    }
    return Run(cfg, net, pre, trainer.history, metrics, out_dir, trainer.seconds)


def _final_metrics(cfg: Config) -> list[str]:
    base = ["accuracy"] if cfg.task == "classification" else ["mse", "mae", "r2"]
    return base + [m for m in cfg.metrics_tracked() if m not in base]


def _write_run(run: Run, staging: Path) -> None:
    resolved = run.config.resolved()
    for key in ("path", "y_path", "validation", "test"):
        value = resolved["data"].get(key)
        if value:  # paths in a run's config.yaml are absolute: the run can move, the data cannot
            resolved["data"][key] = str(run.config.resolve_path(value).resolve())
    if resolved["model"].get("init_from"):  # as absolute as the data paths, for the same reason
        resolved["model"]["init_from"]["run"] = run.metrics["init_from"]["run"]
    rundir.write_text_atomic(staging / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    rundir.write_bytes_atomic(staging / "weights.npz", rundir.npz_bytes(run.network.weights_dict()))
    rundir.write_text_atomic(staging / "preprocessing.json", json.dumps(run.preprocessor.to_json(), indent=2))
    rundir.write_text_atomic(staging / "history.csv", run.history.to_csv())
    rundir.write_text_atomic(staging / "metrics.json", json.dumps(run.metrics, indent=2))


def load_run(path: str | Path) -> Run:
    """Load a run directory, checking every file against the others (never executes code)."""
    path = Path(path)
    if not path.exists():
        raise RunDirError(f"{path}: no such run directory; train one with: nncli train CONFIG")
    if not path.is_dir():
        raise RunDirError(f"{path}: not a directory; give the run directory that nncli train wrote")
    for f in rundir.RUN_FILES:
        if (path / f).exists() and not (path / f).is_file():
            raise RunDirError(f"{path / f}: is not a file; is this an nncli run directory?")
    missing = [f for f in rundir.RUN_FILES if not (path / f).is_file()]
    if missing:
        if (path / "sweep.json").is_file():
            best = path / "best.json"
            hint = ""
            if best.is_file():
                try:
                    hint = f", e.g. the best one: {json.loads(best.read_text(encoding='utf-8'))['path']}"
                except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                    hint = ""
            raise RunDirError(f"{path}: is a sweep folder, not a run directory; give one of its trial "
                              f"directories{hint} (see best.json and results.csv)")
        raise RunDirError(f"{path}: incomplete run directory, missing {', '.join(missing)}")
    from .errors import ConfigError
    from .run.checks import check_preprocessing, parse_history

    cfg_path = path / "config.yaml"
    try:
        cfg = load_config(cfg_path)  # positioned messages; relative paths resolve against the run
    except ConfigError as exc:
        more = len(exc.messages) - 1
        raise RunDirError(exc.messages[0] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
                          + " — not a config nncli wrote; re-train to get a clean run directory") from None
    pre_path = path / "preprocessing.json"
    pre_json = rundir.read_json(pre_path)
    check_preprocessing(pre_json, pre_path, cfg)
    pre = Preprocessor.from_json(pre_json)
    network = build_network(cfg, pre.n_inputs)
    weights_path = path / "weights.npz"
    expected = network.weights_dict()
    headers = rundir.npz_headers(weights_path)  # checked before any array is read
    for key, arr in expected.items():
        if key not in headers:
            raise RunDirError(f"{weights_path}: missing array {key!r}; it does not match config.yaml")
        shape, dtype = headers[key]
        if shape != arr.shape:
            raise RunDirError(f"{weights_path}: {key} has shape {shape}, config.yaml says {arr.shape}")
        if dtype != arr.dtype:
            raise RunDirError(f"{weights_path}: {key} has dtype {dtype}, config.yaml says {arr.dtype} (training.dtype)")
    extra = sorted(set(headers) - set(expected))
    if extra:
        raise RunDirError(f"{weights_path}: unexpected arrays {', '.join(extra)}; it does not match config.yaml")
    weights = rundir.load_npz(weights_path)
    for key in expected:
        if not np.all(np.isfinite(weights[key])):
            raise RunDirError(f"{weights_path}: {key} holds NaN or infinite values")
    network.load_weights(weights)
    metrics = rundir.read_json(path / "metrics.json")
    seconds = metrics.get("training_seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise RunDirError(f"{path / 'metrics.json'}: training_seconds: expected a number, got {seconds!r:.40}")
    try:
        text = (path / "history.csv").read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunDirError(f"{path / 'history.csv'}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise RunDirError(f"{path / 'history.csv'}: cannot read ({exc.strerror})") from None
    history = parse_history(text, path / "history.csv")
    return Run(cfg, network, pre, history, metrics, path, float(seconds))
