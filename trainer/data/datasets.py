"""Datasets: the built-in table (scikit-learn's generators and bundled sets, the cs231n spiral, CSV).

`load_dataset` draws exactly one integer from the run's Generator (the generator's seed), whatever
the dataset, so the draws after it do not depend on the data chosen. Every dataset is a Table (raw
rows and their Schema); a CSV's is checked for columns that cannot be features (table.check_categories).
"""

import inspect
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn import datasets as skd

from trainer.data.csvfile import encode_labels, read_csv
from trainer.data.csvparse import NA_VALUES
from trainer.data.schema import numeric_schema, positional_names
from trainer.data.table import check_categories, counts_rows, numeric_table
from trainer.errors import ConfigError, DataError, DataWarning, did_you_mean, first_line

SEED_BOUND = 2**32  # scikit-learn's random_state takes ints in [0, 2**32)
MAX_CATEGORIES = 100  # a text column with more distinct values is an id or free text, not categories


@dataclass
class DataConfig:
    dataset: str | None = None  # a name in DATASETS; null: csv when data.path is given, else moons
    params: dict = field(default_factory=dict)  # arguments of the dataset's generator (n_samples, noise, ...)
    path: str | None = None  # CSV file; relative to the config file, or to the cwd under --set
    target: str | int = -1  # CSV label column: header name, or index (negative counts from the end)
    sep: str | None = None  # CSV delimiter: a character, comma, tab, ..., whitespace; null = detect
    header: bool | None = None  # CSV has a header row; null = detect (a first row with no number is a header)
    skip_rows: int = 0  # CSV lines to skip before the header or the first row (a title, counts)
    drop: list = field(default_factory=list)  # CSV columns left out (ids, leaks): names or indices
    categorical: list = field(default_factory=list)  # CSV columns read as categories though they hold numbers
    na_values: list = field(default_factory=lambda: list(NA_VALUES))  # CSV texts that mark a missing value
    missing: str = "error"  # missing cells: error | drop (the rows) | mean | median (text: most frequent)
    unknown_category: str = "error"  # a category not seen in training, at evaluate/predict: error | ignore
    max_categories: int = MAX_CATEGORIES  # a text column with more distinct values is refused (an id?)
    weight: str | int | None = None  # CSV column of per-row training weights (name or index; not a feature)
    test_size: float = 0.2  # fraction of the whole held out for the test split; 0 = no test split
    val_size: float = 0.0  # fraction held out for validation; 0: train on all non-test rows, as MLPClassifier
    standardize: bool = True  # fit a StandardScaler on the train split only, so val/test stay unseen

    def __post_init__(self):
        if self.dataset is None:
            self.dataset = "csv" if self.path is not None else "moons"


@dataclass
class DatasetSpec:
    loader: Callable  # (data_cfg, seed, **params) -> Table
    description: str
    defaults: dict  # params used when the config gives none
    allowed: frozenset  # params a config may set


def _from_labels(X, labels, feature_names=None):
    """A Table from numeric features and raw labels; features named x0, x1, ... unless given."""
    y, classes = encode_labels(labels)
    X = np.asarray(X)
    names = feature_names or positional_names(X.shape[1])
    return numeric_table(X, numeric_schema(names, classes), y)


def _generator(make, description, **defaults):
    """Spec for a scikit-learn make_* generator; it gets the drawn seed as random_state."""

    def load(data_cfg, seed, **params):
        X, y = make(**params, random_state=seed)
        return _from_labels(X, y)

    allowed = set(inspect.signature(make).parameters) - {"random_state"}
    return DatasetSpec(load, description, defaults, frozenset(allowed))


def _bundled(load_fn, description):
    """Spec for a dataset shipped inside scikit-learn (read from disk, never downloaded)."""

    def load(data_cfg, seed):
        b = load_fn()  # keep scikit-learn's class order (breast_cancer: 0 = malignant), not sorted names
        schema = numeric_schema([str(f) for f in b.feature_names], [c.item() for c in b.target_names])
        return numeric_table(b.data, schema, b.target.astype(np.int64))

    return DatasetSpec(load, description, {}, frozenset())


def make_spiral(rng, n_per_class=100, n_classes=3, noise=0.2):
    """cs231n case study: K arms, radius 0->1, angle j*4 -> (j+1)*4 plus noise * N(0, 1)."""
    N, K = n_per_class, n_classes
    r = np.tile(np.linspace(0.0, 1.0, N), K)  # (N*K,)
    t = np.concatenate([np.linspace(j * 4, (j + 1) * 4, N) for j in range(K)])
    t = t + noise * rng.standard_normal(N * K)  # one draw for all arms, class by class
    X = np.column_stack([r * np.sin(t), r * np.cos(t)])  # (N*K, 2)
    return X, np.repeat(np.arange(K), N)


def _load_spiral(data_cfg, seed, **params):
    return _from_labels(*make_spiral(np.random.default_rng(seed), **params))


def _load_csv(data_cfg, seed):
    """The CSV's rows (those missing a value left out and counted with data.missing drop), with
    every column checked for being a feature."""
    t = read_csv(
        data_cfg.path,
        data_cfg.target,
        data_cfg.sep,
        data_cfg.header,
        data_cfg.missing,
        data_cfg.weight,
        data_cfg.categorical,
        data_cfg.drop,
        data_cfg.na_values,
        data_cfg.skip_rows,
    )
    named = {t.schema.inputs[i].name for i in _named(data_cfg.categorical, t)}
    check_categories(t, data_cfg.max_categories, named, data_cfg.path, "data.")
    _warn_row_numbers(t, data_cfg.path)
    return t


