"""scikit-learn's face of the network: TwoLayerNetClassifier, trained by the command line's core and loop.

fit: check the parameters with the config loader -> check X, y (scikit-learn) -> hold out the
validation split (data.prepare.hold_out: split's count and stratified cut) -> standardise with the
train part's scaler -> runs.run.new_state, training.loop.fit: the calls `trainer train` makes, on
arrays instead of a dataset.
"""

import numbers
from dataclasses import fields

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from trainer.config.load import config_from_dict
from trainer.data.columns import locate
from trainer.data.datasets import SEED_BOUND
from trainer.data.prepare import hold_out
from trainer.errors import ConfigError, DataError
from trainer.model.network import PARAM_NAMES, ModelConfig, log_softmax, predict_proba, scores
from trainer.model.scaling import fit_scaler, standardize
from trainer.runs.run import new_state
from trainer.storage.modelfile import SavedModel, is_label, load_model, save_model
from trainer.training.loop import TrainConfig
from trainer.training.loop import fit as train_fit

# config section -> the constructor parameters that carry its keys' names
SECTIONS = {
    "model": tuple(f.name for f in fields(ModelConfig)),
    # all but checkpoint_*: there is no run dir to checkpoint into
    "train": tuple(f.name for f in fields(TrainConfig) if not f.name.startswith("checkpoint_")),
    "data": ("val_size", "standardize"),  # the data keys that make sense on arrays
}
INPUT_DTYPES = (np.float64, np.float32)  # X is kept in either (no copy); anything else becomes float64


