"""Datasets, splits, scaling and CSV reading: shapes, determinism, stratification, every bad CSV."""
import json
import socket
from pathlib import Path

import numpy as np
import pytest

from trainer.data.csvfile import encode_labels, read_csv
from trainer.data.datasets import DATASETS, DataConfig, Dataset, check_dataset_params, load_dataset, make_spiral
from trainer.model.scaling import fit_scaler
from trainer.data.prepare import prepare, split
from trainer.errors import ConfigError, DataError

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "example.csv"
BUILTINS = [name for name in DATASETS if name != "csv"]
# name -> (rows, features, classes) with default params
SHAPES = {
    "moons": (1000, 2, 2), "circles": (1000, 2, 2), "blobs": (1000, 2, 3), "classification": (1000, 10, 3),
    "gaussian_quantiles": (1000, 2, 3), "spiral": (300, 2, 3), "iris": (150, 4, 3), "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2), "digits": (1797, 64, 10),
}
GENERATED = ["moons", "circles", "blobs", "classification", "gaussian_quantiles", "spiral"]


def load(name, seed=0, **kw):
    return load_dataset(DataConfig(dataset=name, **kw), np.random.default_rng(seed))


def write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------- built-ins

def test_every_builtin_has_a_shape_row():
    assert set(BUILTINS) == set(SHAPES)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_shapes_dtypes_and_classes(name):
    ds = load(name)
    n, d, C = SHAPES[name]
    assert ds.X.shape == (n, d) and ds.X.dtype == np.float64 and ds.y.shape == (n,) and ds.y.dtype == np.int64
    assert len(ds.classes) == C and set(ds.y) == set(range(C))
    assert len(ds.feature_names) == d and all(isinstance(f, str) for f in ds.feature_names)
    assert json.loads(json.dumps(ds.classes)) == ds.classes  # stored in the model's JSON metadata
    assert np.isfinite(ds.X).all()


def test_bundled_classes_keep_their_own_names_and_order():
    assert load("iris").classes == ["setosa", "versicolor", "virginica"]
    assert load("breast_cancer").classes == ["malignant", "benign"]
    assert load("digits").classes == list(range(10))
    assert load("moons").classes == [0, 1]


@pytest.mark.parametrize("name", BUILTINS)
def test_same_seed_same_data_and_splits_another_seed_differs(name):
    a, b, c = (prepare(DataConfig(dataset=name, val_size=0.1), np.random.default_rng(s)) for s in (0, 0, 1))
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(a, part)[0], getattr(b, part)[0])
        np.testing.assert_array_equal(getattr(a, part)[1], getattr(b, part)[1])
    assert not np.array_equal(a.test[0], c.test[0])


@pytest.mark.parametrize("name", GENERATED)
def test_generated_data_differs_for_another_seed(name):
    assert not np.array_equal(load(name, 0).X, load(name, 1).X)


@pytest.mark.parametrize("name, params, shape, n_classes", [
    ("moons", {"n_samples": 200}, (200, 2), 2),
    ("moons", {"n_samples": 200, "noise": 0.0}, (200, 2), 2),
    ("blobs", {"n_samples": 90, "centers": 5, "n_features": 3}, (90, 3), 5),
    ("classification", {"n_samples": 120, "n_features": 6, "n_informative": 3, "n_classes": 2}, (120, 6), 2),
    ("gaussian_quantiles", {"n_samples": 99, "n_classes": 4}, (99, 2), 4),
    ("spiral", {"n_per_class": 50, "n_classes": 4}, (200, 2), 4),
])
def test_params_reach_the_generator(name, params, shape, n_classes):
    ds = load(name, params=params)
    assert ds.X.shape == shape and len(ds.classes) == n_classes


def test_params_change_the_data():
    assert not np.allclose(load("moons", params={"noise": 0.0}).X, load("moons", params={"noise": 0.3}).X)


def test_spiral_follows_the_cs231n_recipe():
    N, K = 50, 3
    X, y = make_spiral(np.random.default_rng(0), N, K, noise=0.0)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.tile(np.linspace(0, 1, N), K))  # radius 0 -> 1
    r = np.tile(np.linspace(0, 1, N), K)
    t = np.concatenate([np.linspace(j * 4, (j + 1) * 4, N) for j in range(K)])  # angle j*4 -> (j+1)*4
    np.testing.assert_allclose(X, np.column_stack([r * np.sin(t), r * np.cos(t)]))
    np.testing.assert_array_equal(y, np.repeat(np.arange(K), N))
    noisy, _ = make_spiral(np.random.default_rng(0), N, K, noise=0.2)
    assert not np.allclose(noisy, X)


