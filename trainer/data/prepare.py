"""The splits a run trains on: stratified train/val/test rows, standardised with the train split's scaler.

Randomness: `load_dataset` draws one integer from the run's Generator and `split` draws two,
always, whatever the dataset or sizes; so `prepare` advances the Generator by exactly three
draws and the draws after it (initialisation, shuffling) do not depend on the data chosen.
"""

import math
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from trainer.data.datasets import SEED_BOUND, data_source, load_dataset
from trainer.errors import ConfigError, DataError, first_line
from trainer.model.scaling import IMPUTERS, fit_imputer, fit_scaler, impute, standardize
from trainer.training.weights import class_weight_by_index, class_weights, row_weights


@dataclass
class Splits:
    train: tuple  # (X, y)
    val: tuple | None  # (X, y), or None when val_size is 0
    test: tuple | None  # (X, y), or None when test_size is 0
    classes: list
    feature_names: list[str]
    target: str | int | None = None  # as Dataset's
    positional: bool = False
    n_dropped: int = 0
    train_weight: np.ndarray | None = None  # data.weight of the train rows, None without a weight column
    val_weight: np.ndarray | None = None  # data.weight of the validation rows


@dataclass
class Prepared:
    """Splits ready for the network: standardised with the train split's scaler, cast to the model dtype."""

    train: tuple
    val: tuple | None
    test: tuple | None
    classes: list
    feature_names: list[str]
    scaler_mean: np.ndarray | None  # (d,) float64, None when not standardised
    scaler_scale: np.ndarray | None  # (d,) float64, never 0
    imputer_statistics: np.ndarray | None = None  # (d,) float64, with data.missing mean or median
    target: str | int | None = None
    positional: bool = False
    n_dropped: int = 0  # rows dropped for missing values (data.missing: drop)
    n_filled: int = 0  # missing values imputed, in all splits (data.missing: mean or median)
    # (n_train,) float64 training weight of each train row, None when every row weighs 1: prepare
    # gives data.weight's column; runs.run.start multiplies in train.class_weight (training_weights)
    train_weight: np.ndarray | None = None

    @property
    def n_features(self):
        return self.train[0].shape[1]

    @property
    def n_classes(self):
        return len(self.classes)


def _count(fraction, n):
    """Rows a fraction of n gives: rounded half up, at least 1 when the fraction is not 0."""
    return 0 if fraction == 0 else max(1, math.floor(fraction * n + 0.5))


def split(ds, cfg, rng):
    """Stratified train/val/test splits, sizes as fractions of the whole; draws two integers from `rng`."""
    test_seed, val_seed = (int(s) for s in rng.integers(SEED_BOUND, size=2))
    n, C = len(ds.y), len(ds.classes)
    sizes = {"test": _count(cfg.test_size, n), "val": _count(cfg.val_size, n)}
    sizes["train"] = n - sizes["test"] - sizes["val"]
    _check_sizes(sizes, n, C)
    idx = np.arange(n)
    train, test = _cut(idx, ds.y, sizes["test"], test_seed)
    train, val = _cut(train, ds.y, sizes["val"], val_seed)

    def part(i):
        return None if i is None else (ds.X[i], ds.y[i])

    def weight(i):
        return None if i is None or ds.weight is None else ds.weight[i]

    parts = part(train), part(val), part(test)
    return Splits(
        *parts,
        ds.classes,
        ds.feature_names,
        target=ds.target,
        positional=ds.positional,
        n_dropped=ds.n_dropped,
        train_weight=weight(train),
        val_weight=weight(val),
    )


def _check_sizes(sizes, n, C):
    """Every split that exists must be able to hold one row of each class."""
    if sizes["train"] < C:
        raise DataError(
            f"data: the train split keeps {sizes['train']} of {n} rows, fewer than the {C} classes; "
            "lower data.test_size / data.val_size or add rows"
        )
    for name in ("val", "test"):
        if 0 < sizes[name] < C:
            raise DataError(
                f"data.{name}_size: a {name} split of {sizes[name]} of {n} rows cannot hold "
                f"all {C} classes; raise data.{name}_size or add rows"
            )


def _cut(idx, y, size, seed):
    """(rest, held-out) indices: `size` rows of idx held out, stratified by y; held-out None if size is 0."""
    if size == 0:
        return idx, None
    try:
        return train_test_split(idx, test_size=size, stratify=y[idx], random_state=seed)
    except ValueError as e:
        raise DataError(f"data: cannot split {len(idx)} rows stratified: {first_line(e)}") from None


def hold_out(idx, y, fraction, seed):
    """(rest, held-out) indices: a fraction of idx held out as split counts and cuts (half up, stratified).

    Held-out is None when fraction is 0; DataError when the cut cannot be stratified."""
    return _cut(idx, y, _count(fraction, len(idx)), seed)


def raw_splits(cfg, rng):
    """The Splits of the dataset cfg names, in raw feature units: load_dataset, then split (three draws).

    Every recreation of a run's data goes through here (runs.run.start via prepare, a saved
    model's splits in evaluate.model_splits, the sweep's folds), so they all draw the same rows.
    """
    return split(load_dataset(cfg, rng), cfg, rng)


def fit_preprocessing(cfg, X_train, feature_names):
    """(imputer statistics or None, scaler mean, scaler scale) fitted on the train split's raw X,
    as cfg (a DataConfig) asks; both None where it does not standardise or impute."""
    source = data_source(cfg)
    stats = fit_imputer(X_train, cfg.missing, feature_names, source) if cfg.missing in IMPUTERS else None
    X_train = impute(X_train, stats)
    mean, scale = fit_scaler(X_train, feature_names, source) if cfg.standardize else (None, None)
    return stats, mean, scale


def prepare(cfg, rng, dtype="float64"):
    """raw_splits, then impute and standardise every split with what the train split gives (three
    draws from rng)."""
    s = raw_splits(cfg, rng)
    stats, mean, scale = fit_preprocessing(cfg, s.train[0], s.feature_names)
    parts = [p for p in (s.train, s.val, s.test) if p is not None]
    filled = sum(int(np.isnan(p[0]).sum()) for p in parts) if stats is not None else 0

    def ready(part):
        return None if part is None else (standardize(impute(part[0], stats), mean, scale, dtype), part[1])

    return Prepared(
        ready(s.train),
        ready(s.val),
        ready(s.test),
        s.classes,
        s.feature_names,
        mean,
        scale,
        imputer_statistics=stats,
        target=s.target,
        positional=s.positional,
        n_dropped=s.n_dropped,
        n_filled=filled,
        train_weight=s.train_weight,
    )


def training_weights(s, class_weight, source):
    """(n_train,) weight of each train row of s (Splits or Prepared): its data.weight (1 without)
    times its class's weight under class_weight (train.class_weight: null, 'balanced' or
    {label: weight}, labels matched as text); None when there are neither. 'balanced' counts the
    train split's rows, with their data.weight. `source` names the data in errors."""
    try:
        by_index = class_weight_by_index(class_weight, s.classes, key=str)
    except ValueError as e:
        raise ConfigError(f"train.class_weight: {e} of {source}") from None
    y = s.train[1]
    weight = row_weights(y, s.train_weight, class_weights(by_index, len(s.classes), y, s.train_weight))
    if weight is not None and not weight.any():
        raise DataError(
            f"{source}: every row of the train split weighs 0 (data.weight times train.class_weight); "
            "give some of its rows a weight > 0"
        )
    return weight
