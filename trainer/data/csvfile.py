"""CSV files: numeric feature columns, one label column of any type, an optional column of row
weights, and any other columns.

`open_csv` reads the first lines only: delimiter, header, column names. `read_csv` reads a whole
file through csvparse.blocks (pandas' C parser, checked, with the csv module as the exact pass).
Every problem is a DataError of one line naming the file and, where there is one, the line and
column.
"""

import csv
import io
import os
import re
from dataclasses import dataclass

import numpy as np

from trainer.data.csvparse import Want, blocks, factorized
from trainer.errors import ConfigError, DataError, did_you_mean

INT = re.compile(r"[+-]?[0-9]+")  # int() alone would also take '1_000' and non-ASCII digits
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|"}
SNIFF_DELIMITERS = ",;\t|"  # never sniff '.' or a letter out of numeric rows
SNIFF_LINES = 50
HEAD_BYTES = 1 << 16
BOM = b"\xef\xbb\xbf"


@dataclass
class CsvFile:
    """What a CSV's first lines say about it."""

    path: str
    delimiter: str
    has_header: bool
    names: list  # header names (a blank one is x<j>), or x0, x1, ... without a header
    width_line: int  # the line of the first row, which sets the width: "as on line N"
    data_offset: int  # byte offset of the first line after the header (after a BOM without one)
    data_line: int  # that line's number

    @property
    def width(self):
        return len(self.names)

    def where(self, j):
        """How messages name column j."""
        return f"column '{self.names[j]}'" if self.has_header else f"column {j} (counting from 0)"

    def column(self, key, what):
        """The index of a column given by header name or index (negative counts from the end)."""
        width = self.width
        if isinstance(key, int) and not isinstance(key, bool):
            if not -width <= key < width:
                raise DataError(
                    f"{self.path}: {what} column {key} is out of range: the file has {width} columns "
                    f"(0..{width - 1}, or -{width}..-1 from the end)"
                )
            return key % width
        if not self.has_header:
            raise DataError(
                f"{self.path}: no header row, so the {what} '{key}' must be a column index "
                f"(0..{width - 1}, or -1 for the last)"
            )
        if key not in self.names:
            raise DataError(
                f"{self.path}: no {what} column '{key}'; columns: {', '.join(self.names)}"
                f"{did_you_mean(key, self.names)}"
            )
        return self.names.index(key)


@dataclass
class Table:
    """A CSV read whole: features, label codes, row weights, and where each row is."""

    X: np.ndarray  # (n, d) float64; NaN marks a missing value (only when missing values are allowed)
    codes: np.ndarray | None  # (n,) int64 index into label_names; None without a target
    label_names: list  # the distinct labels (stripped text), in order of first appearance
    feature_names: list
    lines: np.ndarray  # (n,) int64 line number of each row
    file: CsvFile
    target: int | None  # the label column's index
    weight: np.ndarray | None = None  # (n,) float64 row weights (numbers >= 0), None without a column


def open_csv(path, delimiter=None, header=None):
    """The CsvFile of `path`, from its first lines. delimiter: one character or a DELIMITER_NAMES
    name, None sniffs it; header: whether the first row names the columns, None detects it
    (a first row without a number is a header)."""
    delimiter = _delimiter(delimiter)
    head, complete = _head(path)
    bom = len(BOM) if head.startswith(BOM) else 0
    text = _decode(head[bom:], path)
    if complete and not text.strip():
        raise DataError(f"{path}: file is empty")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter or _sniff(text))
    try:
        first = next(([s.strip() for s in row] for row in reader if any(s.strip() for s in row)), None)
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: unreadable CSV: {e}") from None
    if first is None:
        raise DataError(f"{path}: file is empty")
    line = reader.line_num
    has_header = _no_numbers(first) if header is None else header
    names = _column_names(first if has_header else None, len(first), path, line)
    offset, data_line = bom, 1
    if has_header:
        offset, data_line = bom + _line_end(head[bom:], line), line + 1
    return CsvFile(str(path), reader.dialect.delimiter, has_header, names, line, offset, data_line)


def read_csv(path, target=None, delimiter=None, header=None, missing=False, weight=None):
    """A whole CSV as a Table: every column but `target` and `weight` is a feature.

    target, weight: header name or index (negative counts from the end); None: no such column.
    missing: an empty or NaN feature cell is NaN in X (else it is an error naming line and column).
    Weights must be numbers >= 0, not all 0, and are never missing.
    """
    f = open_csv(path, delimiter, header)
    t = None if target is None else f.column(target, "target")
    w = None if weight is None else f.column(weight, "weight")
    if w is not None and w == t:
        raise ConfigError(f"data.weight: the weight column '{f.names[w]}' is the target column; name another")
    features = tuple(j for j in range(f.width) if j not in (t, w))
    if not features:
        roles = (("target", t), ("weight", w))
        others = [f"the {role} column '{f.names[j]}'" for role, j in roles if j is not None]
        raise DataError(f"{path}: no feature columns besides {' and '.join(others)}")
    labels = () if t is None else (t,)
    texts = labels + (() if w is None else (w,))
    parts = blocks(f, Want(features, texts, frozenset(labels), missing))
    X, codes, label_names, lines, weights = _stack(parts, f, t is not None, w)
    if not len(lines):
        raise DataError(f"{path}: no data rows" + (", only a header" if f.has_header else ""))
    if weights is not None and not weights.any():
        raise DataError(f"{path}: {f.where(w)}: every weight is 0; at least one row must weigh more")
    return Table(X, codes, label_names, [f.names[j] for j in features], lines, f, t, weights)


