"""Evaluate and predict with saved models: metrics on a split of the model's own data or on a CSV."""

from collections import deque
from dataclasses import replace

import numpy as np

from trainer.config.load import config_from_dict
from trainer.data.columns import locate, match
from trainer.data.csvfile import open_csv
from trainer.data.csvparse import Want, blocks, factorized
from trainer.data.datasets import data_source
from trainer.data.prepare import fit_preprocessing, raw_splits
from trainer.errors import DataError, InputError, did_you_mean
from trainer.model.metrics import classification_report

BATCH_ROWS = 4096  # rows per forward pass of evaluate and predict on a CSV (see _Batches)

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


def evaluate_csv(model, path, target=None, notes=None):
    """Metrics of `model` on a labelled CSV in the raw feature units it was trained on.

    Columns are matched as data.columns.match says (by name with a header); the label column is
    `target`, else the model's own. notes: a list that gets one-line notes for the user (columns
    ignored, rows dropped, values filled). The metrics are classification_report's, as for a split."""
    f = open_csv(path)
    cols = match(f, model, target, need_label=True)
    index = {str(c): i for i, c in enumerate(model.classes)}
    ys, Xs, unknown = [], [], {}
    for block, keep, _ in _scored(f, model, cols, notes):  # its probabilities: every row checked
        labels, lines = block.texts[0][keep], block.lines[keep]
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
        Xs.append(block.X[keep])
    if not sum(map(len, ys)):
        raise DataError(f"{path}: every row has a missing value (the model's data.missing: drop)")
    if unknown:
        first = min(unknown, key=unknown.get)
        if first == "":
            raise DataError(f"{path}:{unknown[first]}: empty label")
        in_order = sorted(unknown, key=unknown.get)  # as they first appear in the file
        shown = ", ".join(map(repr, in_order[:5])) + (
            f", ... ({len(unknown)} in all)" if len(unknown) > 5 else ""
        )
        raise DataError(
            f"{path}:{unknown[first]}: label(s) {shown} are not among "
            f"the model's classes ({', '.join(map(str, model.classes))}){did_you_mean(first, index)}"
        )
    X, y = np.concatenate(Xs), np.concatenate(ys)
    return classification_report(model.params, model.transform(X), y, model.classes)


def predict_chunks(model, path, target=None, ids=(), notes=None, size=None):
    """(id column names, an iterator of (id columns, class indices, probabilities), one per chunk).

    ids: columns (name or index) copied through as text. A row the model cannot take (a missing
    value, with data.missing: drop) has class index -1 and NaN probabilities. Memory is bounded by
    the chunk size, whatever the file's size. Bad columns are refused here, before any row is read."""
    f = open_csv(path)
    cols = match(f, model, target, ids)
    return [f.names[j] for j in cols.ids], _predicted(f, model, cols, notes, size)


def _predicted(f, model, cols, notes, size):
    for block, keep, proba in _scored(f, model, cols, notes, size):
        pred = np.full(len(keep), -1, dtype=np.int64)
        pred[keep] = proba.argmax(axis=1)
        full = np.full((len(keep), model.n_classes), np.nan, dtype=proba.dtype)
        full[keep] = proba
        yield block.texts[: len(cols.ids)], pred, full


def predict_csv(model, path, target=None, ids=(), notes=None):
    """(class indices, probabilities) for every row of a CSV, as predict_chunks gives them."""
    parts = list(predict_chunks(model, path, target, ids, notes)[1])
    return np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


def _scored(f, model, cols, notes=None, size=None):
    """(block, rows kept, probabilities of the kept rows) for each Block of the file's matched columns.

    The model's data.missing decides missing values: error (the reader refuses them), drop (rows
    left out, counted in a note) or mean/median (filled by the model, counted in a note)."""
    policy = model.config.get("data", {}).get("missing", "error")
    texts = tuple(cols.ids) + ((cols.label,) if cols.label is not None else ())
    want = Want(tuple(cols.features), texts, frozenset(), policy != "error")
    batches, waiting = _Batches(model, f, cols), deque()
    n, dropped, filled = 0, 0, 0
    for block in blocks(f, want, size):
        missing = np.isnan(block.X)
        keep = ~missing.any(axis=1) if policy == "drop" else np.ones(len(block.lines), bool)
        dropped += len(keep) - int(keep.sum())
        filled += int(missing.sum()) if policy != "drop" else 0
        n += len(keep)
        batches.add(*((block.X, block.lines) if keep.all() else (block.X[keep], block.lines[keep])))
        waiting.append((block, keep, int(keep.sum())))
        while waiting and waiting[0][2] <= batches.ready:
            block, keep, k = waiting.popleft()
            yield block, keep, batches.take(k)
    batches.finish()
    for block, keep, k in waiting:
        yield block, keep, batches.take(k)
    if n == 0:
        raise DataError(f"{f.path}: no data rows" + (", only a header" if f.has_header else ""))
    if notes is not None:
        notes.extend(cols.notes)
        if dropped:
            why = "the model's data.missing: drop"
            notes.append(f"{f.path}: {dropped} row(s) with missing values dropped ({why})")
        if filled:
            notes.append(f"{f.path}: {filled} missing value(s) filled with the train split's {policy}")


