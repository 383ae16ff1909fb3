"""Evaluate and predict with saved models: metrics on a split of the model's own data or on a CSV.

A CSV is read block by block with the model's columns (data.columns.match), its inputs' kinds
and its missing-value markers; each block becomes a Table that the model's preprocessing
transforms, so a file meets exactly the transform its model was trained with. With a DriftCheck,
the mean of each input feature over the file is held against its training distribution.
"""

from collections import deque
from dataclasses import dataclass

import numpy as np

from trainer.config.load import config_from_dict
from trainer.data.columns import locate, match
from trainer.data.csvfile import open_csv
from trainer.data.csvparse import Want, blocks, factorized
from trainer.data.datasets import data_source
from trainer.data.prepare import SPLITS, Splits, fit_preprocessing, raw_splits
from trainer.data.preprocess import fill_text
from trainer.data.schema import NUMERIC
from trainer.data.table import Table
from trainer.errors import DataError, InputError, did_you_mean
from trainer.model.metrics import classification_report
from trainer.storage.modelfile import probabilities

BATCH_ROWS = 4096  # rows per forward pass of evaluate and predict on a CSV (see _Batches)
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
    for part in _scored(f, model, cols, notes, drift=drift):
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


def predict_chunks(
    model, path, target=None, ids=(), notes=None, size=None, drift=None, sep=None, skip_rows=0
):
    """(id column names, an iterator of (id columns, class indices, probabilities), one per chunk).

    ids: columns (name or index) copied through as text. A row the model cannot take (a missing
    value, with data.missing: drop) has class index -1 and NaN probabilities. Memory is bounded by
    the chunk size, whatever the file's size. Bad columns are refused here, before any row is read."""
    f = open_csv(path, sep, skip_rows=skip_rows, names=model.schema.names)
    cols = match(f, model, target, ids)
    return [f.names[j] for j in cols.ids], _predicted(f, model, cols, notes, size, drift)


def _predicted(f, model, cols, notes, size, drift):
    for part in _scored(f, model, cols, notes, size, drift):
        keep = part.keep
        pred = np.full(len(keep), -1, dtype=np.int64)
        pred[keep] = part.proba.argmax(axis=1)
        full = np.full((len(keep), model.n_classes), np.nan, dtype=part.proba.dtype)
        full[keep] = part.proba
        yield part.ids, pred, full


def predict_csv(model, path, target=None, ids=(), notes=None):
    """(class indices, probabilities) for every row of a CSV, as predict_chunks gives them."""
    parts = list(predict_chunks(model, path, target, ids, notes)[1])
    return np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


@dataclass
class _Part:
    """One block of a CSV as scored: its rows, id columns and labels (as text), the rows kept, the
    kept rows' inputs and probabilities."""

    table: Table
    ids: list
    labels: np.ndarray | None
    keep: np.ndarray
    Z: np.ndarray
    proba: np.ndarray | None = None


def _scored(f, model, cols, notes=None, size=None, drift=None):
    """A _Part per block, in file order.

    The model's data.missing decides missing values: error (the reader refuses them), drop (rows
    left out, counted in a note) or mean/median (filled by the model, counted in a note)."""
    prep, schema = model.prep, model.schema
    numeric = [cols.inputs[i] for i, c in enumerate(schema.inputs) if c.kind == NUMERIC]
    categorical = [cols.inputs[i] for i, c in enumerate(schema.inputs) if c.kind != NUMERIC]
    label = (cols.label,) if cols.label is not None else ()
    want = Want(
        tuple(numeric),
        (*categorical, *cols.ids, *label),
        marked=frozenset((*categorical, *label)),
        required=frozenset(label if prep.missing != "drop" else ()),
        missing=prep.missing != "error",
        markers=frozenset(prep.na_values),
        empty=() if f.trailing is None or f.trailing in cols.inputs else (f.trailing,),
    )
    batches, waiting = _Batches(model, f, cols), deque()
    n, dropped, filled, unseen = 0, 0, 0, 0
    for block in blocks(f, want, size):
        table = _block_table(block, schema, len(categorical))
        ids = block.texts[len(categorical) : len(categorical) + len(cols.ids)]
        labels = block.texts[-1] if label else None
        keep = ~table.missing() if prep.missing == "drop" else np.ones(len(table), bool)
        if labels is not None and prep.missing == "drop":
            keep &= np.fromiter((v is not None for v in labels), bool, len(labels))
        dropped += len(keep) - int(keep.sum())
        filled += table.missing_count() if prep.missing != "drop" else 0
        n += len(keep)
        rows = table if keep.all() else table.take(keep)
        unseen += prep.unseen(rows) if prep.unknown_category == "ignore" else 0
        part = _Part(table, ids, labels, keep, _inputs(model, rows, f, cols))
        if drift is not None:
            drift.add(prep.encoded(rows))
        batches.add(part.Z, rows)
        waiting.append(part)
        while waiting and len(waiting[0].Z) <= batches.ready:
            part = waiting.popleft()
            part.proba = batches.take(len(part.Z))
            yield part
    batches.finish()
    for part in waiting:
        part.proba = batches.take(len(part.Z))
        yield part
    if n == 0:
        raise DataError(f"{f.path}: no data rows" + (", only a header" if f.has_header else ""))
    if notes is not None:
        notes.extend(cols.notes)
        if dropped:
            why = "the model's data.missing: drop"
            notes.append(f"{f.path}: {dropped} row(s) with missing values dropped ({why})")
        if filled:
            notes.append(f"{f.path}: {filled} missing value(s) filled with {fill_text(prep)}")
        if unseen:
            notes.append(
                f"{f.path}: {unseen} value(s) of categories the model does not know, encoded as none of "
                "the known ones (its data.unknown_category: ignore)"
            )