def _stack(parts, f, labelled, w):
    """(X, label codes or None, label names, lines, weights or None) of all Blocks, X in one buffer
    sized from the first block's bytes per row (grown if the guess is short). A Block's texts are
    its label column (when labelled), then the weight column w (when not None)."""
    size = os.path.getsize(f.path)
    X, lines, codes, weights, n, done, index = None, None, [], [], 0, f.data_offset, {}
    for b in parts:
        k = len(b.lines)
        if X is None or n + k > len(X):
            guess = int((size - done) / max(b.nbytes, 1) * k * 1.05) if b.nbytes else 0
            capacity = max(guess, 2 * n + k)
            X, lines = _grown(X, n, capacity, b.X.shape[1]), _grown(lines, n, capacity)
        X[n : n + k], lines[n : n + k] = b.X, b.lines
        if labelled:
            block_codes, uniques = factorized(b.texts[0])
            codes.append(np.array([index.setdefault(u, len(index)) for u in uniques], np.int64)[block_codes])
        if w is not None:
            weights.append(_weights(b.texts[-1], b.lines, f, w))
        n, done = n + k, done + b.nbytes
    if X is None:
        return np.empty((0, 0)), None, [], np.empty(0, np.int64), None
    codes = np.concatenate(codes) if labelled else None
    weights = np.concatenate(weights) if w is not None else None
    return X[:n], codes, list(index), lines[:n], weights


def _weights(texts, lines, f, j):
    """(k,) float64 of one block's weight column (its texts): numbers >= 0, each distinct text
    converted once; the first bad one, in file order, is the error."""
    codes, uniques = factorized(texts)
    values = np.array([float(u) if _is_number(u) else np.nan for u in uniques], np.float64)
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        i = int(np.argmax(bad[codes]))
        text = uniques[codes[i]]
        why = (
            f"weight {text!r} is not a number >= 0"
            if _is_number(text)
            else f"weight is not a number: {text!r}"
        )
        raise DataError(f"{f.path}:{lines[i]}: {f.where(j)}: {why}")
    return values[codes] if len(codes) else np.empty(0)


def _grown(a, n, capacity, width=None):
    """A new buffer of `capacity` rows holding a's first n rows."""
    new = np.empty((capacity, width) if width is not None else capacity, np.float64 if width else np.int64)
    if a is not None:
        new[:n] = a[:n]
    return new


def _delimiter(delimiter):
    """The delimiter character for a config value (None stays None: sniff)."""
    d = DELIMITER_NAMES.get(delimiter, delimiter)
    if d is not None and len(d) != 1:
        raise ConfigError(
            f"data.delimiter: expected one character or one of {', '.join(DELIMITER_NAMES)}, "
            f"got {delimiter!r}"
        )
    return d


def _head(path):
    """(bytes, complete): the file's first SNIFF_LINES lines with text in them, or all of it."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            while head.count(b"\n") < SNIFF_LINES or not head.strip():
                more = f.read(max(len(head), HEAD_BYTES))
                if not more:
                    return head, True
                head += more
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror}") from None
    return head[: head.rfind(b"\n") + 1], False


def _decode(head, path):
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as e:
        line = 1 + head.count(b"\n", 0, e.start)
        raise DataError(f"{path}:{line}: not a UTF-8 text file (byte 0x{head[e.start]:02x})") from None


def _line_end(data, line):
    """Byte offset just past line `line` (1-based) of data; len(data) when it is the last."""
    end = -1
    for _ in range(line):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return len(data)
    return end + 1


def _sniff(text):
    """The delimiter of the first lines by csv.Sniffer; ',' when it cannot tell (one column)."""
    sample = "\n".join(text.splitlines()[:SNIFF_LINES])
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _no_numbers(fields):
    """A header row: names, never numbers (data rows always hold numeric features).

    Not csv.Sniffer.has_header: it re-sniffs the delimiter without our limits and votes by
    string lengths, so its answer changes with the labels' spelling.
    """
    return not any(_is_number(f) for f in fields)


def _column_names(header_row, width, path, line):
    """Header names (blank ones become x<j>), or x0, x1, ... without a header; duplicates refused."""
    if header_row is None:
        return [f"x{j}" for j in range(width)]
    names = [f or f"x{j}" for j, f in enumerate(header_row)]
    for j, name in enumerate(names):
        if name in names[:j]:
            raise DataError(f"{path}:{line}: duplicate column name '{name}'")
    return names


def encode_labels(labels):
    """(y int64, classes): classes are the sorted unique labels, as ints when every label parses as one."""
    text = [str(v) for v in labels]
    values = [int(t) for t in text] if all(INT.fullmatch(t) for t in text) else text
    classes = sorted(set(values))
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v] for v in values], dtype=np.int64), classes


def check_labels(table):
    """Refuse a label column of numbers that are not all integers: a feature named as the target,
    or labels written as floats (1.0, 0.0) that other files would write as 1 and 0."""
    names = table.label_names
    if all(_is_number(s) for s in names) and not all(INT.fullmatch(s) for s in names):
        code = next(i for i, s in enumerate(names) if not INT.fullmatch(s))
        line = int(table.lines[np.argmax(table.codes == code)])
        raise DataError(
            f"{table.file.path}:{line}: {table.file.where(table.target)}: label {names[code]!r} is a number "
            "but not an integer: class labels are integers or names; is it the right column? "
            "(write float labels such as 1.0 as 1)"
        )
