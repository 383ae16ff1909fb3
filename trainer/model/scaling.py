"""Preprocessing fitted on the train split: the imputer of missing values and the standardisation,
and the checked transform a saved model applies to raw rows."""

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

from trainer.errors import DataError, InputError

IMPUTERS = ("mean", "median")  # SimpleImputer strategies a config may name


def fit_imputer(X_train, strategy, feature_names=None, source="data"):
    """(d,) float64 SimpleImputer statistics of the train features: the value that fills NaN.

    DataError when a feature has no value in the train split (nothing to take the mean of)."""
    empty = np.isnan(X_train).all(axis=0)
    if empty.any():
        j = int(np.argmax(empty))
        name = feature_names[j] if feature_names else f"column {j}"
        raise DataError(f"{source}: feature '{name}' has no value in the train split to impute it from")
    return SimpleImputer(strategy=strategy).fit(X_train).statistics_.astype(np.float64)


def impute(X, statistics):
    """X with every NaN in column j replaced by statistics[j] (SimpleImputer.transform's result)."""
    if statistics is None:
        return X
    X = np.asarray(X, dtype=np.float64)
    missing = np.isnan(X)
    return np.where(missing, statistics, X) if missing.any() else X


def fit_scaler(X_train, feature_names=None, source="data"):
    """(mean, scale) of the train features, float64; constant features get scale 1, never 0.

    DataError when a feature's variance overflows float64 (values beyond ~1e154)."""
    with np.errstate(over="ignore", invalid="ignore"):  # checked below, in one line, not as warnings
        s = StandardScaler().fit(np.asarray(X_train, dtype=np.float64))
    bad = ~(np.isfinite(s.mean_) & np.isfinite(s.scale_))
    if bad.any():
        j = int(np.argmax(bad))
        name = feature_names[j] if feature_names else f"column {j}"
        raise DataError(
            f"{source}: feature '{name}' is too large to standardise (its variance overflows); rescale it"
        )
    scale = np.where(s.scale_ > 0, s.scale_, 1.0)
    return s.mean_.astype(np.float64), scale.astype(np.float64)


def standardize(X, mean, scale, dtype="float64"):
    """(X - mean) / scale in `dtype`, computed exactly as a saved model transforms raw rows."""
    X = np.asarray(X, dtype=dtype)
    return X if mean is None else ((X - mean) / scale).astype(dtype, copy=False)


def checked_inputs(X, statistics, mean, scale, dtype, feature_names):
    """impute, then standardize; InputError at the first value that is missing without an imputer
    or leaves the dtype's range (a finite value can overflow once standardised)."""
    X = impute(X, statistics)
    with np.errstate(over="ignore", invalid="ignore"):
        Z = standardize(X, mean, scale, dtype)
    bad = ~np.isfinite(Z)
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        value = float(np.asarray(X)[i, j])
        why = (
            "is missing, and the model has no value to fill it with (data.missing mean or median has one)"
            if np.isnan(value)
            else f"overflows {np.dtype(dtype).name} after standardisation"
        )
        raise InputError(i, j, value, why, feature_names[j])
    return Z
