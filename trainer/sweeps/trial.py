"""One trial of a sweep, run as a job (jobs.py): its fits, their scores, whether any ended at
chance level, and on request the fitted models, all as plain data that the journal can hold.

A trial is a function of its config and cv alone (its seed included), never of the worker that
runs it: so its outcome is the same on every backend and any number of workers; only fit_time
differs. Without cv it is `trainer train`'s own run (runs.run.train_in_memory) scored on the
config's validation split. With cv=K: the dataset is loaded and split exactly as `trainer train`
splits it (the same three draws from default_rng(seed)), its test split is set aside untouched,
and the train and validation rows together are cut into K stratified shuffled folds; each fold is
scored by a TwoLayerNetClassifier fitted on the other K-1, which holds out the same share of its
rows for early stopping as the validation split is of the non-test rows.
"""

import time
from dataclasses import replace

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_validate

from trainer.data.datasets import SEED_BOUND
from trainer.data.prepare import raw_splits
from trainer.data.table import table_frame
from trainer.data.weights import class_weight_by_index, class_weights, row_weights
from trainer.errors import ConfigError, DataError, DivergenceError, TrainerError, first_line
from trainer.estimator import TwoLayerNetClassifier
from trainer.runs.run import at_chance, parent_model, saved_model, summarize, train_in_memory
from trainer.stats import bands
from trainer.storage.modelfile import checksum, model_bytes
from trainer.training.loop import loss_and_accuracy

VAL_CURVE = ("val_loss", "val_accuracy")  # a trial's curve, when it is scored on its validation split


def run_trial(cfg, cv, keep_models=False):
    """One trial's outcome: {"scores", "losses"} (one per fold, or the validation split's),
    "fit_time", "chance" (a fit ended at chance level: runs.run.at_chance on its training rows),
    "curve" (its fits' per-epoch curves, mean_curve) and, with keep_models, "models" (each fit's
    model file, as bytes). A trial that fails gives {"error": one line, "failed": "diverged" or
    "error"} instead, so that the sweep goes on."""
    # the job holds BLAS at one thread; train.threads would set a process-wide limit of its own,
    # lifting the job's and racing the limits of trials on other threads of this process
    cfg = replace(cfg, train=replace(cfg.train, threads=None))
    try:
        return _cross_validate(cfg, cv, keep_models) if cv else _validate(cfg, keep_models)
    except DivergenceError as e:
        return {"error": str(e), "failed": "diverged"}
    except TrainerError as e:
        return {"error": str(e), "failed": "error"}
    except Exception as e:  # anything unforeseen fails this trial alone; the sweep reports it at the end
        return {"error": f"{type(e).__name__}: {first_line(e)}", "failed": "error"}


def _validate(cfg, keep_models):
    """`trainer train`'s run of cfg (its data recreated, then fitted), scored on its validation split."""
    t0 = time.perf_counter()
    parent = parent_model(cfg)
    data, state = train_in_memory(cfg, parent=parent)
    seconds = time.perf_counter() - t0
    loss, accuracy = loss_and_accuracy(state.params, *data.val)
    weight = data.train_weight  # with training weights, the chance check weighs the rows alike
    train_loss, train_accuracy = loss_and_accuracy(state.params, *data.train, weight)
    fitted = {"accuracy": train_accuracy, "loss": train_loss}
    chance, _, _ = at_chance(fitted, data.train[1], data.n_classes, weight)
    outcome = {
        "scores": [accuracy],
        "losses": [loss],
        "fit_time": seconds,
        "chance": chance,
        "curve": mean_curve([{m: [r[m] for r in state.history] for m in VAL_CURVE}]),
    }
    if keep_models:
        parent_sha = None if parent is None else checksum(parent)
        model = saved_model(cfg, data, state.params, summarize(cfg, data, state, seconds), parent_sha)
        outcome["models"] = [model_bytes(model)]
    return outcome


