"""The preprocessing a model stores, checked against scikit-learn's own: SimpleImputer's statistics
and fill (the most frequent category for text), OneHotEncoder's categories, codes and feature
names, StandardScaler on the numeric columns; and the transform's refusals, each naming its row and
column."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from trainer.data.fitting import fit, fit_imputer
from trainer.data.preprocess import impute
from trainer.data.schema import numeric_schema
from trainer.data.table import Schema, Table, frame_inputs, numeric_table
from trainer.errors import DataError, InputError


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


def test_a_column_without_a_value_cannot_be_imputed():
    X = np.array([[1.0, np.nan], [2.0, np.nan]])
    with pytest.raises(DataError, match="data: column 'b' has no value in the train split to impute it from"):
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
def test_the_transform_names_the_row_and_column(row, dtype, scale, says):
    X = np.array([[0.0, 0.0], row])
    schema = numeric_schema(["a", "b"], [0, 1])
    prep = fit(schema, numeric_table(np.zeros((2, 2)), schema), standardize_numbers=scale is not None)
    if scale is not None:
        prep.scaler_mean, prep.scaler_scale = np.zeros(2), np.full(2, scale)
    with pytest.raises(InputError) as e:
        prep.transform(numeric_table(X, schema), dtype)
    assert str(e.value).startswith(f"row 1 (counting from 0), feature 'b': {says}")
    assert (e.value.row, e.value.column) == (1, 1)
    assert prep.transform(numeric_table(X[:1], schema), dtype).dtype == np.dtype(dtype)


# ---------------------------------------------------------------- categorical columns


def penguins(n=60, seed=0):
    """A mixed table: two text columns (one with missing values), two numbers (one with missing values)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "island": rng.choice(["Torgersen", "Biscoe", "Dream"], n),
            "bill": rng.normal(44, 5, n),
            "sex": rng.choice(["male", "female", None], n, p=[0.45, 0.45, 0.1]),
            "mass": rng.normal(4200, 800, n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "mass"] = np.nan
    return frame


def table_of(frame, schema=None):
    columns, X, codes, values = frame_inputs(
        frame, kinds=None if schema is None else [c.kind for c in schema.inputs]
    )
    return Table(schema or Schema(columns, [0, 1]), X, codes, values)


def sklearn_pipeline(strategy):
    """scikit-learn's reading of the same preprocessing, in our feature order."""
    numbers = make_pipeline(SimpleImputer(strategy=strategy), StandardScaler())
    island = OneHotEncoder(sparse_output=False)
    sex = make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(sparse_output=False))
    return ColumnTransformer(
        [
            ("island", island, ["island"]),
            ("bill", numbers, ["bill"]),
            ("sex", sex, ["sex"]),
            ("mass", numbers, ["mass"]),
        ]  # fmt: skip
    )


@pytest.mark.parametrize("strategy", ["mean", "median"])
def test_the_transform_is_scikit_learns_imputer_encoder_and_scaler(strategy):
    train, test = penguins(), penguins(40, seed=1)
    table = table_of(train)
    prep = fit(table.schema, table, strategy)
    ours = prep.transform(table_of(test, prep.schema))
    reference = sklearn_pipeline(strategy).fit(train.astype({"sex": object}))
    theirs = reference.transform(test.astype({"sex": object}))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    names = [n.split("__", 1)[1] for n in reference.get_feature_names_out()]
    assert prep.schema.feature_names == names  # island_Biscoe, ..., bill, sex_female, sex_male, mass
    assert [c.kind for c in prep.schema.inputs] == ["categorical", "numeric", "categorical", "numeric"]


def test_the_fill_of_a_text_column_is_the_most_frequent_category_the_smallest_on_a_tie():
    frame = pd.DataFrame({"c": ["b", "a", "b", "a", None, "c"], "x": np.arange(6.0)})
    table = table_of(frame)
    prep = fit(table.schema, table, "mean")
    expected = SimpleImputer(strategy="most_frequent").fit(frame[["c"]].astype(object)).statistics_[0]
    assert prep.schema.categorical[0].categories[prep.fill_categories[0]] == expected == "a"


def test_an_unknown_category_is_an_error_naming_it_or_none_of_the_known_ones():
    table = table_of(penguins())
    prep = fit(table.schema, table, "mean")
    test = penguins(5, seed=2)
    test.loc[3, "island"] = "Biscoee"
    with pytest.raises(InputError) as e:
        prep.transform(table_of(test, prep.schema))
    assert (e.value.row, e.value.column, e.value.value) == (3, 0, "Biscoee")
    assert "is not a category the model learned (Biscoe, Dream, Torgersen) — did you mean 'Biscoe'?" in str(
        e.value
    )
    prep.unknown_category = "ignore"
    Z = prep.transform(table_of(test, prep.schema))
    reference = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(penguins()[["island"]])
    np.testing.assert_array_equal(Z[:, :3], reference.transform(test[["island"]]))
    assert Z[3, :3].tolist() == [0, 0, 0]


def test_a_text_column_without_a_value_in_the_train_split_has_no_categories():
    frame = pd.DataFrame({"c": [None, None, None], "x": [1.0, 2.0, 3.0]}, dtype=object)
    table = table_of(
        frame.astype({"x": float}),
        Schema([*frame_inputs(frame.astype({"x": float}), categorical=["c"])[0]], [0]),
    )
    with pytest.raises(
        DataError, match="column 'c' has no value in the train split, so it has no categories"
    ):
        fit(table.schema, table, "mean")
