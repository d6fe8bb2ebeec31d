"""scikit-learn estimators over nncli: NNClassifier and NNRegressor (the `sklearn` extra: scikit-learn).

    from nncli.sklearn import NNClassifier
    clf = NNClassifier(hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=100, random_state=0)
    clf.fit(X, y).predict(X)        # X (n_samples, n_features); y labels (n_samples,)

Constructor parameters carry MLPClassifier's names where nncli has the same concept, so code written
for MLPClassifier/MLPRegressor keeps working; nncli's own controls (dropout, l1, clip_norm, schedule,
scaling, dtype, run_dir) come after. Every fit builds an nncli config and trains it with
``nncli.train`` — the same engine and the same weights as ``nncli train`` on that config with the
same seed. ``run_dir`` also writes the run directory (predict, export, compare work on it).

Mapping (MLP name -> nncli key):
    hidden_layer_sizes -> model.layers (hidden units), activation -> their activation
        (identity = linear, logistic = sigmoid; nncli's names work too)
    solver -> training.optimizer.name (adam, sgd; also adamw, rmsprop, adagrad; no lbfgs)
    alpha -> training.l2 (nncli's λ₂: 2λ₂·w added to each weight's gradient)
    batch_size ('auto' = min(200, n_train)) -> training.batch_size
    learning_rate ('constant', 'adaptive' = reduce_on_plateau ÷5 after 2 epochs) -> training.schedule
    learning_rate_init -> training.optimizer.learning_rate, max_iter -> training.epochs
    shuffle -> training.shuffle, random_state -> seed (None is 0: nncli is deterministic)
    momentum, nesterovs_momentum (sgd); beta_1, beta_2, epsilon (adam)
    early_stopping, validation_fraction, n_iter_no_change, tol -> data.validation_split +
        training.early_stopping {monitor: val_loss, patience, min_delta}
Not carried over: power_t and learning_rate='invscaling' (no such nncli schedule), max_fun (lbfgs),
verbose (only nncli's command line prints), warm_start (use nncli's model.init_from).
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, check_random_state, column_or_1d, validate_data
except ImportError:  # say what to install (the sklearn extra)
    from .extras import install_command

    raise ImportError(f"nncli.sklearn needs scikit-learn, which is not installed: {install_command('sklearn')}") from None

from .errors import NncliError

_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid"}
_SOLVERS = ("adam", "sgd", "adamw", "rmsprop", "adagrad")


class _NNEstimator(BaseEstimator):
    """What the classifier and the regressor share: parameters -> config, fit, the fitted run."""

    _task = "?"

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, dropout=0.0, l1=0.0, clip_norm=None, schedule=None,
                 scaling="standardize", dtype="float32", run_dir=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.l1 = l1
        self.clip_norm = clip_norm
        self.schedule = schedule
        self.scaling = scaling
        self.dtype = dtype
        self.run_dir = run_dir

    # -- parameters -> an nncli config (a plain dict, as a YAML file would hold it); each subclass
    # gives its output layer and loss through _output(n_outputs) -> (layer, loss)
    def to_config(self, n_samples: int, n_outputs: int, labels: np.ndarray | None = None) -> dict:
        """The nncli config this estimator trains for ``n_samples`` rows and ``n_outputs`` outputs
        (classes, or regression targets). ``nncli train`` on it gives the same weights."""
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        activation = _ACTIVATIONS.get(self.activation, self.activation)
        layers = [{"units": int(u), "activation": activation, "dropout": float(self.dropout)} for u in sizes]
        output, loss = self._output(n_outputs)
        layers.append(output)
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver={self.solver!r}: nncli has {', '.join(_SOLVERS)} (no lbfgs)")
        optimizer = {"name": self.solver, "learning_rate": self.learning_rate_init}
        if self.solver == "sgd":
            optimizer.update(momentum=self.momentum, nesterov=bool(self.nesterovs_momentum and self.momentum > 0))
        elif self.solver in ("adam", "adamw"):
            optimizer.update(beta1=self.beta_1, beta2=self.beta_2, epsilon=self.epsilon)
        elif self.solver in ("rmsprop", "adagrad"):
            optimizer.update(epsilon=self.epsilon)
        val = float(self.validation_fraction) if self.early_stopping else 0.0
        training = {
            "epochs": self.max_iter, "loss": loss, "optimizer": optimizer, "shuffle": bool(self.shuffle),
            "batch_size": self._batch_size(_n_train(n_samples, val, labels)),
            "schedule": self._schedule(), "l2": self.alpha, "l1": self.l1, "clip_norm": self.clip_norm,
            "dtype": self.dtype,
        }
        if self.early_stopping:
            training["early_stopping"] = {"monitor": "val_loss", "patience": self.n_iter_no_change,
                                          "min_delta": self.tol, "restore_best": True}
        return {
            "name": type(self).__name__, "seed": _seed(self.random_state),
            "data": {"target": "y" if n_outputs == 1 or self._task == "classification"
                     else [f"y{i + 1}" for i in range(n_outputs)],
                     "validation_split": val, "scaling": self.scaling},
            "model": {"layers": layers}, "training": training,
        }

    def _batch_size(self, n_train: int):
        if self.batch_size == "auto":
            return min(200, n_train)
        if self.batch_size == "full":
            return "full"
        return min(self.batch_size, n_train) if isinstance(self.batch_size, numbers.Integral) else self.batch_size

    def _schedule(self):
        if self.schedule is not None:
            if self.learning_rate != "constant":
                raise ValueError(f"learning_rate={self.learning_rate!r} and schedule={self.schedule!r}: give one of them")
            return self.schedule
        if self.learning_rate == "constant":
            return {"name": "constant"}
        if self.learning_rate == "adaptive":  # MLP: η ÷ 5 when 2 epochs in a row do not improve by tol
            return {"name": "reduce_on_plateau", "monitor": "val_loss" if self.early_stopping else "train_loss",
                    "factor": 0.2, "patience": 2, "min_delta": self.tol}
        raise ValueError(f"learning_rate={self.learning_rate!r}: nncli has 'constant' and 'adaptive' "
                         f"(or any nncli schedule through schedule=...)")

    def _train(self, X: np.ndarray, y: np.ndarray, n_outputs: int, labels: np.ndarray | None):
        from .api import train

        cfg = self.to_config(len(X), n_outputs, labels)
        out = False if self.run_dir is None else Path(self.run_dir)
        try:
            run = train(cfg, data=(X, y), out=out)
        except NncliError as exc:  # scikit-learn's convention for bad parameters and data
            raise ValueError(exc.message) from None
        self.run_ = run
        self.n_iter_ = int(run.metrics["epochs_run"])
        self.loss_curve_ = list(run.history.train_loss)
        self.loss_ = float(self.loss_curve_[-1])
        self.coefs_ = [layer.W.copy() for layer in run.network.layers]
        self.intercepts_ = [layer.b.copy() for layer in run.network.layers]
        if self.early_stopping:
            self.validation_scores_ = list(run.history.val_loss)
            self.best_validation_loss_ = float(min(self.validation_scores_))
        return self

    # Pickling (joblib, GridSearchCV's workers) carries the fitted run as plain data — config,
    # preprocessing, weights, history, metrics — and rebuilds the network on load: a pickled
    # Network would lose its one-flat-buffer layout (each layer's W and b are views into it).
    def __getstate__(self):
        state = self.__dict__.copy()
        run = state.pop("run_", None)
        if run is not None:
            state["_run_state"] = {
                "config": run.config.resolved(), "preprocessing": run.preprocessor.to_json(),
                "weights": run.network.weights_dict(), "history": dict(run.history.columns),
                "metrics": run.metrics, "path": None if run.path is None else str(run.path), "seconds": run.seconds,
            }
        return state

    def __setstate__(self, state):
        saved = state.pop("_run_state", None)
        self.__dict__.update(state)
        if saved is not None:
            from .api import Run, build_network
            from .config.schema import config_from_dict
            from .data.preprocess import Preprocessor
            from .training import History

            cfg = config_from_dict(saved["config"])
            pre = Preprocessor.from_json(saved["preprocessing"])
            network = build_network(cfg, pre.n_inputs)
            network.load_weights({k: np.array(v) for k, v in saved["weights"].items()})
            history = History({k: list(v) for k, v in saved["history"].items()})
            self.run_ = Run(cfg, network, pre, history, saved["metrics"],
                            None if saved["path"] is None else Path(saved["path"]), saved["seconds"])

    def _checked_input(self, X) -> np.ndarray:
        check_is_fitted(self, "run_")
        return validate_data(self, X, reset=False, dtype=np.float64)


class NNClassifier(ClassifierMixin, _NNEstimator):
    """A dense network classifier trained by nncli (MLPClassifier's parameter names).

    Two classes: one sigmoid unit and binary cross-entropy; more: softmax and cross-entropy.
    ``class_weight``: None, 'balanced' or {label: weight}, as training.class_weight.
    Fitted: classes_, n_features_in_, n_iter_, loss_, loss_curve_, coefs_, intercepts_, run_ (the
    nncli Run)."""

    _task = "classification"

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, dropout=0.0, l1=0.0, clip_norm=None, schedule=None,
                 scaling="standardize", dtype="float32", run_dir=None, class_weight=None):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, max_iter=max_iter,
                         shuffle=shuffle, random_state=random_state, tol=tol, momentum=momentum,
                         nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         n_iter_no_change=n_iter_no_change, dropout=dropout, l1=l1, clip_norm=clip_norm,
                         schedule=schedule, scaling=scaling, dtype=dtype, run_dir=run_dir)
        self.class_weight = class_weight

    def _output(self, n_outputs):
        if n_outputs == 2:
            return {"units": 1, "activation": "sigmoid"}, "binary_crossentropy"
        return {"units": n_outputs, "activation": "softmax"}, "cross_entropy"

    def to_config(self, n_samples, n_outputs, labels=None):
        cfg = super().to_config(n_samples, n_outputs, labels)
        if self.class_weight is not None:
            cw = self.class_weight
            if isinstance(cw, dict):  # the labels nncli sees are class indices (classes_ order)
                classes = list(getattr(self, "classes_", []))
                cw = {str(classes.index(k)) if k in classes else str(k): float(v) for k, v in cw.items()}
            cfg["training"]["class_weight"] = cw
        return cfg

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and labels y (n_samples,); returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        y = column_or_1d(y, warn=True)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"NNClassifier needs at least two classes in y, got one class ({self.classes_[0]!r})")
        # nncli sees class indices: its class order is then classes_ order, whatever the label type
        return self._train(X, codes.astype(np.int64), len(self.classes_), codes)

    def predict(self, X):
        """Labels (n_samples,), from classes_."""
        X = self._checked_input(X)
        return self.classes_[np.asarray(self.run_.predict(X), dtype=np.int64)]

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in classes_ order."""
        X = self._checked_input(X)
        return self.run_.predict_proba(X)

    def predict_log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))