def _cross_validate(cfg, k, keep_models):
    """Stratified k-fold accuracies on cfg's non-test rows (see the module docstring)."""
    rng = np.random.default_rng(cfg.seed)
    parts = raw_splits(cfg.data, rng)  # prepare's three draws: the same test split
    kept = [t for t in (parts.train, parts.val) if t is not None]
    X = _rows(kept)
    y = np.concatenate([t.y for t in kept])
    classes = parts.schema.classes
    folds = StratifiedKFold(k, shuffle=True, random_state=int(rng.integers(SEED_BOUND)))
    est = TwoLayerNetClassifier.from_config(cfg).set_params(
        random_state=int(rng.integers(SEED_BOUND)),
        val_size=cfg.data.val_size / (1 - cfg.data.test_size),
        # y holds class indices here: the config's labels become indices (weights stay per fold)
        class_weight=_class_weight_by_index(cfg, classes),
        # each fold's rows are the table's: the same kinds, and text the estimator reads as categories
        categorical=[c.name for c in parts.schema.categorical],
        # a held-out fold is the data's own rows, as a validation split: a category too rare to reach
        # a fold's training rows is none of the known ones there (trainer train does the same)
        unknown_category="ignore",
    )
    weights = [t.weight for t in kept if t.weight is not None]
    fit_params = {"sample_weight": np.concatenate(weights)} if weights else {}
    try:
        result = cross_validate(
            est,
            X,
            y,
            cv=folds,
            scoring={"accuracy": "accuracy", "loss": cross_entropy},
            error_score="raise",
            params=fit_params,
            return_indices=True,  # each fit's training rows, and
            return_estimator=True,  # its network, for the chance check
        )
    except ValueError as e:  # too few rows of a class for k folds, or for a fold's validation split
        raise DataError(
            f"{k}-fold cross-validation on {len(y)} train and validation rows: {first_line(e)}"
        ) from None
    weight = fit_params.get("sample_weight")
    fits = zip(result["estimator"], result["indices"]["train"], strict=True)
    chance = any(
        _fit_at_chance(est, _index(X, rows), y[rows], None if weight is None else weight[rows], len(classes))
        for est, rows in fits
    )
    outcome = {
        "scores": [float(s) for s in result["test_accuracy"]],
        "losses": [float(s) for s in result["test_loss"]],
        "fit_time": float(result["fit_time"].sum()),
        "chance": bool(chance),
        "curve": mean_curve([_fit_curve(e) for e in result["estimator"]]),
    }
    if keep_models:
        outcome["models"] = [model_bytes(_kept(e, cfg)) for e in result["estimator"]]
    return outcome


def _fit_curve(est):
    """A fold's per-epoch curve: on its own validation rows when it held some out (data.val_size
    above 0), else its training objective, the only per-epoch number such a fit has."""
    if est.validation_loss_curve_ is None:
        return {"train_loss": est.loss_curve_}
    return {"val_loss": est.validation_loss_curve_, "val_accuracy": est.validation_scores_}


def mean_curve(curves):
    """Fits' curves (each a dict: metric -> per-epoch values, null for none) -> one such dict, each
    epoch the mean over the fits that ran it (early stopping ends fits at different epochs)."""
    if not curves or any(c is None or c.keys() != curves[0].keys() for c in curves):
        return None  # a job journaled without a curve, or fits that recorded different things
    return {metric: bands([c[metric] for c in curves])["mean"] for metric in curves[0]}


def _kept(est, cfg):
    """A fold's model as the config would have it: its unknown_category the config's."""
    model = est.to_saved_model()
    model.prep.unknown_category = cfg.data.unknown_category
    model.config["data"]["unknown_category"] = cfg.data.unknown_category
    return model


def _rows(tables):
    """The rows of the tables as the estimator's X: one array of numbers, or (with categorical
    columns) a DataFrame of the inputs, their text as object columns."""
    if not tables[0].schema.categorical:
        return np.concatenate([t.X for t in tables])
    import pandas as pd

    return pd.concat([table_frame(t) for t in tables], ignore_index=True)


def _index(X, rows):
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _fit_at_chance(est, X, y, sample_weight, n_classes):
    """Whether a fold's fitted estimator is at chance level (runs.run.at_chance) on its training rows
    (X, y: indices of n_classes classes), each weighed by its sample weight times its class's
    weight, as the fit weighed them (class_weight 'balanced' counted over all these rows)."""
    spec = est.class_weight
    weight = row_weights(y, sample_weight, class_weights(spec, n_classes, y, sample_weight))
    log_proba = est.predict_log_proba(X)  # (n, classes_ of the fit)
    fitted = {
        "accuracy": float(np.average(est.classes_[log_proba.argmax(axis=1)] == y, weights=weight)),
        "loss": float(
            -np.average(log_proba[np.arange(len(y)), np.searchsorted(est.classes_, y)], weights=weight)
        ),
    }
    return at_chance(fitted, y, n_classes, weight)[0]


def _class_weight_by_index(cfg, classes):
    """train.class_weight with its labels as class indices (ConfigError naming an unknown label)."""
    try:
        return class_weight_by_index(cfg.train.class_weight, classes, key=str)
    except ValueError as e:
        raise ConfigError(f"train.class_weight: {e}") from None


def cross_entropy(est, X, y):
    """A fitted estimator's mean cross-entropy on (X, y), from the logits as a run's summary has it
    (log_softmax: never clipped); a scorer for cross_validate, which reports it as is."""
    log_proba = est.predict_log_proba(X)
    return float(-np.mean(log_proba[np.arange(len(y)), np.searchsorted(est.classes_, y)]))
