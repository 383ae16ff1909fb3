"""Splits and scaling: sizes as fractions, disjoint and stratified, the scaler fitted on the train split."""

import numpy as np
import pytest

from trainer.data.datasets import DataConfig, load_dataset
from trainer.data.fitting import fit_scaler
from trainer.data.prepare import prepare, split, training_weights
from trainer.data.schema import numeric_schema
from trainer.data.table import numeric_table
from trainer.errors import ConfigError, DataError


def load(name, seed=0, **kw):
    return load_dataset(DataConfig(dataset=name, **kw), np.random.default_rng(seed))


# ---------------------------------------------------------------- splits and scaling


def indexed(n_per_class=(50, 30, 20)):
    """A dataset whose single feature is the row index, to check disjointness."""
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    schema = numeric_schema(["i"], list(range(len(n_per_class))))
    return numeric_table(np.arange(len(y), dtype=np.float64)[:, None], schema, y)


@pytest.mark.parametrize(
    "test_size, val_size, sizes",
    [
        (0.2, 0.1, (70, 10, 20)),
        (0.2, 0.0, (80, None, 20)),
        (0.0, 0.1, (90, 10, None)),
        (0.0, 0.0, (100, None, None)),
        (0.25, 0.25, (50, 25, 25)),
    ],
)
def test_split_sizes_are_fractions_of_the_whole_and_disjoint(test_size, val_size, sizes):
    ds = indexed()
    s = split(ds, DataConfig(test_size=test_size, val_size=val_size), np.random.default_rng(0))
    parts = [s.train, s.val, s.test]
    assert tuple(None if p is None else len(p.y) for p in parts) == sizes
    rows = np.concatenate([p.X[:, 0] for p in parts if p is not None])
    assert sorted(rows) == list(range(100))
    for p in parts:
        if p is not None:
            np.testing.assert_array_equal(ds.y[p.X[:, 0].astype(int)], p.y)


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits", "blobs"])
def test_splits_are_stratified(name):
    ds = load(name)
    cfg = DataConfig(dataset=name, val_size=0.1)
    s = split(ds, cfg, np.random.default_rng(3))
    whole = np.bincount(ds.y) / len(ds.y)
    for part in (s.train, s.val, s.test):
        counts = np.bincount(part.y, minlength=len(ds.schema.classes))
        assert np.all(np.abs(counts - whole * len(part.y)) <= 1), (counts, whole * len(part.y))


def test_split_depends_only_on_rng():
    ds, cfg = indexed(), DataConfig()
    a, b = (split(ds, cfg, np.random.default_rng(9)) for _ in range(2))
    np.testing.assert_array_equal(a.test.X, b.test.X)
    assert not np.array_equal(a.test.X, split(ds, cfg, np.random.default_rng(10)).test.X)


@pytest.mark.parametrize(
    "test_size, val_size, expected",
    [
        (0.02, 0.1, "data.test_size: a test split of 2 of 100 rows cannot hold all 3 classes"),
        (0.2, 0.01, "data.val_size: a val split of 1 of 100 rows cannot hold all 3 classes"),
    ],
)
def test_split_too_small_for_every_class(test_size, val_size, expected):
    with pytest.raises(DataError, match=expected):
        split(indexed(), DataConfig(test_size=test_size, val_size=val_size), np.random.default_rng(0))


def test_train_split_too_small():
    ds = indexed((2, 2, 2))
    with pytest.raises(DataError, match="the train split keeps 2 of 6 rows, fewer than the 3 classes"):
        split(ds, DataConfig(test_size=0.4, val_size=0.3), np.random.default_rng(0))