class _Batches:
    """Rows in, their probabilities out in the same order, the model run on BATCH_ROWS rows at a time
    counted from the first row: a row's scores are BLAS sums whose rounding can depend on the
    batch's size, so fixed batches keep the probabilities independent of how the file was chunked."""

    def __init__(self, model, f, cols):
        self.model, self.f, self.cols = model, f, cols
        self.X, self.lines, self.waiting = [], [], 0  # rows not yet run
        self.out, self.ready = [], 0  # probabilities not yet taken

    def add(self, X, lines):
        self.X.append(X)
        self.lines.append(lines)
        self.waiting += len(X)
        if self.waiting >= BATCH_ROWS:
            self._run(self.waiting - self.waiting % BATCH_ROWS)

    def finish(self):
        if self.waiting:
            self._run(self.waiting)

    def _run(self, end):
        from threadpoolctl import threadpool_limits  # scikit-learn's dependency; slow to import

        X, lines = np.concatenate(self.X), np.concatenate(self.lines)
        # one BLAS thread: the parser's threads keep the cores busy, and a second BLAS thread on these
        # small products only waits for them; each score is one thread's sum either way
        with threadpool_limits(1, user_api="blas"):
            for s in range(0, end, BATCH_ROWS):
                self.out.append(
                    _proba(self.model, X[s : s + BATCH_ROWS], lines[s : s + BATCH_ROWS], self.f, self.cols)
                )
        self.X, self.lines, self.waiting = [X[end:]], [lines[end:]], len(X) - end
        self.ready += end

    def take(self, k):
        """The next k probabilities (k <= ready)."""
        if k == 0:
            return np.empty((0, self.model.n_classes), self.model.params["W1"].dtype)
        P = np.concatenate(self.out)
        self.out, self.ready = [P[k:]], self.ready - k
        return P[:k]


def _proba(model, X, lines, f, cols):
    """model.predict_proba(X); a value it cannot take is a DataError naming its line and column."""
    try:
        return model.predict_proba(X)
    except InputError as e:
        j = cols.features[e.column]
        raise DataError(f"{f.path}:{lines[e.row]}: {f.where(j)}: {e.value!r} {e.why}") from None


def model_splits(model):
    """The data.prepare.Splits a saved model was trained on, in raw feature units and the model's
    feature order, recreated from its config (the same seed draws the same rows, as runs.run.start
    drew them); the data's columns are matched to the model's features by name.

    The data must still be what the model was trained on: the train split must give the model's
    imputer and scaler again, else a one-line DataError (a CSV edited since would not).
    """
    cfg = config_from_dict(model.config)
    s = raw_splits(cfg.data, np.random.default_rng(cfg.seed))
    source = data_source(cfg.data)
    order = locate(model.feature_names, s.feature_names, source)
    if order != list(range(len(s.feature_names))):
        s = replace(
            s,
            train=_columns(s.train, order),
            val=_columns(s.val, order),
            test=_columns(s.test, order),
            feature_names=list(model.feature_names),
        )
    stats, mean, scale = fit_preprocessing(cfg.data, s.train[0], s.feature_names)
    fitted = (stats, mean, scale)
    if not all(map(_same, fitted, (model.imputer_statistics, model.scaler_mean, model.scaler_scale))):
        raise DataError(
            f"{source}: the data changed since this model was trained "
            "(its train split no longer gives the model's scaler)"
        )
    return s


def _columns(part, order):
    """The split with its columns in `order`, C-contiguous as training had them (the scaler's sums
    round by the memory layout)."""
    return None if part is None else (np.ascontiguousarray(part[0][:, order]), part[1])


def _same(a, b):
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