def test_rng_draws_one_integer_in_load_and_two_in_split():
    for name in ("moons", "iris", "spiral"):
        rng, ref = np.random.default_rng(5), np.random.default_rng(5)
        ds = load_dataset(DataConfig(dataset=name), rng)
        ref.integers(2**32)
        assert rng.bit_generator.state == ref.bit_generator.state
        split(ds, DataConfig(dataset=name), rng)
        ref.integers(2**32, size=2)
        assert rng.bit_generator.state == ref.bit_generator.state


# ---------------------------------------------------------------- splits and scaling

def indexed(n_per_class=(50, 30, 20)):
    """A dataset whose single feature is the row index, to check disjointness."""
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    return Dataset(np.arange(len(y), dtype=np.float64)[:, None], y, list(range(len(n_per_class))), ["i"])


@pytest.mark.parametrize("test_size, val_size, sizes", [
    (0.2, 0.1, (70, 10, 20)), (0.2, 0.0, (80, None, 20)), (0.0, 0.1, (90, 10, None)),
    (0.0, 0.0, (100, None, None)), (0.25, 0.25, (50, 25, 25)),
])
def test_split_sizes_are_fractions_of_the_whole_and_disjoint(test_size, val_size, sizes):
    ds = indexed()
    s = split(ds, DataConfig(test_size=test_size, val_size=val_size), np.random.default_rng(0))
    parts = [s.train, s.val, s.test]
    assert tuple(None if p is None else len(p[1]) for p in parts) == sizes
    rows = np.concatenate([p[0][:, 0] for p in parts if p is not None])
    assert sorted(rows) == list(range(100))
    for p in parts:
        if p is not None:
            np.testing.assert_array_equal(ds.y[p[0][:, 0].astype(int)], p[1])


@pytest.mark.parametrize("name", ["iris", "wine", "breast_cancer", "digits", "blobs"])
def test_splits_are_stratified(name):
    ds = load(name)
    cfg = DataConfig(dataset=name, val_size=0.1)
    s = split(ds, cfg, np.random.default_rng(3))
    whole = np.bincount(ds.y) / len(ds.y)
    for part in (s.train, s.val, s.test):
        counts = np.bincount(part[1], minlength=len(ds.classes))
        assert np.all(np.abs(counts - whole * len(part[1])) <= 1), (counts, whole * len(part[1]))


def test_split_depends_only_on_rng():
    ds, cfg = indexed(), DataConfig()
    a, b = (split(ds, cfg, np.random.default_rng(9)) for _ in range(2))
    np.testing.assert_array_equal(a.test[0], b.test[0])
    assert not np.array_equal(a.test[0], split(ds, cfg, np.random.default_rng(10)).test[0])


