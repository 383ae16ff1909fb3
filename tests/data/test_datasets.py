"""The built-in datasets: shapes, determinism, params reaching their generators, no network."""

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from trainer.data.datasets import DATASETS, DataConfig, check_dataset_params, load_dataset, make_spiral
from trainer.data.prepare import prepare, split
from trainer.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "example.csv"
BUILTINS = [name for name in DATASETS if name != "csv"]
# name -> (rows, features, classes) with default params
SHAPES = {
    "moons": (1000, 2, 2),
    "circles": (1000, 2, 2),
    "blobs": (1000, 2, 3),
    "classification": (1000, 10, 3),
    "gaussian_quantiles": (1000, 2, 3),
    "spiral": (300, 2, 3),
    "iris": (150, 4, 3),
    "wine": (178, 13, 3),
    "breast_cancer": (569, 30, 2),
    "digits": (1797, 64, 10),
}
GENERATED = ["moons", "circles", "blobs", "classification", "gaussian_quantiles", "spiral"]


def load(name, seed=0, **kw):
    return load_dataset(DataConfig(dataset=name, **kw), np.random.default_rng(seed))


# ---------------------------------------------------------------- built-ins


def test_every_builtin_has_a_shape_row():
    assert set(BUILTINS) == set(SHAPES)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_shapes_dtypes_and_classes(name):
    ds = load(name)
    n, d, C = SHAPES[name]
    assert ds.X.shape == (n, d) and ds.X.dtype == np.float64 and ds.y.shape == (n,) and ds.y.dtype == np.int64
    assert len(ds.schema.classes) == C and set(ds.y) == set(range(C))
    assert len(ds.schema.names) == d and all(isinstance(f, str) for f in ds.schema.names)
    assert (
        json.loads(json.dumps(ds.schema.classes)) == ds.schema.classes
    )  # stored in the model's JSON metadata
    assert np.isfinite(ds.X).all()


def test_bundled_classes_keep_their_own_names_and_order():
    assert load("iris").schema.classes == ["setosa", "versicolor", "virginica"]
    assert load("breast_cancer").schema.classes == ["malignant", "benign"]
    assert load("digits").schema.classes == list(range(10))
    assert load("moons").schema.classes == [0, 1]


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


@pytest.mark.parametrize(
    "name, params, shape, n_classes",
    [
        ("moons", {"n_samples": 200}, (200, 2), 2),
        ("moons", {"n_samples": 200, "noise": 0.0}, (200, 2), 2),
        ("blobs", {"n_samples": 90, "centers": 5, "n_features": 3}, (90, 3), 5),
        (
            "classification",
            {"n_samples": 120, "n_features": 6, "n_informative": 3, "n_classes": 2},
            (120, 6),
            2,
        ),
        ("gaussian_quantiles", {"n_samples": 99, "n_classes": 4}, (99, 2), 4),
        ("spiral", {"n_per_class": 50, "n_classes": 4}, (200, 2), 4),
    ],
)
def test_params_reach_the_generator(name, params, shape, n_classes):
    ds = load(name, params=params)
    assert ds.X.shape == shape and len(ds.schema.classes) == n_classes


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


# ---------------------------------------------------------------- params and safety


@pytest.mark.parametrize(
    "dataset, params, expected",
    [
        (
            "moons",
            {"nois": 0.1},
            "unknown key 'data.params.nois' for dataset 'moons' — did you mean 'data.params.noise'?",
        ),
        ("spiral", {"n_class": 4}, "did you mean 'data.params.n_classes'?"),
        (
            "moons",
            {"zzz": 1},
            "unknown key 'data.params.zzz' for dataset 'moons' (known: n_samples, noise, shuffle)",
        ),
        ("iris", {"n_samples": 10}, "(dataset 'iris' takes no params)"),
        ("moon", {}, "data.dataset: unknown dataset 'moon' — did you mean 'moons'?"),
    ],
)
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