class NNRegressor(RegressorMixin, _NNEstimator):
    """A dense network regressor trained by nncli (MLPRegressor's parameter names).

    ``loss``: 'squared_error' (nncli's mse), 'absolute_error' (mae), 'huber', or an nncli loss
    mapping such as {name: huber, delta: 0.5}. y may be (n_samples,) or (n_samples, n_targets).
    Fitted: n_features_in_, n_outputs_, n_iter_, loss_, loss_curve_, coefs_, intercepts_, run_."""

    _task = "regression"
    _LOSSES = {"squared_error": "mse", "absolute_error": "mae"}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, dropout=0.0, l1=0.0, clip_norm=None, schedule=None,
                 scaling="standardize", dtype="float32", run_dir=None, loss="squared_error"):
        super().__init__(hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
                         learning_rate=learning_rate, learning_rate_init=learning_rate_init, max_iter=max_iter,
                         shuffle=shuffle, random_state=random_state, tol=tol, momentum=momentum,
                         nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
                         validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         n_iter_no_change=n_iter_no_change, dropout=dropout, l1=l1, clip_norm=clip_norm,
                         schedule=schedule, scaling=scaling, dtype=dtype, run_dir=run_dir)
        self.loss = loss

    def _output(self, n_outputs):
        loss = self._LOSSES.get(self.loss, self.loss) if isinstance(self.loss, str) else self.loss
        return {"units": n_outputs, "activation": "linear"}, loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets); returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        self._y_1d = y.ndim == 1
        y2 = y.reshape(len(y), -1)
        self.n_outputs_ = y2.shape[1]
        return self._train(X, y2 if not self._y_1d else y, self.n_outputs_, None)

    def predict(self, X):
        """Values (n_samples,) when fitted on a 1-D y, else (n_samples, n_targets)."""
        X = self._checked_input(X)
        out = self.run_.predict(X)
        return out.ravel() if self._y_1d else out


def _seed(random_state) -> int:
    """random_state -> nncli's one seed: None is 0 (nncli runs are deterministic), an int is
    itself, a RandomState draws one."""
    if random_state is None:
        return 0
    if isinstance(random_state, numbers.Integral):
        return int(random_state)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


def _n_train(n: int, validation: float, labels: np.ndarray | None) -> int:
    """Rows left for training after nncli's split (stratified per class, rounded per class)."""
    if validation <= 0:
        return n
    counts = [n] if labels is None else np.bincount(labels).tolist()
    return max(1, n - sum(int(round(validation * c)) for c in counts))