class TwoLayerNetClassifier(ClassifierMixin, BaseEstimator):
    """Two-layer ReLU network with softmax cross-entropy, trained by `trainer`'s own loop.

    Parameters carry the names and defaults of the config keys (model.*, train.*, and
    data.val_size, data.standardize); see configs/moons.yaml for what each one does.
    `val_size` is the fraction of the rows given to `fit` held out for validation (early
    stopping and `validation_loss_curve_`): round(val_size * n_samples) rows (at least one),
    stratified, exactly as `trainer train` cuts its validation split; ValueError when every
    class cannot reach both sides. `standardize` fits the scaler on the remaining rows only.

    random_state: None (fresh OS entropy every fit), an int (seeds the one
    np.random.Generator exactly as `seed` does for `trainer train`), or a
    np.random.RandomState (one integer is drawn from it to seed the Generator, so it
    advances on every fit). The Generator seeds the validation split, then draws the
    initial weights, then the shuffles of every epoch.

    Fitted attributes: classes_, n_features_in_, feature_names_in_ (only when X had string
    column names), params_ (W1, b1, W2, b2), scaler_mean_ and scaler_scale_ (None without
    standardize), n_iter_ (epochs run), best_epoch_ (the epoch whose weights were kept),
    loss_curve_ (training objective per epoch), validation_loss_curve_ and
    validation_scores_ (cross-entropy and accuracy on the validation split per epoch; None
    when val_size is 0).

    After a fit on a DataFrame, a DataFrame given to predict, predict_proba or score is matched
    by column name, as `trainer predict` matches a CSV's header: any order, other columns ignored,
    a missing feature a ValueError that names it (scikit-learn's own check refuses a new order).
    An array is taken by position, with scikit-learn's warning.

    Invalid parameters raise ValueError at `fit`, naming the config key. A diverging fit
    raises trainer.errors.DivergenceError. `save(path)` writes our model file, which
    `load(path)`, `trainer evaluate --csv` and `trainer predict` read.
    """

    def __init__(
        self,
        hidden_size=100,
        init="xavier",
        init_std=0.01,
        dtype="float64",
        epochs=200,
        batch_size=32,
        optimizer="adam",
        lr=1e-3,
        momentum=0.9,
        beta1=0.9,
        beta2=0.999,
        eps=1e-8,
        reg=2e-3,
        lr_schedule="cosine",
        lr_decay=0.1,
        lr_step=30,
        lr_min=0.0,
        early_stopping=False,
        monitor="val_loss",
        patience=10,
        min_delta=1e-4,
        shuffle=True,
        engine="fast",
        threads=None,
        val_size=0.0,
        standardize=True,
        random_state=None,
    ):
        self.hidden_size = hidden_size
        self.init = init
        self.init_std = init_std
        self.dtype = dtype
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.reg = reg
        self.lr_schedule = lr_schedule
        self.lr_decay = lr_decay
        self.lr_step = lr_step
        self.lr_min = lr_min
        self.early_stopping = early_stopping
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.shuffle = shuffle
        self.engine = engine
        self.threads = threads
        self.val_size = val_size
        self.standardize = standardize
        self.random_state = random_state

    @classmethod
    def from_config(cls, cfg):
        """An estimator with a Config's model, train and data settings, seeded by its seed."""
        sections = {"model": cfg.model, "train": cfg.train, "data": cfg.data}
        params = {k: getattr(sections[s], k) for s, keys in SECTIONS.items() for k in keys}
        return cls(**params, random_state=cfg.seed)

    def _config(self):
        """The parameters checked by the config loader; ValueError naming the key."""
        p = {k: v.item() if isinstance(v, np.generic) else v for k, v in self.get_params().items()}
        raw = {s: {k: p[k] for k in keys} for s, keys in SECTIONS.items()}
        raw["data"]["test_size"] = 0.0  # the caller holds out its own test rows
        try:
            return config_from_dict(raw)
        except ConfigError as e:
            raise ValueError(f"{type(self).__name__}: {str(e).removeprefix('<config>: ')}") from None

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and labels y (n_samples,); return self."""
        cfg = self._config()
        X, y = validate_data(self, X, y, dtype=INPUT_DTYPES)
        check_classification_targets(y)
        self.classes_, y = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes; "
                f"y holds only one class ({self.classes_[0]!r})"
            )
        rng = _generator(self.random_state)
        try:
            (X, y), val = _hold_out(X, y, cfg.data.val_size, rng)
        except DataError as e:
            raise ValueError(
                f"{type(self).__name__}: val_size={cfg.data.val_size}: {str(e).removeprefix('data: ')}"
            ) from None
        dtype = cfg.model.dtype
        self.scaler_mean_, self.scaler_scale_ = fit_scaler(X) if cfg.data.standardize else (None, None)
        X = standardize(X, self.scaler_mean_, self.scaler_scale_, dtype)
        if val is not None:
            val = (standardize(val[0], self.scaler_mean_, self.scaler_scale_, dtype), val[1])
        state = train_fit(new_state(cfg, X.shape[1], len(self.classes_), rng), X, y, cfg.train, val)
        self.params_ = state.params
        self._set_history(state.history, state.best_epoch or state.epoch)
        return self

    def _set_history(self, history, best_epoch):
        """n_iter_, best_epoch_ and the per-epoch curves from training.loop.fit's records."""
        self.n_iter_, self.best_epoch_ = len(history), best_epoch
        self.loss_curve_ = [r["train_loss"] for r in history]
        validated = bool(history) and "val_loss" in history[0]
        self.validation_loss_curve_ = [r["val_loss"] for r in history] if validated else None
        self.validation_scores_ = [r["val_accuracy"] for r in history] if validated else None

    def _inputs(self, X):
        """X checked against the fit and transformed exactly as a saved model transforms raw rows."""
        check_is_fitted(self)
        X = validate_data(self, _by_name(self, X), reset=False, dtype=INPUT_DTYPES)
        return standardize(X, self.scaler_mean_, self.scaler_scale_, self.params_["W1"].dtype)

    def predict_proba(self, X):
        """Probability of each class in classes_ (n_samples, n_classes), in the network's dtype."""
        X = self._inputs(X)  # first: it raises NotFittedError before params_ is read
        return predict_proba(self.params_, X)

    def predict_log_proba(self, X):
        """Log of predict_proba, computed from the logits so it stays finite."""
        X = self._inputs(X)
        return log_softmax(scores(self.params_, X))

    def predict(self, X):
        """The most probable class label of each row (n_samples,)."""
        best = self.predict_proba(X).argmax(axis=1)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[best]

    # ------------------------------------------------------------ our model file

    def to_saved_model(self):
        """The fitted network as a SavedModel: what `trainer evaluate` and `trainer predict` read."""
        check_is_fitted(self)
        labels = [c.item() if isinstance(c, np.generic) else c for c in self.classes_]
        if not all(is_label(c) for c in labels):
            raise ValueError(
                f"cannot save classes_ {self.classes_!r}: "
                "a model file holds bool, int, finite float or str labels"
            )
        named = hasattr(self, "feature_names_in_")
        names = list(self.feature_names_in_) if named else [f"x{j}" for j in range(self.n_features_in_)]
        config = {s: {k: getattr(self, k) for k in keys} for s, keys in SECTIONS.items()}
        seed = self.random_state if isinstance(self.random_state, numbers.Integral) else None
        config["estimator"] = {
            "class": type(self).__name__,
            "random_state": None if seed is None else int(seed),
            "classes_dtype": self.classes_.dtype.str,
            "feature_names_in": named,
        }
        metrics = {
            "n_iter": self.n_iter_,
            "best_epoch": self.best_epoch_,
            "loss_curve": self.loss_curve_,
            "validation_loss_curve": self.validation_loss_curve_,
            "validation_scores": self.validation_scores_,
        }
        return SavedModel(
            params=self.params_,
            classes=labels,
            feature_names=[str(f) for f in names],
            scaler_mean=self.scaler_mean_,
            scaler_scale=self.scaler_scale_,
            config=config,
            metrics=metrics,
            positional=not named,
        )

    def save(self, path):
        """Write the fitted network to `path` in our model file format (atomically)."""
        save_model(path, self.to_saved_model())

    @classmethod
    def from_saved_model(cls, model):
        """A fitted estimator from a SavedModel (saved by `save` or by `trainer train`)."""
        cfg, meta = model.config, model.config.get("estimator", {})
        params = {k: cfg[s][k] for s, keys in SECTIONS.items() for k in keys if k in cfg.get(s, {})}
        est = cls(**params, random_state=meta.get("random_state", cfg.get("seed")))
        est.params_ = {k: model.params[k] for k in PARAM_NAMES}
        est.scaler_mean_, est.scaler_scale_ = model.scaler_mean, model.scaler_scale
        est.classes_ = np.asarray(model.classes, dtype=meta.get("classes_dtype"))
        est.n_features_in_ = model.n_features
        if meta.get("feature_names_in", not model.positional):  # a `trainer train` model: its CSV's names
            est.feature_names_in_ = np.asarray(model.feature_names, dtype=object)
        m = model.metrics
        n_iter = m.get("n_iter", m.get("epochs_run", 0))
        est.n_iter_, est.best_epoch_ = n_iter, m.get("best_epoch", n_iter)
        # None for a `trainer train` model: its run keeps the curves in metrics.jsonl
        est.loss_curve_ = m.get("loss_curve")
        est.validation_loss_curve_ = m.get("validation_loss_curve")
        est.validation_scores_ = m.get("validation_scores")
        return est

    @classmethod
    def load(cls, path):
        """A fitted estimator read from a model file."""
        return cls.from_saved_model(load_model(path))


