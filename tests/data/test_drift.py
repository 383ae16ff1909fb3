"""The drift guard: its reference is the train split's clipped features, it says nothing about honest
rows or too few rows, and it names a moved feature with its shift, a number's or a category's."""

import numpy as np
import pandas as pd

from trainer.data import drift
from trainer.data.drift import DriftCheck
from trainer.data.fitting import fit
from trainer.data.table import Schema, Table, frame_inputs


def table(frame):
    columns, X, codes, values = frame_inputs(frame)
    return Table(Schema(columns, [0, 1]), X, codes, values)


def frame(n, seed, shift=0.0, share=0.5):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "size": rng.lognormal(0, 1, n) + shift,  # skewed, as real measurements often are
            "colour": np.where(rng.random(n) < share, "red", "blue"),
        }
    )


def check(prep, rows):
    c = DriftCheck(prep)
    c.add(prep.encoded(table(rows)))
    return c.findings()


def test_the_reference_is_the_clipped_train_features():
    train = table(frame(1000, 0))
    prep = fit(train.schema, train)
    size = train.X[:, 0]
    low, high = np.quantile(size, [0.01, 0.99])
    clipped = np.clip(size, low, high)
    assert (prep.feature_low[0], prep.feature_high[0]) == (low, high)  # size, then colour_blue, colour_red
    np.testing.assert_allclose(
        [prep.feature_mean[0], prep.feature_std[0]], [clipped.mean(), clipped.std()], 1e-12
    )
    assert prep.feature_low[1:].tolist() == [0, 0] and prep.feature_high[1:].tolist() == [1, 1]


def test_honest_rows_and_too_few_rows_are_quiet_and_moved_ones_are_named():
    prep = fit(table(frame(1000, 0)).schema, table(frame(1000, 0)))
    assert check(prep, frame(5000, 1)) == []  # new rows from the same distribution
    assert check(prep, frame(drift.MIN_ROWS - 1, 2, shift=100.0)) == []  # too few rows to judge
    (moved,) = check(prep, frame(200, 3, shift=3.0))
    assert moved.feature == "size" and moved.shift > drift.MIN_SHIFT
    clipped = np.clip(frame(200, 3, shift=3.0)["size"], prep.feature_low[0], prep.feature_high[0])
    expected = (clipped.mean() - prep.feature_mean[0]) / prep.feature_std[0]
    assert np.isclose(moved.shift, expected)
    names = {d.feature for d in check(prep, frame(200, 4, share=0.95))}
    assert names == {"colour_red", "colour_blue"}  # a category's share moved
