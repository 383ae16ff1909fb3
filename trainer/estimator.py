"""scikit-learn's face of the network: TwoLayerNetClassifier, trained by the command line's core and loop.

fit: check the parameters with the config loader -> check X, y (scikit-learn) -> hold out the
validation split (data.prepare.hold_out: split's count and stratified cut) -> standardise with the
train part's scaler -> weigh the train rows (training.weights) -> runs.run.new_state,
training.loop.optimize: the calls `trainer train` makes, on arrays instead of a dataset. A warm fit and
partial_fit go on with the TrainState the last call left (its params, optimizer, Generator and
epoch count), so continued training is the same arithmetic as one long fit.
"""

import numbers
from collections import Counter
from dataclasses import fields, replace

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from trainer.config.load import config_from_dict
from trainer.data.columns import locate
from trainer.data.datasets import SEED_BOUND
from trainer.data.fitting import fit as fit_preprocessing
from trainer.data.prepare import hold_out
from trainer.data.schema import Schema, numeric_schema, positional_names
from trainer.data.table import Table, check_categories, frame_inputs, numeric_table
from trainer.data.weights import BALANCED, class_weight_by_index, class_weights, row_weights
from trainer.errors import ConfigError, DataError, InputError
from trainer.model.network import PARAM_NAMES, ModelConfig, log_softmax, predict_proba, scores
from trainer.runs.run import new_state
from trainer.storage.modelfile import SavedModel, is_label, load_model, save_model
from trainer.training.loop import TrainConfig, optimize