def _named(keys, table):
    """The input indices of the columns a config list names (by name or file index)."""
    names = table.schema.names
    return [i for i, c in enumerate(names) if c in {str(k) for k in keys}]


def _warn_row_numbers(table, source):
    """A warning for each numeric input that holds a different whole number on every row, spanning a
    range without a gap (row numbers or ids, in any order): learned as a feature, it is noise or a
    leak."""
    for k, column in enumerate(table.schema.numeric):
        x = table.X[:, k]
        if counts_rows(x):
            warnings.warn(
                f"{source}: column '{column.name}' holds a different whole number on every row, "
                f"{int(x.min())} to {int(x.max())}: an id, not a feature? leave it out with "
                f"data.drop: [{column.name}]",
                DataWarning,
                stacklevel=2,
            )


DATASETS = {
    "moons": _generator(
        skd.make_moons, "two interleaving half circles (2 features, 2 classes)", n_samples=1000, noise=0.2
    ),
    "circles": _generator(
        skd.make_circles,
        "a small circle inside a large one (2 features, 2 classes)",
        n_samples=1000,
        noise=0.1,
        factor=0.5,
    ),
    "blobs": _generator(
        skd.make_blobs,
        "isotropic Gaussian blobs (2 features, 3 classes)",
        n_samples=1000,
        n_features=2,
        centers=3,
        cluster_std=1.5,
    ),
    "classification": _generator(
        skd.make_classification,
        "Madelon-like clusters on a hypercube (10 features, 3 classes)",
        n_samples=1000,
        n_features=10,
        n_informative=5,
        n_redundant=2,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=1.0,
        flip_y=0.01,
    ),
    "gaussian_quantiles": _generator(
        skd.make_gaussian_quantiles,
        "nested shells of one Gaussian split by quantile (2 features, 3 classes)",
        n_samples=1000,
        n_features=2,
        n_classes=3,
    ),
    "spiral": DatasetSpec(
        _load_spiral,
        "cs231n case study: K interleaved spiral arms (2 features)",
        dict(n_per_class=100, n_classes=3, noise=0.2),
        frozenset({"n_per_class", "n_classes", "noise"}),
    ),
    "iris": _bundled(skd.load_iris, "Fisher's iris flowers (150 rows, 4 features, 3 classes)"),
    "wine": _bundled(skd.load_wine, "wine cultivars (178 rows, 13 features, 3 classes)"),
    "breast_cancer": _bundled(
        skd.load_breast_cancer, "Wisconsin breast cancer (569 rows, 30 features, 2 classes)"
    ),
    "digits": _bundled(skd.load_digits, "8x8 handwritten digits (1797 rows, 64 features, 10 classes)"),
    "csv": DatasetSpec(_load_csv, "a CSV file: data.path, label column data.target", {}, frozenset()),
}


def check_dataset_params(dataset, params):
    """Raise ConfigError for an unknown dataset or a params key its generator does not take."""
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset '{dataset}'{did_you_mean(dataset, DATASETS)}", "data.dataset")
    allowed = DATASETS[dataset].allowed
    for key in params:
        if key not in allowed:
            # match bare names (a shared 'data.params.' prefix makes anything look close), show dotted ones
            hint = did_you_mean(key, sorted(allowed), shown=lambda k: f"data.params.{k}") or (
                f" (known: {', '.join(sorted(allowed))})"
                if allowed
                else f" (dataset '{dataset}' takes no params)"
            )
            raise ConfigError(f"unknown key 'data.params.{key}' for dataset '{dataset}'{hint}")


def load_dataset(data_cfg, rng):
    """The whole dataset `data_cfg` names, as a Table; draws exactly one integer from `rng` (the
    generator's seed)."""
    check_dataset_params(data_cfg.dataset, data_cfg.params)
    seed = int(rng.integers(SEED_BOUND))
    spec = DATASETS[data_cfg.dataset]
    try:
        ds = spec.loader(data_cfg, seed, **{**spec.defaults, **data_cfg.params})
    except (TypeError, ValueError) as e:  # scikit-learn's parameter validation, numpy on bad sizes
        raise ConfigError(
            f"data.params: dataset '{data_cfg.dataset}' rejected {data_cfg.params}: {first_line(e)}"
        ) from None
    _check_classes(ds, data_cfg, data_source(data_cfg))
    return ds


def data_source(data_cfg):
    """The data as one-line errors name it: the CSV's path, or dataset 'NAME'."""
    return data_cfg.path if data_cfg.dataset == "csv" else f"dataset '{data_cfg.dataset}'"


def _check_classes(ds, data_cfg, source):
    """Two classes at least, and each big enough to reach every split."""
    classes = ds.schema.classes
    if len(classes) < 2:
        found = f"only one class ('{classes[0]}')" if classes else "no rows"
        raise DataError(f"{source}: {found}; a classifier needs at least 2 classes")
    splits = ["train"] + ["val"] * (data_cfg.val_size > 0) + ["test"] * (data_cfg.test_size > 0)
    counts = np.bincount(ds.y, minlength=len(classes))
    c = int(counts.argmin())
    if counts[c] < len(splits):
        raise DataError(
            f"{source}: too few rows: class '{classes[c]}' has {counts[c]} row(s); need at least "
            f"{len(splits)} per class for the {'/'.join(splits)} split(s)"
        )
