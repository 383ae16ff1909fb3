"""Evaluate and predict with saved models: metrics on a split of the model's own data or on a CSV."""

import numpy as np

from trainer.config.load import config_from_dict
from trainer.data.csvfile import read_csv
from trainer.data.datasets import data_source
from trainer.data.prepare import raw_splits
from trainer.errors import DataError
from trainer.model.metrics import classification_report
from trainer.model.scaling import fit_scaler

SPLITS = ("train", "val", "test")  # the splits of a config's dataset a model can be evaluated on
SPLIT_SIZES = {"val": "data.val_size", "test": "data.test_size"}


def own_split(model, split="test"):
    """A split of the model's own dataset (train, val or test) in raw feature units, recreated from
    the config it was trained with (model_splits: a DataError when the data changed since)."""
    if "dataset" not in model.config.get("data", {}):  # e.g. saved by TwoLayerNetClassifier, fitted on arrays
        raise DataError(
            f"this model was fitted on arrays, not on a dataset of a config, so it has no {split} split "
            "to recreate; pass --csv FILE --target COLUMN"
        )
    splits = model_splits(model)
    part = getattr(splits, split)
    if part is None:
        have = [s for s in SPLITS if getattr(splits, s) is not None]
        raise DataError(
            f"this model was trained with {SPLIT_SIZES[split]} 0, so it has no {split} split; "
            f"choose {' or '.join(f'--split {s}' for s in have)}, or pass --csv FILE --target COLUMN"
        )
    return part


def evaluate(model, X=None, y=None, split="test"):
    """Metrics of `model` on raw (X, y), or on a split of its own dataset (the default, test: equal
    to summary.json's test metrics)."""
    if X is None:
        X, y = own_split(model, split)
    return classification_report(model.params, model.transform(X), y, model.classes)


def evaluate_csv(model, path, target):
    """Metrics of `model` on a labelled CSV in the raw feature units it was trained on."""
    X, labels, names, _ = read_csv(path, target=target)
    X = select_features(model, X, names, path)
    y = encode_with(model.classes, labels, path)
    return classification_report(model.params, model.transform(X), y, model.classes)


def predict_csv(model, path, target=None):
    """(class indices, probabilities) for the rows of a CSV of features (a `target` column is dropped)."""
    X, _, names, _ = read_csv(path, target=target)
    proba = model.predict_proba(select_features(model, X, names, path))
    return proba.argmax(axis=1), proba


def select_features(model, X, names, path):
    """The model's feature columns of X: by name when the header has them all, else by position."""
    if set(model.feature_names) <= set(names):
        return X[:, [names.index(f) for f in model.feature_names]]
    if X.shape[1] != model.n_features:
        raise DataError(
            f"{path}: has {X.shape[1]} feature columns; the model expects {model.n_features} "
            f"({', '.join(model.feature_names)})"
        )
    return X


def encode_with(classes, labels, path):
    """Labels read from a CSV (strings) -> the model's class indices; unknown labels are an error."""
    index = {str(c): i for i, c in enumerate(classes)}
    unknown = sorted({str(label) for label in labels} - index.keys())
    if unknown:
        raise DataError(
            f"{path}: label(s) {', '.join(unknown[:5])} are not among the model's classes "
            f"({', '.join(map(str, classes))})"
        )
    return np.array([index[str(label)] for label in labels], dtype=np.int64)


def model_splits(model):
    """The data.prepare.Splits a saved model was trained on, in raw feature units, recreated from its
    config (the same seed draws the same rows, as runs.run.start drew them).

    The data must still be what the model was trained on: the train split must give the model's
    scaler again, else a one-line DataError (a CSV edited since would not). A model trained
    without standardisation has no scaler to check against.
    """
    cfg = config_from_dict(model.config)
    s = raw_splits(cfg.data, np.random.default_rng(cfg.seed))
    if model.scaler_mean is not None:
        mean, scale = fit_scaler(s.train[0], s.feature_names, data_source(cfg.data))
        if not (np.array_equal(mean, model.scaler_mean) and np.array_equal(scale, model.scaler_scale)):
            raise DataError(
                f"{data_source(cfg.data)}: the data changed since this model was trained "
                "(its train split no longer gives the model's scaler)"
            )
    return s
