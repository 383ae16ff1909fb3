"""Preprocessing fitted on the train split and applied the same way everywhere: the imputer of
missing values, the one-hot encoder of categorical columns, the standardisation of numeric ones,
and each encoded feature's training mean and spread (the reference of the drift guard, drift.py).

The semantics are scikit-learn's: SimpleImputer (mean, median; a categorical column's most frequent
category, the smallest on a tie), OneHotEncoder (categories sorted, features named
`column_category`, handle_unknown error or ignore: an all-zero code) and StandardScaler (a constant
feature scaled by 1), on numeric columns only: one-hot features stay 0 and 1. fitting.fit and
`transform` are the one implementation of all three that training, evaluation, prediction, the
sweeps' folds and the estimator share. A Preprocessing holds the fitted state as plain arrays and
lists (what a model file stores), and applies it with numpy alone.
"""

from dataclasses import dataclass

import numpy as np

from trainer.data.schema import CATEGORICAL, NUMERIC
from trainer.errors import InputError, did_you_mean

IMPUTERS = ("mean", "median")  # SimpleImputer strategies a config may name
MISSING = ("error", "drop", *IMPUTERS)  # what data.missing may say
UNKNOWN = ("error", "ignore")  # what data.unknown_category may say
SHOWN = 10  # categories listed in a message before "..."
ABSENT, UNSEEN = -1, -2  # category indices of a missing value and of a category not learned in training


@dataclass
class Preprocessing:
    schema: object  # the Schema, with the categories of every categorical column
    missing: str = "error"  # data.missing
    unknown_category: str = "error"  # data.unknown_category
    na_values: tuple = ()  # the texts that mark a missing value in a CSV (data.na_values)
    fill: np.ndarray | None = None  # (n_numeric,) float64 value filling each numeric column (mean, median)
    fill_categories: list | None = None  # per categorical column, the index of the category filling it
    scaler_mean: np.ndarray | None = None  # (n_numeric,) float64; None when not standardised
    scaler_scale: np.ndarray | None = None  # (n_numeric,) float64, never 0
    # the drift guard's reference: each encoded feature (before scaling) clipped to [low, high], its 1st
    # and 99th train percentiles (a one-hot code is not clipped), and the clipped values' mean and spread
    feature_low: np.ndarray | None = None  # (D,) float64
    feature_high: np.ndarray | None = None  # (D,) float64
    feature_mean: np.ndarray | None = None  # (D,) float64
    feature_std: np.ndarray | None = None  # (D,) float64

    def transform(self, table, dtype="float64", unknown=None):
        """A Table's rows -> the network's inputs (n, D) in `dtype`: imputed, encoded, standardised.

        InputError at the first value the model cannot take: missing without a fill, a category
        it does not know (under `unknown`, by default unknown_category: error), a number that
        overflows once standardised. The splits of the data the model was trained on pass
        unknown="ignore": a category too rare to reach the train split is then none of the known
        ones, and the run says how many (unseen)."""
        X = standardize(self._numbers(table), self.scaler_mean, self.scaler_scale, dtype)
        _check_finite(X, table, self.schema)
        return self._with_codes(X, table, dtype, unknown or self.unknown_category)

    def encoded(self, table):
        """The rows' encoded features before scaling (n, D) float64: what the drift guard compares.
        A category the model does not know is none of the known ones here."""
        return self._with_codes(self._numbers(table), table, np.float64, "ignore")

    def unseen(self, table):
        """How many of the table's categorical values are not among the categories learned."""
        return int(
            sum((self._lookup(table, k)[table.codes[:, k]] == UNSEEN).sum() for k in range(len(table.values)))
        )

    def _with_codes(self, X, table, dtype, unknown):
        """X (the numeric columns) with the one-hot codes of the categorical ones, in input order."""
        if not self.schema.categorical:
            return X
        index = self._category_index(table, unknown)
        numeric, slices = self.schema.positions()
        Z = np.zeros((len(table), self.schema.n_features), dtype=dtype)
        Z[:, numeric] = X
        for k, part in enumerate(slices):
            rows = np.flatnonzero(index[:, k] >= 0)
            Z[rows, part.start + index[rows, k]] = 1
        return Z

    def _numbers(self, table):
        """The numeric columns imputed; InputError at a missing value without a fill."""
        X = impute(table.X, self.fill)
        if self.fill is None and X.size and np.isnan(X).any():
            i, k = (int(v) for v in np.argwhere(np.isnan(X))[0])
            raise _missing(table, self.schema, NUMERIC, i, k)
        return X

    def _lookup(self, table, k):
        """(values + 1,) int64: the category index of each of the k-th column's values, UNSEEN for
        one the model does not know, and ABSENT last, where a missing value's code (-1) points."""
        known = {c: i for i, c in enumerate(self.schema.categorical[k].categories)}
        return np.array([known.get(v, UNSEEN) for v in table.values[k]] + [ABSENT], np.int64)

    def _category_index(self, table, unknown):
        """(n, n_categorical) int64: each value's index among its column's categories; missing values
        filled (or an InputError), an unknown category -1 (ignore) or an InputError (error)."""
        columns = self.schema.categorical
        index = np.empty(table.codes.shape, np.int64)
        for k in range(len(columns)):
            index[:, k] = self._lookup(table, k)[table.codes[:, k]]
        missing = index == ABSENT
        if missing.any():
            if self.fill_categories is None:
                i, k = (int(v) for v in np.argwhere(missing)[0])
                raise _missing(table, self.schema, CATEGORICAL, i, k)
            index = np.where(missing, np.asarray(self.fill_categories, np.int64), index)
        unseen = index == UNSEEN
        if unseen.any():
            if unknown == "error":
                i, k = (int(v) for v in np.argwhere(unseen)[0])
                value = table.values[k][table.codes[i, k]]
                raise InputError(
                    i,
                    self.schema.input_of(CATEGORICAL, k),
                    value,
                    _unknown(value, columns[k]),
                    columns[k].name,
                )
            index[unseen] = -1  # ignore: an all-zero code
        return index


