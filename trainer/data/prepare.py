"""The splits a run trains on: stratified train/val/test rows of a dataset, and the preprocessing
fitted on the train split applied to each.

Randomness: `load_dataset` draws one integer from the run's Generator and `split` draws two,
always, whatever the dataset or sizes; so `prepare` advances the Generator by exactly three
draws and the draws after it (initialisation, shuffling) do not depend on the data chosen.
"""

import math
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from trainer.data import fitting, preprocess
from trainer.data.datasets import SEED_BOUND, data_source, load_dataset
from trainer.data.weights import class_weight_by_index, class_weights, row_weights
from trainer.errors import ConfigError, DataError, first_line

SPLITS = ("train", "val", "test")


@dataclass
class Splits:
    """A dataset's rows cut into splits: raw Tables sharing one schema."""

    train: object  # Table
    val: object | None  # Table, or None when val_size is 0
    test: object | None  # Table, or None when test_size is 0

    @property
    def schema(self):
        return self.train.schema


@dataclass
class Prepared:
    """Splits ready for the network: each split's inputs (preprocessed, in the model's dtype) and
    labels, the Preprocessing that made them, and the raw rows they came from."""

    prep: object  # Preprocessing, fitted on the train split
    raw: Splits
    train: tuple  # (Z, y)
    val: tuple | None
    test: tuple | None
    train_weight: np.ndarray | None = None  # (n_train,) weight of each train row; None when all weigh 1
    n_filled: int = 0  # missing values imputed, in all splits (data.missing: mean or median)
    n_unseen: dict = None  # split -> its values of categories the train split does not have

    @property
    def schema(self):
        return self.prep.schema

    @property
    def classes(self):
        return self.prep.schema.classes

    @property
    def feature_names(self):
        return self.prep.schema.feature_names

    @property
    def n_features(self):
        return self.train[0].shape[1]

    @property
    def n_classes(self):
        return len(self.classes)

    @property
    def n_dropped(self):
        return self.raw.train.n_dropped  # the whole table's count, carried by each of its splits


def _count(fraction, n):
    """Rows a fraction of n gives: rounded half up, at least 1 when the fraction is not 0."""
    return 0 if fraction == 0 else max(1, math.floor(fraction * n + 0.5))


def split(table, data_cfg, rng):
    """Stratified train/val/test Splits of a Table, sizes as fractions of the whole; draws two
    integers from `rng`."""
    test_seed, val_seed = (int(s) for s in rng.integers(SEED_BOUND, size=2))
    n, C = len(table.y), len(table.schema.classes)
    sizes = {"test": _count(data_cfg.test_size, n), "val": _count(data_cfg.val_size, n)}
    sizes["train"] = n - sizes["test"] - sizes["val"]
    _check_sizes(sizes, n, C)
    idx = np.arange(n)
    train, test = _cut(idx, table.y, sizes["test"], test_seed)
    train, val = _cut(train, table.y, sizes["val"], val_seed)
    return Splits(*(None if i is None else table.take(i) for i in (train, val, test)))


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


def raw_splits(data_cfg, rng):
    """The Splits of the dataset data_cfg names, in raw units: load_dataset, then split (three draws).

    Every recreation of a run's data goes through here (runs.run.start via prepare, a saved
    model's splits in evaluate.model_splits, the sweep's folds), so they all draw the same rows.
    """
    return split(load_dataset(data_cfg, rng), data_cfg, rng)


def fit_preprocessing(data_cfg, train):
    """The Preprocessing of the train split's Table, as data_cfg (a DataConfig) asks."""
    return fitting.fit(
        train.schema,
        train,
        data_cfg.missing,
        data_cfg.standardize,
        data_cfg.unknown_category,
        data_cfg.na_values,
        data_source(data_cfg),
    )


def prepare(data_cfg, rng, dtype="float64", class_weight=None):
    """raw_splits, then the preprocessing fitted on the train split applied to every split (three
    draws from rng); each train row weighed by its data.weight times its class's weight under
    class_weight (train.class_weight)."""
    s = raw_splits(data_cfg, rng)
    prep = fit_preprocessing(data_cfg, s.train)
    parts = [t for t in (s.train, s.val, s.test) if t is not None]
    filled = sum(int(t.missing_count()) for t in parts) if data_cfg.missing in preprocess.IMPUTERS else 0

    def ready(table):  # a category too rare to reach the train split is none of the known ones
        return None if table is None else (prep.transform(table, dtype, unknown="ignore"), table.y)

    weight = training_weights(
        s.train.y, s.train.weight, prep.schema.classes, class_weight, data_source(data_cfg)
    )
    unseen = {name: prep.unseen(t) for name, t in (("val", s.val), ("test", s.test)) if t is not None}
    unseen = {name: n for name, n in unseen.items() if n}
    return Prepared(prep, s, ready(s.train), ready(s.val), ready(s.test), weight, filled, unseen)


def training_weights(y, weight, classes, class_weight, source):
    """(n,) weight of each train row (labels y): its data.weight (`weight`, None: 1) times its
    class's weight under class_weight (train.class_weight: null, 'balanced' or {label: weight},
    labels matched as text); None when there are neither. 'balanced' counts the train rows with
    their data.weight. `source` names the data in errors."""
    try:
        by_index = class_weight_by_index(class_weight, classes, key=str)
    except ValueError as e:
        raise ConfigError(f"train.class_weight: {e} of {source}") from None
    w = row_weights(y, weight, class_weights(by_index, len(classes), y, weight))
    if w is not None and not w.any():
        raise DataError(
            f"{source}: every row of the train split weighs 0 (data.weight times train.class_weight); "
            "give some of its rows a weight > 0"
        )
    return w
