"""The preprocessing a model stores: SimpleImputer's statistics and fill, the scaler, and the checks of
the transform that refuse a missing value without an imputer or a value overflowing its dtype."""

import numpy as np
import pytest
from sklearn.impute import SimpleImputer

from trainer.errors import DataError, InputError
from trainer.model.scaling import checked_inputs, fit_imputer, impute


@pytest.mark.parametrize("strategy", ["mean", "median"])
def test_impute_is_simple_imputers_transform(strategy):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    X[rng.random(X.shape) < 0.2] = np.nan
    stats = fit_imputer(X, strategy)
    imputer = SimpleImputer(strategy=strategy).fit(X)
    assert stats.tobytes() == imputer.statistics_.tobytes()
    Y = rng.standard_normal((20, 4))
    Y[rng.random(Y.shape) < 0.3] = np.nan
    assert impute(Y, stats).tobytes() == imputer.transform(Y).tobytes()
    assert impute(Y, None) is Y


def test_a_feature_without_a_value_cannot_be_imputed():
    X = np.array([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(
        DataError, match="data: feature 'b' has no value in the train split to impute it from"
    ):
        fit_imputer(X, "mean", ["a", "b"])


@pytest.mark.parametrize(
    "row, dtype, scale, says",
    [
        ([1.0, np.nan], "float64", 1.0, "nan is missing, and the model has no value to fill it with"),
        ([1.0, 1e308], "float64", 0.5, "1e+308 overflows float64 after standardisation"),
        ([1.0, 1e39], "float32", 1.0, "1e+39 overflows float32 after standardisation"),
        ([1.0, -1e39], "float32", None, "-1e+39 overflows float32 after standardisation"),
    ],
)
def test_the_checked_transform_names_the_row_and_feature(row, dtype, scale, says):
    X = np.array([[0.0, 0.0], row])
    mean, s = (None, None) if scale is None else (np.zeros(2), np.full(2, scale))
    with pytest.raises(InputError) as e:
        checked_inputs(X, None, mean, s, dtype, ["a", "b"])
    assert str(e.value).startswith(f"row 1 (counting from 0), feature 'b': {says}")
    assert (e.value.row, e.value.column) == (1, 1)
    Z = checked_inputs(X[:1], None, mean, s, dtype, ["a", "b"])
    assert Z.dtype == np.dtype(dtype)