def fill_text(prep):
    """How the preprocessing fills a missing value, for a note: 'the train split's median' (and for
    categories, their most frequent)."""
    categories = " (categories: the most frequent)" if prep.schema.categorical else ""
    return f"the train split's {prep.missing}{categories}"


def _missing(table, schema, kind, i, k):
    """The InputError of a missing value the model has no fill for."""
    column = schema.input_of(kind, k)
    return InputError(
        i,
        column,
        float("nan") if kind == NUMERIC else None,
        "is missing, and the model has no value to fill it with (data.missing mean or median has one)",
        schema.inputs[column].name,
    )


def _unknown(value, column):
    """Why a category the model does not know cannot be encoded, with the known ones."""
    known = list(column.categories)
    shown = ", ".join(known[:SHOWN]) + (f", ... ({len(known)} in all)" if len(known) > SHOWN else "")
    return (
        f"is not a category the model learned ({shown}){did_you_mean(value, known)} (a model trained "
        "with data.unknown_category: ignore encodes such a value as none of them)"
    )


def _check_finite(Z, table, schema):
    """InputError at the first value that leaves the dtype's range once standardised."""
    bad = ~np.isfinite(Z)
    if bad.any():
        i, k = (int(v) for v in np.argwhere(bad)[0])
        why = f"overflows {Z.dtype.name} after standardisation"
        column = schema.input_of(NUMERIC, k)
        raise InputError(i, column, float(table.X[i, k]), why, schema.inputs[column].name)


def impute(X, statistics):
    """X with every NaN in column j replaced by statistics[j] (SimpleImputer.transform's result)."""
    if statistics is None:
        return X
    X = np.asarray(X, dtype=np.float64)
    missing = np.isnan(X)
    return np.where(missing, statistics, X) if missing.any() else X


def standardize(X, mean, scale, dtype="float64"):
    """(X - mean) / scale in `dtype`, computed exactly as a saved model transforms raw rows."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is checked by the caller
        X = np.asarray(X, dtype=dtype)
        return X if mean is None else ((X - mean) / scale).astype(dtype, copy=False)