# config section -> the constructor parameters that carry its keys' names
SECTIONS = {
    # all but init_from: an estimator goes on from its own fit (warm_start) or a loaded one
    "model": tuple(f.name for f in fields(ModelConfig) if f.name != "init_from"),
    # all but checkpoint_*: there is no run dir to checkpoint into
    "train": tuple(f.name for f in fields(TrainConfig) if not f.name.startswith("checkpoint_")),
    # the data keys that make sense on arrays and DataFrames
    "data": ("val_size", "standardize", "missing", "unknown_category", "max_categories"),
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

    Weights: `fit(X, y, sample_weight)` weighs each row's loss by its sample weight times its
    class's weight under `class_weight` (None; 'balanced', scikit-learn's n_samples / (n_classes *
    bincount(y)) over the rows left for training, counted with their sample weights; or a mapping
    label -> weight, unnamed classes weighing 1). The validation loss, early stopping, `score` and
    the scaler are unweighted. Integer weights train as repeated rows do (exactly with
    batch_size=None and standardize=False; minibatches of repeated rows are other minibatches).

    Continuing: with `warm_start=True`, `fit` after a fit goes on from it for `epochs` more epochs:
    the weights, the optimizer's state, the Generator, the epoch count, the scaler and the
    validation rows' seed carry over, so on the same data `fit` for a epochs then `fit` for b equals
    one `fit` of a + b, bit for bit, under a schedule that does not look at the run's length
    (constant, step, exponential). `partial_fit(X, y, classes)` trains one epoch on the rows given
    (no validation split, no early stopping); `classes` is required on the first call and y may
    hold only those labels; k calls on the same rows equal `fit` with epochs=k under any
    schedule. The schedule rule: every epoch's lr is the schedule at the run's epoch count over the
    run's planned length; a cold fit plans `epochs`, a warm fit plans `epochs` more from where the
    run stands, and partial_fit trains the next epoch of the plan, extending it by one epoch once
    the run reaches its end. So a warm fit's epochs get the lrs one long fit of a + b epochs gives
    them; only cosine, which anneals over the length, differs in the first a. A fit without
    warm_start starts anew. A loaded estimator (`load`) continues from its weights with a fresh
    optimizer and Generator, as `trainer train --init-from` does.

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
        class_weight=None,
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
        missing="error",
        unknown_category="error",
        max_categories=100,
        categorical=None,
        random_state=None,
        warm_start=False,
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
        self.class_weight = class_weight
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
        self.missing = missing
        self.unknown_category = unknown_category
        self.max_categories = max_categories
        self.categorical = categorical
        self.random_state = random_state
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing != "error"  # an imputer fills them, or their rows go
        return tags

    @classmethod
    def from_config(cls, cfg):
        """An estimator with a Config's model, train and data settings, seeded by its seed."""
        sections = {"model": cfg.model, "train": cfg.train, "data": cfg.data}
        params = {k: getattr(sections[s], k) for s, keys in SECTIONS.items() for k in keys}
        return cls(**params, random_state=cfg.seed)

    def _config(self):
        """The parameters checked by the config loader; ValueError naming the key."""
        p = {k: _plain(v) for k, v in self.get_params().items()}
        raw = {s: {k: p[k] for k in keys} for s, keys in SECTIONS.items()}
        raw["data"]["test_size"] = 0.0  # the caller holds out its own test rows
        raw["train"]["class_weight"] = _text_keys(p["class_weight"])  # checked as a config's labels are
        try:
            return config_from_dict(raw)
        except ConfigError as e:
            raise ValueError(f"{type(self).__name__}: {e.text(name=_parameter, where=False)}") from None

    def fit(self, X, y, sample_weight=None):
        """Train on X (n_samples, n_features; an array, or a DataFrame with columns of any dtype) and
        labels y (n_samples,), each row's loss weighed by sample_weight (n_samples,) and class_weight;
        return self. With warm_start, go on from the last fit (or the loaded model) for `epochs` more."""
        cfg = self._config()
        warm = self.warm_start and hasattr(self, "params_")
        table, y, sample_weight = self._rows(X, y, sample_weight, cfg, reset=not warm)
        if not warm:
            self._set_classes(y)
        table.y = self._indices(y, "fit")
        if not warm or not hasattr(self, "_state"):
            rng = _generator(self.random_state)
            # drawn even when unused: later draws never depend on val_size
            self._val_seed = int(rng.integers(SEED_BOUND))
        try:
            train, val = _hold_out(table, cfg.data.val_size, self._val_seed)
        except DataError as e:
            raise ValueError(
                f"{type(self).__name__}: val_size={cfg.data.val_size}: {str(e).removeprefix('data: ')}"
            ) from None
        if not warm:
            self._fit_preprocessing(train, cfg)
        weight = self._row_weights(train.y, train.weight, "fit")
        Z = self._transformed(train, cfg)
        val = None if val is None else (self._transformed(val, cfg, unknown="ignore"), val.y)
        if not warm:
            self._state = new_state(cfg, Z.shape[1], len(self.classes_), rng)
        elif not hasattr(self, "_state"):
            self._state = self._loaded_state(cfg, rng)
        state = self._state
        self._planned = state.epoch + cfg.train.epochs
        state.stopped_early, state.bad_epochs = False, 0  # a warm fit trains its epochs; patience afresh
        self._train(state, Z, train.y, replace(cfg.train, epochs=self._planned), val, weight)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over the rows X, y (each weighed by sample_weight and class_weight); return self.

        `classes`, every label y will ever hold, is required on the first call (as in scikit-learn);
        later calls may repeat it. The first call draws the weights and fits the preprocessing on its
        rows; every call goes on with the optimizer, Generator and epoch count the last one left."""
        cfg = self._config()
        first = not hasattr(self, "params_")
        table, y, sample_weight = self._rows(X, y, sample_weight, cfg, reset=first)
        if first and classes is None:
            raise ValueError(
                f"{type(self).__name__}.partial_fit: pass classes (every label y will hold) on the first call"
            )
        if first:
            self._set_classes(classes)
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"{type(self).__name__}.partial_fit: classes {_shown(np.unique(classes))} differ from "
                f"classes_ {_shown(self.classes_)} of the first call"
            )
        table.y = self._indices(y, "partial_fit")
        if not hasattr(self, "_state"):
            rng = _generator(self.random_state)
            self._val_seed = int(rng.integers(SEED_BOUND))  # as fit draws it: the same draws follow
            if first:
                self._fit_preprocessing(table, cfg)
                self._state = new_state(cfg, self.prep_.schema.n_features, len(self.classes_), rng)
            else:
                self._state = self._loaded_state(cfg, rng)
            self._planned = cfg.train.epochs
        weight = self._row_weights(table.y, table.weight, "partial_fit")
        state = self._state
        self._planned = max(self._planned, state.epoch + 1)
        train = replace(cfg.train, epochs=self._planned, early_stopping=False)
        self._train(state, self._transformed(table, cfg), table.y, train, None, weight, until=state.epoch + 1)
        return self

    def _rows(self, X, y, sample_weight, cfg, reset):
        """(Table of X's rows, y, sample_weight), checked as scikit-learn checks them; the prologue of
        fit and partial_fit. reset: X's columns become the model's inputs (a DataFrame's text, object
        and category columns, and those `categorical` names, categorical); else they are matched to
        them. With missing='drop', rows missing a value are left out."""
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None")
        table, y = self._table(X, y, reset)
        sample_weight = _sample_weight(sample_weight, np.empty((len(y), 0)))
        check_classification_targets(y)
        table.weight = sample_weight
        if reset:
            try:
                check_categories(table, cfg.data.max_categories, set(self.categorical or ()), "X", key="")
            except DataError as e:
                raise ValueError(f"{name}: {e}") from None
        if cfg.data.missing == "drop":
            keep = ~table.missing()
            if not keep.any():
                raise ValueError(f"{name}: every row of X has a missing value (missing='drop')")
            table, y = table.take(keep), y[keep]
        return table, y, table.weight

    def _table(self, X, y=None, reset=False):
        """(X as a Table of the model's inputs, y as a 1-d array or None), as scikit-learn checks them."""
        name = type(self).__name__
        allow_nan = "allow-nan" if self.missing != "error" else True
        if not reset:
            X = _by_name(self, X)
        if not _is_frame(X):
            if not reset and self.prep_.schema.categorical:
                raise ValueError(
                    f"{name}: fitted on a DataFrame with categorical columns "
                    f"({', '.join(c.name for c in self.prep_.schema.categorical)}); pass a DataFrame"
                )
            checked = validate_data(
                self,
                X,
                *(() if y is None else (y,)),
                dtype=INPUT_DTYPES,
                reset=reset,
                ensure_all_finite=allow_nan,
            )
            X, y = checked if y is not None else (checked, None)
            schema = numeric_schema(_names(self, X.shape[1]), []) if reset else self.prep_.schema
            return numeric_table(X, schema), y
        validate_data(self, X, reset=reset, skip_check_array=True)
        if y is not None:
            y = column_or_1d(y, warn=True)
            check_consistent_length(X, y)
        kinds = None if reset else [c.kind for c in self.prep_.schema.inputs]
        try:
            columns, Xn, codes, values = frame_inputs(X, self.categorical or (), kinds)
        except ValueError as e:
            raise ValueError(f"{name}: {e}") from None
        if not reset and allow_nan is True and np.isnan(Xn).any():
            raise ValueError(f"{name}: Input X contains NaN (missing='{self.missing}')")
        schema = Schema(columns, []) if reset else self.prep_.schema
        return Table(schema, Xn, codes, values), y

    def _fit_preprocessing(self, table, cfg):
        """prep_ (imputer, encoder, scaler) fitted on the table's rows; scaler_mean_, scaler_scale_."""
        d = cfg.data
        try:
            self.prep_ = fit_preprocessing(
                table.schema, table, d.missing, d.standardize, d.unknown_category, (), "X"
            )
        except DataError as e:
            raise ValueError(f"{type(self).__name__}: {e}") from None
        self.prep_.schema.classes = [_plain(c) for c in self.classes_]
        self.prep_.schema.positional = not hasattr(self, "feature_names_in_")
        self.scaler_mean_, self.scaler_scale_ = self.prep_.scaler_mean, self.prep_.scaler_scale

    def _train(self, state, X, y, train_cfg, val, weight, until=None):
        """training.loop.optimize on the run's state; the fitted attributes from what it leaves."""
        optimize(state, X, y, train_cfg, val, sample_weight=weight, until=until)
        self.params_ = state.params
        self._set_history(state.history, state.best_epoch or state.epoch)

    def _set_classes(self, labels):
        """classes_: the sorted distinct labels; ValueError unless there are two at least."""
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes; "
                f"y holds only one class ({_plain(self.classes_[0])!r})"
            )

    def _indices(self, y, method):
        """The index in classes_ of each label of y; ValueError naming the labels that are not there."""
        index = np.clip(np.searchsorted(self.classes_, y), 0, len(self.classes_) - 1)
        new = np.unique(y[self.classes_[index] != y])
        if len(new):
            raise ValueError(
                f"{type(self).__name__}.{method}: y holds the label(s) {_shown(new)}, which are not among "
                f"classes_ {_shown(self.classes_)}; a new class needs a new fit (without warm_start)"
            )
        return index

    def _row_weights(self, y, sample_weight, method):
        """The training weight of each row: sample_weight times its class's class_weight (None: all 1)."""
        name, spec = type(self).__name__, self.class_weight
        if isinstance(spec, str) and spec == BALANCED:
            if method == "partial_fit":
                raise ValueError(
                    f"{name}.partial_fit: class_weight='balanced' would count the classes of each call's "
                    "rows alone; pass a mapping label -> weight, e.g. from "
                    "sklearn.utils.class_weight.compute_class_weight on a sample of every row"
                )
            absent = np.setdiff1d(np.arange(len(self.classes_)), y)
            if len(absent):
                raise ValueError(
                    f"{name}: class_weight='balanced' needs rows of every class, but none of "
                    f"{_shown(self.classes_[absent])} is left for training; pass a mapping label -> weight"
                )
        try:
            by_index = class_weight_by_index(spec, self.classes_)
        except ValueError as e:
            raise ValueError(f"{name}: class_weight: {e}") from None
        weight = row_weights(y, sample_weight, class_weights(by_index, len(self.classes_), y, sample_weight))
        if weight is not None and not weight.any():
            raise ValueError(
                f"{name}.{method}: every row left for training weighs 0 (sample_weight times class_weight); "
                "at least one weight must be non-zero"
            )
        return weight

    def _transformed(self, table, cfg, unknown=None):
        """The table's rows as the network's inputs (prep_.transform), in its dtype; ValueError at a
        value it cannot take. The validation rows pass unknown="ignore": a category too rare to reach
        the rows left for training is none of the known ones."""
        try:
            return self.prep_.transform(table, cfg.model.dtype, unknown)
        except InputError as e:
            raise ValueError(f"{type(self).__name__}: X: {e}") from None

    def _loaded_state(self, cfg, rng):
        """A new TrainState (fresh optimizer, epoch 0) holding the weights of a loaded estimator."""
        state = new_state(cfg, self.prep_.schema.n_features, len(self.classes_), rng)
        for k in PARAM_NAMES:
            state.params[k][...] = self.params_[k]
        return state

    def _set_history(self, history, best_epoch):
        """n_iter_, best_epoch_ and the per-epoch curves from training.loop.optimize's records."""
        self.n_iter_, self.best_epoch_ = len(history), best_epoch
        self.loss_curve_ = [r["train_loss"] for r in history]
        # None for an epoch without a validation split (partial_fit's), or for all when none had one
        validated = any("val_loss" in r for r in history)
        self.validation_loss_curve_ = [r.get("val_loss") for r in history] if validated else None
        self.validation_scores_ = [r.get("val_accuracy") for r in history] if validated else None

    def _inputs(self, X):
        """X checked against the fit and transformed exactly as a saved model transforms raw rows."""
        check_is_fitted(self)
        table, _ = self._table(X)
        try:
            return self.prep_.transform(table, self.params_["W1"].dtype)
        except InputError as e:
            raise ValueError(f"{type(self).__name__}: X: {e}") from None

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
                f"cannot save classes_ {self.classes_.tolist()!r}: "
                "a model file holds bool, int, finite float or str labels"
            )
        named = hasattr(self, "feature_names_in_")
        config = {s: {k: getattr(self, k) for k in keys} for s, keys in SECTIONS.items()}
        config["train"]["class_weight"] = _text_keys(self.class_weight)  # JSON: keys are text
        seed = self.random_state if isinstance(self.random_state, numbers.Integral) else None
        config["estimator"] = {
            "class": type(self).__name__,
            "random_state": None if seed is None else int(seed),
            "warm_start": bool(self.warm_start),
            "classes_dtype": self.classes_.dtype.str,
            "feature_names_in": named,
        }
        history = {
            "n_iter": self.n_iter_,
            "best_epoch": self.best_epoch_,
            "loss_curve": self.loss_curve_,
            "validation_loss_curve": self.validation_loss_curve_,
            "validation_scores": self.validation_scores_,
        }
        self.prep_.schema.classes = labels
        return SavedModel(self.params_, self.prep_, config, history=history)

    def save(self, path):
        """Write the fitted network to `path` in our model file format (atomically)."""
        save_model(path, self.to_saved_model())

    @classmethod
    def from_saved_model(cls, model):
        """A fitted estimator from a SavedModel (saved by `save` or by `trainer train`)."""
        cfg, meta = model.config, model.config.get("estimator", {})
        params = {k: cfg[s][k] for s, keys in SECTIONS.items() for k in keys if k in cfg.get(s, {})}
        est = cls(
            **params,
            random_state=meta.get("random_state", cfg.get("seed")),
            warm_start=meta.get("warm_start", False),
        )
        est.params_ = {k: model.params[k] for k in PARAM_NAMES}
        est.prep_ = model.prep
        est.scaler_mean_, est.scaler_scale_ = model.prep.scaler_mean, model.prep.scaler_scale
        est.classes_ = np.asarray(model.classes, dtype=meta.get("classes_dtype"))
        if isinstance(est.class_weight, dict):  # its text keys back to the labels they name
            labels = {str(c.item()): c.item() for c in est.classes_}
            est.class_weight = {labels.get(k, k): w for k, w in est.class_weight.items()}
        est.n_features_in_ = len(model.schema.inputs)
        if meta.get("feature_names_in", not model.positional):  # a `trainer train` model: its CSV's names
            est.feature_names_in_ = np.asarray(model.schema.names, dtype=object)
        h, summary = model.history, model.summary  # an estimator's history, or a run's summary
        n_iter = h.get("n_iter", summary.get("epochs_run", 0))
        est.n_iter_, est.best_epoch_ = n_iter, h.get("best_epoch", summary.get("best_epoch", n_iter))
        # None for a `trainer train` model: its run keeps the curves in metrics.jsonl
        est.loss_curve_ = h.get("loss_curve")
        est.validation_loss_curve_ = h.get("validation_loss_curve")
        est.validation_scores_ = h.get("validation_scores")
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
    wanted = set(features)
    twice = sorted(n for n, k in Counter(names).items() if k > 1 and n in wanted)
    if twice:
        raise ValueError(f"{type(est).__name__}: X has more than one column named {twice[0]!r}")
    try:
        order = locate(features, names, "X")
    except DataError as e:
        raise ValueError(f"{type(est).__name__}: {e}") from None
    return X if order == list(range(len(names))) else X.iloc[:, order]