def test_scaler_is_fitted_on_the_train_split_only():
    cfg = DataConfig(dataset="wine")
    p = prepare(cfg, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    raw = split(load_dataset(cfg, rng), cfg, rng)
    mean, scale = p.prep.scaler_mean, p.prep.scaler_scale
    np.testing.assert_allclose(mean, raw.train.X.mean(axis=0))
    np.testing.assert_allclose(scale, raw.train.X.std(axis=0))
    assert not np.allclose(mean, load("wine").X.mean(axis=0))
    np.testing.assert_allclose(p.train[0].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(p.train[0].std(axis=0), 1)
    np.testing.assert_allclose(p.test[0], (raw.test.X - mean) / scale)
    assert abs(p.test[0].mean()) > 1e-6  # the test split was not fitted


def test_constant_feature_gets_scale_one():
    X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    mean, scale = fit_scaler(X)
    np.testing.assert_allclose(mean, [2.0, 5.0])
    assert scale[1] == 1.0 and scale.dtype == np.float64


def test_no_standardisation_and_float32():
    p = prepare(DataConfig(dataset="iris", standardize=False), np.random.default_rng(0), "float32")
    assert p.prep.scaler_mean is None and p.prep.scaler_scale is None
    assert p.train[0].dtype == np.float32 and p.test[0].dtype == np.float32 and p.train[1].dtype == np.int64
    assert p.n_features == 4 and p.n_classes == 3 and p.train[0].max() > 5  # raw units (cm)


# ---------------------------------------------------------------- missing values


def holed_csv(tmp_path, every=7):
    """The fruit CSV with every `every`-th feature cell of the first two columns emptied."""
    from conftest import ROOT

    lines = (ROOT / "data/example.csv").read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    for i, r in enumerate(rows):
        if i % every == 0:
            r[i % 2] = ""
    path = tmp_path / "holed.csv"
    path.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")
    return path, sum(1 for i in range(len(rows)) if i % every == 0)


@pytest.mark.parametrize("strategy", ["mean", "median"])
def test_the_imputer_is_fitted_on_the_train_split_only(tmp_path, strategy):
    from sklearn.impute import SimpleImputer

    path, holes = holed_csv(tmp_path)
    cfg = DataConfig(dataset="csv", path=str(path), target="label", missing=strategy)
    p = prepare(cfg, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    raw = split(load_dataset(cfg, rng), cfg, rng)
    imputer = SimpleImputer(strategy=strategy).fit(raw.train.X)
    assert p.prep.fill.tobytes() == imputer.statistics_.tobytes()
    assert p.n_filled == holes and not np.isnan(p.test[0]).any()
    filled = imputer.transform(raw.test.X)
    assert p.test[0].tobytes() == ((filled - p.prep.scaler_mean) / p.prep.scaler_scale).tobytes()
    assert not np.allclose(p.prep.fill, SimpleImputer(strategy=strategy).fit(raw.test.X).statistics_)


def test_drop_leaves_out_and_counts_the_rows_missing_a_feature(tmp_path):
    path, holes = holed_csv(tmp_path)
    cfg = DataConfig(dataset="csv", path=str(path), target="label", missing="drop")
    ds = load_dataset(cfg, np.random.default_rng(0))
    assert ds.n_dropped == holes and len(ds.y) == 300 - holes and not np.isnan(ds.X).any()
    with pytest.raises(DataError, match=r"holed.csv:2: column 'weight_g': missing value \(an empty cell"):
        load_dataset(DataConfig(dataset="csv", path=str(path), target="label"), np.random.default_rng(0))


# ---------------------------------------------------------------- training weights


def csv_data(tmp_path, text):
    (tmp_path / "d.csv").write_text(text)
    return DataConfig(dataset="csv", path=str(tmp_path / "d.csv"), target="label", test_size=0.0)


def test_balanced_class_weights_count_the_train_split(tmp_path):
    cfg = csv_data(tmp_path, "x,label\n" + "".join(f"{i},{'a' if i % 4 else 'b'}\n" for i in range(40)))
    p = prepare(cfg, np.random.default_rng(0), class_weight="balanced")
    y = p.train[1]
    counts = np.bincount(y)  # 30 rows of 'a', 10 of 'b': n / (2 * count)
    np.testing.assert_allclose(p.train_weight, (len(y) / (2 * counts))[y], rtol=1e-15)
    assert sorted(set(p.train_weight.tolist())) == [40 / 60, 2.0]


def test_a_mapping_matches_labels_as_text_and_multiplies_the_weight_column(tmp_path):
    text = "x,w,label\n" + "".join(f"{i},{i % 3},{'cat' if i % 2 else 7}\n" for i in range(30))
    cfg = csv_data(tmp_path, text)
    cfg.weight = "w"
    p = prepare(cfg, np.random.default_rng(0), class_weight={"7": 0.5})
    assert p.classes == ["7", "cat"] and p.n_features == 1  # the weight column is not a feature
    column = prepare(cfg, np.random.default_rng(0)).train_weight  # the same rows, the column alone
    row = p.raw.train.X[:, 0].astype(int)  # x: the row number
    np.testing.assert_array_equal(column, row % 3)
    np.testing.assert_array_equal(p.train_weight, column * np.where(p.train[1] == 0, 0.5, 1.0))


def test_an_unknown_class_in_class_weight_is_a_config_error(tmp_path):
    with pytest.raises(
        ConfigError, match=r"train.class_weight: no class 'emu' among the classes \(0, 1\) of dataset 'moons'"
    ):
        prepare(DataConfig(), np.random.default_rng(0), class_weight={"emu": 2.0})


def test_a_train_split_of_weight_zero_is_a_data_error(tmp_path):
    cfg = csv_data(tmp_path, "x,label\n" + "".join(f"{i},{'a' if i % 4 else 'b'}\n" for i in range(40)))
    with pytest.raises(DataError, match="every row of the train split weighs 0"):
        prepare(cfg, np.random.default_rng(0), class_weight={"a": 0, "b": 0})


def test_without_weights_there_are_none():
    p = prepare(DataConfig(), np.random.default_rng(0))
    assert p.train_weight is None
    assert training_weights(p.train[1], None, p.classes, None, "dataset 'moons'") is None
