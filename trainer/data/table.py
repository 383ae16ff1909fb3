"""Raw rows as they come, before preprocessing: numeric input columns as floats, categorical ones as
codes into their distinct texts, labels as class indices. One Schema says which column is which.

Tables come from the dataset table (datasets.load_dataset), a CSV (csvfile.read_csv) or the
estimator's X (frame_table); splits are tables of a table's rows (`take`), sharing its schema.
"""

import math
import numbers
from dataclasses import dataclass, replace

import numpy as np

from trainer.data.schema import CATEGORICAL, NUMERIC, Column, Schema
from trainer.errors import DataError


@dataclass
class Table:
    schema: Schema
    X: np.ndarray  # (n, len(schema.numeric)) float64; NaN marks a missing value
    codes: np.ndarray  # (n, len(schema.categorical)) int64 index into values[k]; -1 marks a missing value
    values: list  # per categorical column, its distinct texts (what codes index)
    y: np.ndarray | None = None  # (n,) int64 class index into schema.classes; None: rows without labels
    weight: np.ndarray | None = None  # (n,) float64 row weights (data.weight), None without
    lines: np.ndarray | None = None  # (n,) int64 line of each row in its CSV; None for other data
    n_dropped: int = 0  # rows left out for a missing value (data.missing: drop)

    def __len__(self):
        return len(self.X)

    def take(self, rows):
        """The table of the rows `rows` (indices or a boolean mask), sharing schema and values."""

        def part(a):
            return None if a is None else a[rows]

        return replace(
            self,
            X=self.X[rows],
            codes=self.codes[rows],
            y=part(self.y),
            weight=part(self.weight),
            lines=part(self.lines),
        )

    def missing(self):
        """(n,) bool: the rows with a missing input value."""
        return np.isnan(self.X).any(axis=1) | (self.codes < 0).any(axis=1)

    def missing_count(self):
        """The number of missing input values."""
        return int(np.isnan(self.X).sum() + (self.codes < 0).sum())

    def value(self, row, i):
        """Input i's value in a row: the number, or the category's text (None when missing)."""
        k = self.schema.kind_index(i)
        if self.schema.inputs[i].kind == NUMERIC:
            return float(self.X[row, k])
        code = self.codes[row, k]
        return None if code < 0 else self.values[k][code]

    def texts(self, k):
        """(n,) object array: the k-th categorical column as text, None where missing."""
        values = np.array([*self.values[k], None], dtype=object)
        return values[self.codes[:, k]]


def numeric_table(X, schema, y=None):
    """A Table of numeric inputs only, X (n, d) as it is (float64 copies only when it is not)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    return Table(schema, X, np.empty((len(X), 0), np.int64), [], y)


def table_frame(table):
    """The table's inputs as a pandas DataFrame: numeric columns float64, categorical ones object
    (None where missing), which frame_inputs reads back into the same inputs."""
    import pandas as pd

    columns = {}
    for i, c in enumerate(table.schema.inputs):
        k = table.schema.kind_index(i)
        columns[c.name] = table.X[:, k] if c.kind == NUMERIC else table.texts(k)
    return pd.DataFrame(columns, copy=False)


def frame_inputs(frame, categorical=(), kinds=None, source="X"):
    """(input Columns, X, codes, values) of a pandas DataFrame's columns, in its order.

    A column is categorical when `categorical` names it or its dtype holds text (object, string,
    category); booleans are the numbers 1 and 0; an object column mixing numbers and text is a
    ValueError unless `categorical` names it. kinds: each column's kind, as a fitted model has them
    (then a numeric column that does not hold numbers is a ValueError). A category's text is str()
    of its value, an integral float written as an integer (3.0 as "3")."""
    import pandas as pd

    columns, numeric, codes, values = [], [], [], []
    for j, name in enumerate(frame.columns):
        s = frame.iloc[:, j]
        if kinds is not None:
            kind = kinds[j]
        else:
            kind = CATEGORICAL if name in categorical or _holds_text(s, pd) else NUMERIC
        columns.append(Column(str(name), kind))
        if kind == NUMERIC:
            numeric.append(_numbers(s, name, source, pd))
        else:
            column_codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
            codes.append(column_codes.astype(np.int64))
            values.append([_text(u) for u in uniques])
    n = len(frame)
    X = np.column_stack(numeric) if numeric else np.empty((n, 0))
    C = np.column_stack(codes) if codes else np.empty((n, 0), np.int64)
    return columns, np.ascontiguousarray(X, dtype=np.float64), C, values


def _holds_text(s, pd):
    """Whether a DataFrame column holds text, not numbers (object columns mixing both are refused)."""
    if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
        values = s.dropna().unique() if s.dtype == object else ()
        if len(values) and all(isinstance(v, (bool, np.bool_)) for v in values):
            return False  # True/False: the numbers 1 and 0, as a CSV's true/false cells
        kinds = {_is_number(v) for v in values} or {False}
        if kinds == {True, False}:
            raise ValueError(
                f"column {s.name!r} mixes numbers and text; name it in `categorical` to read it as categories"
            )
        return kinds != {True}
    return False


def _numbers(s, name, source, pd):
    """A numeric column as float64, NaN where missing (pd.NA of a nullable dtype included)."""
    try:
        return s.astype("float64").to_numpy(np.float64, na_value=np.nan)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{source}: column {name!r} is not numeric: {e}") from None


def _is_number(v):
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def _text(v):
    """A category's text: str(v), an integral float as an integer."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return str(int(v))
    return str(v.item() if isinstance(v, np.generic) else v)


ID_SHARE = 0.5  # a text column holding a distinct value in more than this share of its rows is an id,
ID_MIN = 20  # once it has more distinct values than this


def check_categories(table, limit, named=(), source="data", key="data."):
    """Refuse a categorical column that cannot be categories: more distinct values than `limit`, or
    (unless it is among `named`, the columns the user called categorical) a distinct value in most
    of its rows, as an id or free text has. `key` prefixes the settings the message names."""
    for k, column in enumerate(table.schema.categorical):
        codes = table.codes[:, k]
        present = codes[codes >= 0]
        distinct = len(np.unique(present))
        drop = f"leave it out with {key}drop: [{column.name}]" if key else "drop it from X"
        if distinct > limit:
            raise DataError(
                f"{source}: column '{column.name}' has {distinct} distinct values, too many to be "
                f"categories ({key}max_categories is {limit}); if it is an id or free text, {drop}, "
                f"else raise {key}max_categories"
            )
        if column.name not in named and distinct > ID_MIN and distinct > ID_SHARE * len(present):
            raise DataError(
                f"{source}: column '{column.name}' has {distinct} distinct values in {len(present)} rows: "
                f"an id or free text, not categories; {drop}, or name it in {key}categorical to "
                "encode it all the same"
            )


def distinct_integers(x):
    """Whether a column's values are whole numbers, each on one row only (an index's or an id's)."""
    return (
        len(x) > 2
        and bool(np.isfinite(x).all())
        and bool((x == np.round(x)).all())
        and len(np.unique(x)) == len(x)
    )


def counts_rows(x):
    """Whether a column's values are distinct whole numbers spanning a range without a gap, in any
    order: row numbers or ids, not measurements."""
    return distinct_integers(x) and x.max() - x.min() == len(x) - 1