def _parameter(key):
    """The parameter a dotted config key is (model.hidden_size: hidden_size), for a config error's text."""
    section, _, name = key.partition(".")
    return name if name in SECTIONS.get(section, ()) else key


def _plain(value):
    """A NumPy scalar as the Python value it holds, so a message shows 0.0, not np.float64(0.0)."""
    return value.item() if isinstance(value, np.generic) else value


def _generator(random_state):
    """The one np.random.Generator of a fit, from scikit-learn's random_state conventions."""
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    # a RandomState (check_random_state raises ValueError for anything else): draw one seed from it
    return np.random.default_rng(int(check_random_state(random_state).randint(SEED_BOUND, dtype=np.int64)))


def _hold_out(table, val_size, seed):
    """(Table to train on, Table held out or None): prepare.hold_out's rows cut by seed."""
    train, val = hold_out(np.arange(len(table)), table.y, val_size, seed)
    return table.take(train), None if val is None else table.take(val)


def _is_frame(X):
    """Whether X is a pandas DataFrame (its columns are read by kind, not as one numeric array)."""
    return hasattr(X, "columns") and hasattr(X, "iloc") and hasattr(X, "dtypes")


def _names(est, n):
    """The input names of an array of n columns: feature_names_in_ when set, else x0, x1, ...."""
    return (
        [str(f) for f in est.feature_names_in_] if hasattr(est, "feature_names_in_") else positional_names(n)
    )


def _sample_weight(sample_weight, X):
    """sample_weight checked by scikit-learn (shape, finite, >= 0, not all 0) as float64; None stays None."""
    if sample_weight is None:
        return None  # the unweighted path: its arithmetic, not all-ones weights'
    return _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)


def _text_keys(class_weight):
    """A class_weight mapping with its labels as text (JSON's keys); anything else as it is."""
    if not isinstance(class_weight, dict):
        return class_weight
    plain = {k.item() if isinstance(k, np.generic) else k: v for k, v in class_weight.items()}
    return {str(k): v.item() if isinstance(v, np.generic) else v for k, v in plain.items()}


def _shown(labels):
    """Labels as a short list for a message: 'a', 'b', 'c'."""
    return ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in labels)