def _block_table(block, schema, n_categorical):
    """A Block's input columns as a Table of the model's inputs."""
    codes, values = [], []
    for texts in block.texts[:n_categorical]:
        column_codes, uniques = factorized(texts)
        codes.append(column_codes.astype(np.int64))
        values.append(uniques)
    C = np.column_stack(codes) if codes else np.empty((len(block.lines), 0), np.int64)
    return Table(schema, block.X, C, values, lines=block.lines)


def _inputs(model, table, f, cols):
    """model.transform of a block's rows; a value it cannot take is a DataError naming its line and column."""
    try:
        return model.transform(table)
    except InputError as e:
        raise _at_line(e, table.lines, f, cols) from None


def _at_line(e, lines, f, cols):
    """An InputError (row and input index into a block) as a DataError naming the file's line and column."""
    j = cols.inputs[e.column]
    value = "value" if e.value is None else repr(e.value)
    return DataError(f"{f.path}:{lines[e.row]}: {f.where(j)}: {value} {e.why}")


class _Batches:
    """Inputs in, their probabilities out in the same order, the network run on BATCH_ROWS rows at a
    time counted from the first row: a row's scores are BLAS sums whose rounding can depend on the
    batch's size, so fixed batches keep the probabilities independent of how the file was chunked."""

    def __init__(self, model, f, cols):
        self.model, self.f, self.cols = model, f, cols
        self.Z, self.rows, self.waiting = [], [], 0  # inputs not yet run, and their Tables
        self.out, self.ready = [], 0  # probabilities not yet taken

    def add(self, Z, rows):
        self.Z.append(Z)
        self.rows.append(rows)
        self.waiting += len(Z)
        if self.waiting >= BATCH_ROWS:
            self._run(self.waiting - self.waiting % BATCH_ROWS)

    def finish(self):
        if self.waiting:
            self._run(self.waiting)

    def _run(self, end):
        from threadpoolctl import threadpool_limits  # scikit-learn's dependency; slow to import

        Z = np.concatenate(self.Z)
        # one BLAS thread: the parser's threads keep the cores busy, and a second BLAS thread on these
        # small products only waits for them; each score is one thread's sum either way
        with threadpool_limits(1, user_api="blas"):
            for s in range(0, end, BATCH_ROWS):
                self.out.append(self._proba(Z[s : s + BATCH_ROWS], s))
        self.Z, self.waiting = [Z[end:]], len(Z) - end
        self._forget(end)
        self.ready += end

    def _proba(self, Z, start):
        """probabilities(Z); a row whose scores overflow is a DataError naming its line and column."""
        try:
            return probabilities(self.model, Z)
        except InputError as e:
            table, row = self._row(start + e.row)
            i = self.model.schema.input_of_feature(e.column)
            raise _at_line(
                InputError(row, i, table.value(row, i), e.why, ""), table.lines, self.f, self.cols
            ) from None

    def _row(self, r):
        """(Table, row in it) of the r-th row waiting."""
        for table in self.rows:
            if r < len(table):
                return table, r
            r -= len(table)
        raise IndexError(r)

    def _forget(self, end):
        """Drop the Tables of the first `end` rows waiting (a Table split across keeps its rest)."""
        while end and self.rows:
            table = self.rows[0]
            if len(table) <= end:
                end -= len(table)
                self.rows.pop(0)
            else:
                self.rows[0] = table.take(np.arange(end, len(table)))
                end = 0

    def take(self, k):
        """The next k probabilities (k <= ready)."""
        if k == 0:
            return np.empty((0, self.model.n_classes), self.model.params["W1"].dtype)
        P = np.concatenate(self.out)
        self.out, self.ready = [P[k:]], self.ready - k
        return P[:k]


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
