"""Standardisation: the scaler fitted on the train split, and the transform a model applies to raw rows."""

import numpy as np
from sklearn.preprocessing import StandardScaler

from trainer.errors import DataError


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
