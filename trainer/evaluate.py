"""Metrics of saved models: on a split of the model's own data, recreated from its config, or on a
labelled CSV (read and scored as predict.py scores a file).
"""

import numpy as np

from trainer.config.load import config_from_dict
from trainer.data.columns import locate, match
from trainer.data.csvfile import open_csv
from trainer.data.csvparse import factorized
from trainer.data.datasets import data_source
from trainer.data.prepare import SPLITS, Splits, fit_preprocessing, raw_splits
from trainer.data.schema import NUMERIC
from trainer.data.table import Table
from trainer.errors import DataError, did_you_mean
from trainer.model.metrics import classification_report
from trainer.predict import scored
from trainer.storage.modelfile import probabilities

SPLIT_SIZES = {"val": "data.val_size", "test": "data.test_size"}


def own_split(model, split="test"):
    """A split of the model's own dataset (train, val or test) as a raw Table, recreated from the
    config it was trained with (model_splits: a DataError when the data changed since)."""
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


def evaluate(model, X=None, y=None, split="test", scores=None):
    """Metrics of `model` on raw rows X (a Table, or numeric rows) with labels y (class indices;
    a Table's own when None), or on a split of its own dataset (the default, test: equal to
    summary.json's test metrics, a category too rare to reach the train split encoded as there).
    scores: a Scores that gets every row's label and probabilities."""
    own = X is None
    if own:
        X = own_split(model, split)
    table = model.table(X)
    Z = model.transform(table, unknown="ignore" if own else None)
    y = table.y if y is None else np.asarray(y)
    if scores is not None:
        scores.add(y, probabilities(model, Z))
    return classification_report(model.params, Z, y, model.classes)


class Scores:
    """The rows an evaluation scores, in order: each one's class index (y) and class probabilities
    (proba, N x C), gathered block by block; what the ROC and precision-recall curves are drawn from."""

    def __init__(self):
        self._y, self._proba = [], []

    def add(self, y, proba):
        self._y.append(np.asarray(y))
        self._proba.append(proba)

    @property
    def y(self):
        return np.concatenate(self._y)

    @property
    def proba(self):
        return np.concatenate(self._proba)


def evaluate_csv(model, path, target=None, notes=None, drift=None, sep=None, skip_rows=0, scores=None):
    """Metrics of `model` on a labelled CSV in the raw units it was trained on.

    Columns are matched as data.columns.match says (by name with a header); the label column is
    `target`, else the model's own. notes: a list that gets one-line notes for the user (columns
    ignored, rows dropped, values filled). drift: a DriftCheck that sees every row scored; scores:
    a Scores that gets each one's label and probabilities. The metrics are classification_report's,
    as for a split."""
    f = open_csv(path, sep, skip_rows=skip_rows, names=model.schema.names)
    cols = match(f, model, target, need_label=True)
    index = {str(c): i for i, c in enumerate(model.classes)}
    ys, Zs, unknown = [], [], {}
    for part in scored(f, model, cols, notes, drift=drift):
        labels, lines, Z = part.labels[part.keep], part.table.lines[part.keep], part.Z
        codes, distinct = factorized(labels)
        known = np.array([index.get(s, -1) for s in distinct], np.int64)
        y = known[codes]
        if (known < 0).any():
            first = np.unique(codes, return_index=True)[
                1
            ]  # codes count distinct labels in order of first use
            for k in np.flatnonzero(known < 0):
                unknown.setdefault(distinct[k], int(lines[first[k]]))
        ys.append(y)
        Zs.append(Z)
        if scores is not None:
            scores.add(y, part.proba)
    if not sum(map(len, ys)):
        raise DataError(f"{path}: every row has a missing value (the model's data.missing: drop)")
    if unknown:
        _unknown_labels(path, unknown, model.classes, index)
    Z, y = np.concatenate(Zs), np.concatenate(ys)
    return classification_report(model.params, Z, y, model.classes)


def _unknown_labels(path, unknown, classes, index):
    """The DataError naming the labels the model does not know, in order of first appearance."""
    in_order = sorted(unknown, key=unknown.get)
    first = in_order[0]
    shown = ", ".join(map(repr, in_order[:5])) + (
        f", ... ({len(unknown)} in all)" if len(unknown) > 5 else ""
    )
    raise DataError(
        f"{path}:{unknown[first]}: label(s) {shown} are not among "
        f"the model's classes ({', '.join(map(str, classes))}){did_you_mean(first, index)}"
    )


def model_splits(model):
    """The raw Splits a saved model was trained on, in the model's input order, recreated from its
    config (the same seed draws the same rows, as runs.run.start drew them); the data's columns
    are matched to the model's inputs by name.

    The data must still be what the model was trained on: the train split must give the model's
    preprocessing again, else a one-line DataError (a CSV edited since would not).
    """
    cfg = config_from_dict(model.config)
    s = raw_splits(cfg.data, np.random.default_rng(cfg.seed))
    source = data_source(cfg.data)
    order = locate(model.schema.names, s.schema.names, source)
    if order != list(range(len(s.schema.names))):
        s = Splits(
            *(None if t is None else _reordered(t, order, model.schema) for t in (s.train, s.val, s.test))
        )
    prep = fit_preprocessing(cfg.data, s.train)
    if not _same_preprocessing(prep, model.prep):
        raise DataError(
            f"{source}: the data changed since this model was trained "
            "(its train split no longer gives the model's preprocessing)"
        )
    return s


def _reordered(table, order, schema):
    """A split's Table with its inputs in `order` (each a column of table.schema.inputs), C-contiguous
    as training had them (the scaler's sums round by the memory layout)."""
    inputs = table.schema.inputs
    numeric = [table.schema.kind_index(i) for i in order if inputs[i].kind == NUMERIC]
    categorical = [table.schema.kind_index(i) for i in order if inputs[i].kind != NUMERIC]
    new_schema = type(table.schema)(
        [inputs[i] for i in order], table.schema.classes, table.schema.target, table.schema.positional
    )
    return Table(
        new_schema,
        np.ascontiguousarray(table.X[:, numeric]),
        table.codes[:, categorical],
        [table.values[k] for k in categorical],
        table.y,
        table.weight,
        table.lines,
        table.n_dropped,
    )


def _same_preprocessing(a, b):
    """Whether two Preprocessings transform alike: the same categories, fills, scaler."""
    arrays = ("fill", "scaler_mean", "scaler_scale")
    return (
        a.schema.inputs == b.schema.inputs
        and a.fill_categories == b.fill_categories
        and all(_same(getattr(a, k), getattr(b, k)) for k in arrays)
    )


def _same(a, b):
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
