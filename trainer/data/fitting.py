"""Fitting the preprocessing on the train split's rows: each categorical column's categories, the
imputer's fills (scikit-learn's SimpleImputer), the scaler (StandardScaler) and the drift
reference. Applying it (preprocess.Preprocessing.transform) takes numpy alone, so a command that
only uses a saved model never imports scikit-learn.
"""

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

from trainer.data.preprocess import ABSENT, IMPUTERS, Preprocessing, impute
from trainer.errors import DataError


def fit(
    schema,
    table,
    missing="error",
    standardize_numbers=True,
    unknown_category="error",
    na_values=(),
    source="data",
):
    """The Preprocessing of `table` (the train split's rows) for `schema`: each categorical column's
    categories, the imputer's fills, the scaler and the drift reference. DataError naming a column
    with no value in the split."""
    categories = [_categories(table, k, c, source) for k, c in enumerate(schema.categorical)]
    schema = schema.with_categories(categories)
    names = [c.name for c in schema.numeric]
    fill = fill_categories = None
    if missing in IMPUTERS:
        fill = fit_imputer(table.X, missing, names, source)
        fill_categories = [_most_frequent(table, k, c) for k, c in enumerate(schema.categorical)]
    prep = Preprocessing(schema, missing, unknown_category, tuple(na_values), fill, fill_categories)
    if standardize_numbers:
        prep.scaler_mean, prep.scaler_scale = fit_scaler(impute(table.X, fill), names, source)
    Z = prep.encoded(table)
    low, high = np.quantile(Z, [0.01, 0.99], axis=0)
    for part in schema.positions()[1]:  # a category's share is its code's mean: never clipped
        low[part], high[part] = 0.0, 1.0
    W = np.clip(Z, low, high)
    prep.feature_low, prep.feature_high = low, high
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing spread is the scaler's error, above
        prep.feature_mean, prep.feature_std = W.mean(axis=0), W.std(axis=0)
    return prep


def _categories(table, k, column, source):
    """The sorted texts of the k-th categorical column in the table's rows; DataError when it has none."""
    present = np.unique(table.codes[:, k])
    present = present[present >= 0]
    if not len(present):
        raise DataError(
            f"{source}: column '{column.name}' has no value in the train split, so it has no categories "
            "to learn; leave it out with data.drop"
        )
    return sorted(table.values[k][c] for c in present)


def _most_frequent(table, k, column):
    """The index of the column's most frequent category in the table's rows (the smallest on a tie)."""
    position = {c: i for i, c in enumerate(column.categories)}
    lookup = np.array([position.get(v, ABSENT) for v in table.values[k]] + [ABSENT], np.int64)
    index = lookup[table.codes[:, k]]
    counts = np.bincount(index[index >= 0], minlength=len(column.categories))
    return int(np.argmax(counts))  # categories are sorted: the first of the largest counts is the smallest


def fit_imputer(X_train, strategy, feature_names=None, source="data"):
    """(d,) float64 SimpleImputer statistics of the train features: the value that fills NaN.

    DataError when a feature has no value in the train split (nothing to take the mean of)."""
    empty = np.isnan(X_train).all(axis=0)
    if empty.any():
        j = int(np.argmax(empty))
        name = feature_names[j] if feature_names else f"column {j}"
        raise DataError(f"{source}: column '{name}' has no value in the train split to impute it from")
    if not X_train.shape[1]:
        return np.empty(0)
    return SimpleImputer(strategy=strategy).fit(X_train).statistics_.astype(np.float64)


def fit_scaler(X_train, feature_names=None, source="data"):
    """(mean, scale) of the train features, float64; constant features get scale 1, never 0.

    DataError when a feature's variance overflows float64 (values beyond ~1e154)."""
    if not X_train.shape[1]:
        return np.empty(0), np.empty(0)
    with np.errstate(over="ignore", invalid="ignore"):  # checked below, in one line, not as warnings
        s = StandardScaler().fit(np.asarray(X_train, dtype=np.float64))
    bad = ~(np.isfinite(s.mean_) & np.isfinite(s.scale_))
    if bad.any():
        j = int(np.argmax(bad))
        name = feature_names[j] if feature_names else f"column {j}"
        raise DataError(
            f"{source}: column '{name}' is too large to standardise (its variance overflows); rescale it"
        )
    scale = np.where(s.scale_ > 0, s.scale_, 1.0)
    return s.mean_.astype(np.float64), scale.astype(np.float64)
