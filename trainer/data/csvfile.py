"""CSV files: numeric feature columns, one label column of any type and an optional column of row
weights, with one-line errors.

Every problem is a DataError naming the file and, where there is one, the line and column.
"""

import csv
import io
import math
import re

import numpy as np

from trainer.errors import ConfigError, DataError, did_you_mean

INT = re.compile(r"[+-]?[0-9]+")  # int() alone would also take '1_000' and non-ASCII digits
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|"}
SNIFF_DELIMITERS = ",;\t|"  # never sniff '.' or a letter out of numeric rows
SNIFF_LINES = 50


def read_csv(path, target=None, delimiter=None, header=None, weight=None):
    """Read a CSV of numeric features, (when `target` is given) one label column and (when `weight`
    is given) one column of row weights.

    target, weight: header name, or index (negative counts from the end); None: no such column.
    delimiter: one character or tab/comma/semicolon/space/pipe; None sniffs it.
    header: whether the first row names the columns; None detects it (no field is a number).
    Returns (X float64 (n, d), labels list[str] or None, feature_names, weights float64 (n,) or None).
    Weights must be numbers >= 0, not all 0. Every problem is a DataError of one line naming the
    file and, where there is one, the line and column.
    """
    rows = _read_rows(path, _delimiter(delimiter, path))
    has_header = _no_numbers(rows[0][1]) if header is None else header
    width = len(rows[0][1])
    names = _column_names(rows[0] if has_header else None, width, path)
    body = rows[1:] if has_header else rows
    if not body:
        raise DataError(f"{path}: no data rows, only a header")
    for line, fields in body:
        if len(fields) != width:
            raise DataError(
                f"{path}:{line}: expected {width} fields (as on line {rows[0][0]}), got {len(fields)}"
            )
    t = _column_index(target, names, has_header, path, "target")
    w = _column_index(weight, names, has_header, path, "weight")
    if w is not None and w == t:
        raise ConfigError(f"data.weight: the weight column '{names[w]}' is the target column; name another")
    cols = [j for j in range(width) if j not in (t, w)]
    if not cols:
        others = [
            f"the {role} column '{names[j]}'" for role, j in (("target", t), ("weight", w)) if j is not None
        ]
        raise DataError(f"{path}: no feature columns besides {' and '.join(others)}")
    where = (lambda j: f"column '{names[j]}'") if has_header else (lambda j: f"column {j} (counting from 0)")
    X = _features(body, cols, where, path)
    labels = None if t is None else _labels(body, t, where, path)
    weights = None if w is None else _weights(body, w, where, path)
    return X, labels, [names[j] for j in cols], weights


def _delimiter(delimiter, path):
    """The delimiter character for a config value (None stays None: sniff)."""
    d = DELIMITER_NAMES.get(delimiter, delimiter)
    if d is not None and len(d) != 1:
        raise ConfigError(
            f"data.delimiter: expected one character or one of {', '.join(DELIMITER_NAMES)}, "
            f"got {delimiter!r}"
        )
    return d


def _read_rows(path, delimiter):
    """[(line number, stripped fields)] of the non-blank rows; the delimiter is sniffed when None."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror}") from None
    if not text.strip():
        raise DataError(f"{path}: file is empty")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter or _sniff(text))
    try:
        rows = [(reader.line_num, [f.strip() for f in row]) for row in reader if any(f.strip() for f in row)]
    except csv.Error as e:
        raise DataError(f"{path}:{reader.line_num}: unreadable CSV: {e}") from None
    return rows


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


def _column_names(header_row, width, path):
    """Header names (blank ones become x<j>), or x0, x1, ... without a header; duplicates refused."""
    if header_row is None:
        return [f"x{j}" for j in range(width)]
    line, fields = header_row
    names = [f or f"x{j}" for j, f in enumerate(fields)]
    for j, name in enumerate(names):
        if name in names[:j]:
            raise DataError(f"{path}:{line}: duplicate column name '{name}'")
    return names


def _column_index(column, names, has_header, path, role):
    """Index of the `role` (target, weight) column named by header name or index; None for None."""
    width = len(names)
    if column is None:
        return None
    if isinstance(column, int) and not isinstance(column, bool):
        if not -width <= column < width:
            raise DataError(
                f"{path}: {role} column {column} is out of range: the file has {width} columns "
                f"(0..{width - 1}, or -{width}..-1 from the end)"
            )
        return column % width
    if not has_header:
        raise DataError(
            f"{path}: no header row, so the {role} '{column}' must be a column index "
            f"(0..{width - 1}, or -1 for the last)"
        )
    if column not in names:
        raise DataError(
            f"{path}: no {role} column '{column}'; columns: {', '.join(names)}{did_you_mean(column, names)}"
        )
    return names.index(column)


def _features(body, cols, where, path):
    """(n, d) float64 of the feature columns; the first bad value (row-major) is the error."""
    X = np.empty((len(body), len(cols)))
    for i, (line, fields) in enumerate(body):
        for k, j in enumerate(cols):
            try:
                X[i, k] = float(fields[j])
            except ValueError:
                raise DataError(f"{path}:{line}: {where(j)}: not a number: {fields[j]!r}") from None
            if not math.isfinite(X[i, k]):
                raise DataError(f"{path}:{line}: {where(j)}: {fields[j]!r} is not finite (NaN or infinity)")
    return X


def _weights(body, j, where, path):
    """(n,) float64 of the weight column: numbers >= 0, not all 0; the first bad value is the error."""
    w = np.empty(len(body))
    for i, (line, fields) in enumerate(body):
        text = fields[j]
        try:
            w[i] = float(text)
        except ValueError:
            raise DataError(f"{path}:{line}: {where(j)}: weight is not a number: {text!r}") from None
        if not math.isfinite(w[i]) or w[i] < 0:
            raise DataError(f"{path}:{line}: {where(j)}: weight {text!r} is not a number >= 0")
    if not w.any():
        raise DataError(f"{path}: {where(j)}: every weight is 0; at least one row must weigh more")
    return w


def _labels(body, t, where, path):
    """The label column as strings; an empty label is an error, not a class."""
    for line, fields in body:
        if not fields[t]:
            raise DataError(f"{path}:{line}: {where(t)}: empty label")
    return [fields[t] for _, fields in body]


def encode_labels(labels):
    """(y int64, classes): classes are the sorted unique labels, as ints when every label parses as one."""
    text = [str(v) for v in labels]
    values = [int(t) for t in text] if all(INT.fullmatch(t) for t in text) else text
    classes = sorted(set(values))
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v] for v in values], dtype=np.int64), classes