def _by_name(est, X):
    """A DataFrame's columns picked by name in the order of feature_names_in_ (any order, other
    columns ignored), as `trainer predict` picks a CSV's; ValueError naming missing features."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(est, "feature_names_in_"):
        return X
    names, features = [str(c) for c in columns], [str(f) for f in est.feature_names_in_]
    twice = sorted({n for n in names if n in features and names.count(n) > 1})
    if twice:
        raise ValueError(f"{type(est).__name__}: X has more than one column named {twice[0]!r}")
    try:
        order = locate(features, names, "X")
    except DataError as e:
        raise ValueError(f"{type(est).__name__}: {e}") from None
    return X if order == list(range(len(names))) else X.iloc[:, order]


def _generator(random_state):
    """The one np.random.Generator of a fit, from scikit-learn's random_state conventions."""
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    # a RandomState (check_random_state raises ValueError for anything else): draw one seed from it
    return np.random.default_rng(int(check_random_state(random_state).randint(SEED_BOUND, dtype=np.int64)))


def _hold_out(X, y, val_size, rng):
    """((X, y) to train on, (X, y) held out or None): prepare.hold_out's rows, seeded by one draw from rng."""
    seed = int(rng.integers(SEED_BOUND))  # drawn even when unused: later draws never depend on val_size
    train, val = hold_out(np.arange(len(y)), y, val_size, seed)
    return (X[train], y[train]), None if val is None else (X[val], y[val])