@pytest.mark.parametrize("test_size, val_size, expected", [
    (0.02, 0.1, "data.test_size: a test split of 2 of 100 rows cannot hold all 3 classes"),
    (0.2, 0.01, "data.val_size: a val split of 1 of 100 rows cannot hold all 3 classes"),
])
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
    np.testing.assert_allclose(p.scaler_mean, raw.train[0].mean(axis=0))
    np.testing.assert_allclose(p.scaler_scale, raw.train[0].std(axis=0))
    assert not np.allclose(p.scaler_mean, load("wine").X.mean(axis=0))
    np.testing.assert_allclose(p.train[0].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(p.train[0].std(axis=0), 1)
    np.testing.assert_allclose(p.test[0], (raw.test[0] - p.scaler_mean) / p.scaler_scale)
    assert abs(p.test[0].mean()) > 1e-6  # the test split was not fitted


def test_constant_feature_gets_scale_one():
    X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    mean, scale = fit_scaler(X)
    np.testing.assert_allclose(mean, [2.0, 5.0])
    assert scale[1] == 1.0 and scale.dtype == np.float64


def test_no_standardisation_and_float32():
    p = prepare(DataConfig(dataset="iris", standardize=False), np.random.default_rng(0), "float32")
    assert p.scaler_mean is None and p.scaler_scale is None
    assert p.train[0].dtype == np.float32 and p.test[0].dtype == np.float32 and p.train[1].dtype == np.int64
    assert p.n_features == 4 and p.n_classes == 3 and p.train[0].max() > 5  # raw units (cm)


# ---------------------------------------------------------------- CSV reading

ROWS = [("1.5", "2", "cat"), ("0.5", "-1", "dog"), ("2.5", "3e-1", "cat"), ("4", "0", "emu")]


def csv_text(delimiter=",", header=True, rows=ROWS):
    lines = [delimiter.join(("a", "b", "label"))] if header else []
    return "\n".join([*lines, *(delimiter.join(r) for r in rows)]) + "\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("header", [True, False])
def test_delimiter_and_header_are_detected(tmp_path, delimiter, header):
    X, labels, names = read_csv(write(tmp_path, csv_text(delimiter, header)), target=-1)
    np.testing.assert_array_equal(X, [[1.5, 2], [0.5, -1], [2.5, 0.3], [4, 0]])
    assert labels == ["cat", "dog", "cat", "emu"]
    assert names == (["a", "b"] if header else ["x0", "x1"])


@pytest.mark.parametrize("target", ["label", 2, -1])
def test_target_by_name_index_or_negative_index(tmp_path, target):
    X, labels, names = read_csv(write(tmp_path, csv_text()), target=target)
    assert labels[:2] == ["cat", "dog"] and names == ["a", "b"] and X.shape == (4, 2)


def test_target_in_the_middle_and_features_only(tmp_path):
    X, labels, names = read_csv(write(tmp_path, "a,y,b\n1,0,2\n3,1,4\n", "m.csv"), target=1)
    assert names == ["a", "b"] and labels == ["0", "1"] and X.tolist() == [[1, 2], [3, 4]]
    X, labels, names = read_csv(write(tmp_path, "a,b\n1,2\n3,4\n", "f.csv"))
    assert labels is None and names == ["a", "b"] and X.tolist() == [[1, 2], [3, 4]]


def test_explicit_header_delimiter_and_messy_files(tmp_path):
    # numeric header names would be read as data unless header is given; a BOM, spaces and blank lines are fine
    p = write(tmp_path, "\ufeff1 ; 2 ; 3\n\n0.5 ; 1 ; x\n\n1.5 ; 2 ; y\n\n")
    X, labels, names = read_csv(p, target=-1, delimiter="semicolon", header=True)
    assert names == ["1", "2"] and labels == ["x", "y"] and X.tolist() == [[0.5, 1], [1.5, 2]]


def test_string_labels_are_mapped_and_recorded(tmp_path):
    cfg = DataConfig(dataset="csv", path=str(write(tmp_path, csv_text(rows=ROWS * 5))), test_size=0, val_size=0)
    ds = load_dataset(cfg, np.random.default_rng(0))
    assert ds.classes == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(ds.y[:4], [0, 1, 0, 2])


def test_encode_labels_ints_sort_numerically_strings_sort_as_text():
    y, classes = encode_labels(["10", "9", "-1", "9"])
    assert classes == [-1, 9, 10] and y.tolist() == [2, 1, 0, 1] and y.dtype == np.int64
    assert encode_labels(["b", "a", "10"])[1] == ["10", "a", "b"]
    assert encode_labels(["1.0", "2"])[1] == ["1.0", "2"]  # not every label is an int


def test_example_csv_is_a_realistic_three_class_problem():
    ds = load_dataset(DataConfig(dataset="csv", path=str(EXAMPLE), target="label"), np.random.default_rng(0))
    assert ds.X.shape == (300, 4) and ds.classes == ["apple", "lemon", "orange"]
    assert ds.feature_names == ["weight_g", "diameter_cm", "sugar_pct", "acidity_ph"]
    assert np.bincount(ds.y).tolist() == [100, 100, 100]


BAD_CSV = [
    # (file text or None for a missing file, target, expected message parts)
    (None, -1, ["d.csv: no such file"]),
    ("", -1, ["d.csv: file is empty"]),
    ("  \n\n", -1, ["d.csv: file is empty"]),
    ("a,b,label\n", -1, ["d.csv: no data rows"]),
    ("a,b,label\n1,2,x\n3,4,y\n", "lable", ["d.csv: no target column 'lable'", "columns: a, b, label",
                                            "did you mean 'label'?"]),
    ("a,b,label\n1,2,x\n", 3, ["d.csv: target column 3 is out of range", "3 columns"]),
    ("1,2,x\n3,4,y\n", "label", ["d.csv: no header row, so the target 'label' must be a column index"]),
    ("a,b,label\n1,2,x\n3,4\n5,6,y\n", -1, ["d.csv:3: expected 3 fields (as on line 1), got 2"]),
    ("a,b,label\n1,2,x\n3,4,y,z\n", -1, ["d.csv:3: expected 3 fields", "got 4"]),
    ("a,b,label\n1,2,x\n3,oops,y\n", -1, ["d.csv:3: column 'b': not a number: 'oops'"]),
    ("a,b,label\n1,,x\n", -1, ["d.csv:2: column 'b': not a number: ''"]),
    ("1,2,x\n3,oops,y\n", -1, ["d.csv:2: column 1 (counting from 0): not a number: 'oops'"]),
    ("a,b,label\n1,2,x\n\n3,nan,y\n", -1, ["d.csv:4: column 'b': 'nan' is not finite"]),
    ("a,b,label\n1,2,x\n-inf,4,y\n", -1, ["d.csv:3: column 'a': '-inf' is not finite"]),
    ("a,b,label\n1,2,x\n3,4,\n", -1, ["d.csv:3: column 'label': empty label"]),
    ("a,a,label\n1,2,x\n", -1, ["d.csv:1: duplicate column name 'a'"]),
    ("label\nx\ny\n", -1, ["d.csv: no feature columns besides the target column 'label'"]),
]


@pytest.mark.parametrize("text, target, expected", BAD_CSV)
def test_bad_csv_is_one_clear_line(tmp_path, text, target, expected):
    path = tmp_path / "d.csv" if text is None else write(tmp_path, text)
    with pytest.raises(DataError) as e:
        read_csv(path, target=target)
    message = str(e.value)
    assert "\n" not in message and message.startswith(str(path))
    for part in expected:
        assert part in message


def test_bad_csv_errors_are_deterministic(tmp_path):
    p = write(tmp_path, "a,b,label\n1,x,x\n2,y,y\n")
    messages = set()
    for _ in range(3):
        with pytest.raises(DataError) as e:
            read_csv(p, target=-1)
        messages.add(str(e.value))
    assert messages == {f"{p}:2: column 'b': not a number: 'x'"}


@pytest.mark.parametrize("text, expected", [
    ("a,label\n1,x\n2,x\n3,x\n", "only one class ('x'); a classifier needs at least 2 classes"),
    ("a,label\n1,x\n2,x\n3,x\n4,y\n", "too few rows: class 'y' has 1 row(s); need at least 3 per class for the train/val/test split(s)"),
])
def test_training_data_needs_two_classes_and_enough_rows(tmp_path, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(DataError) as e:
        load_dataset(DataConfig(dataset="csv", path=str(p), val_size=0.1), np.random.default_rng(0))
    assert str(e.value) == f"{p}: {expected}"


def test_bad_delimiter_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="data.delimiter: expected one character"):
        read_csv(write(tmp_path, csv_text()), target=-1, delimiter="::")


# ---------------------------------------------------------------- params and safety

@pytest.mark.parametrize("dataset, params, expected", [
    ("moons", {"nois": 0.1}, "unknown key 'data.params.nois' for dataset 'moons' — did you mean 'data.params.noise'?"),
    ("spiral", {"n_class": 4}, "did you mean 'data.params.n_classes'?"),
    ("moons", {"zzz": 1}, "unknown key 'data.params.zzz' for dataset 'moons' (known: n_samples, noise, shuffle)"),
    ("iris", {"n_samples": 10}, "(dataset 'iris' takes no params)"),
    ("moon", {}, "data.dataset: unknown dataset 'moon' — did you mean 'moons'?"),
])
def test_check_dataset_params_names_the_key_and_suggests(dataset, params, expected):
    with pytest.raises(ConfigError) as e:
        check_dataset_params(dataset, params)
    assert expected in str(e.value)


def test_check_dataset_params_accepts_every_default():
    for name, spec in DATASETS.items():
        check_dataset_params(name, spec.defaults)


def test_a_bad_param_value_is_a_config_error():
    with pytest.raises(ConfigError, match="data.params: dataset 'moons' rejected"):
        load("moons", params={"noise": "lots"})


def test_no_network_is_touched(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("network access")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in BUILTINS:
        prepare(DataConfig(dataset=name), np.random.default_rng(0))
    prepare(DataConfig(dataset="csv", path=str(EXAMPLE)), np.random.default_rng(0))
