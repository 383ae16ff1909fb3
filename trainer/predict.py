"""A saved model on the rows of a CSV: predictions block by block, and the scored blocks that
evaluate.evaluate_csv turns into metrics.

A CSV is read block by block with the model's columns (data.columns.match), its inputs' kinds
and its missing-value markers; each block becomes a Table that the model's preprocessing
transforms, so a file meets exactly the transform its model was trained with. With a DriftCheck,
the mean of each input feature over the file is held against its training distribution. Nothing
here needs scikit-learn: a model file holds its fitted preprocessing as arrays, applied with numpy.
"""

from collections import deque
from dataclasses import dataclass

import numpy as np

from trainer.data.columns import match
from trainer.data.csvfile import open_csv
from trainer.data.csvparse import Want, blocks, factorized
from trainer.data.preprocess import fill_text
from trainer.data.schema import NUMERIC
from trainer.data.table import Table
from trainer.errors import DataError, InputError
from trainer.storage.modelfile import probabilities

BATCH_ROWS = 4096  # rows per forward pass of evaluate and predict on a CSV (see _Batches)


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
    for part in scored(f, model, cols, notes, size, drift):
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


def scored(f, model, cols, notes=None, size=None, drift=None):
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
