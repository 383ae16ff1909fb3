"""Which columns of a CSV hold text: decided once, from the file's first rows, before it is read.

A column holds text when one of its first SNIFF_ROWS cells is neither missing (empty, a marker), a
number nor true/false (csvparse says what each is). The rest of the file is then read with each
column's kind fixed, so a column is never half numbers and half categories: text met later in a
numeric column, or a number in a text column, is refused where it stands (csvparse, csvfile).

pandas guesses the kinds of the first rows in C; where it cannot read them (a ragged row, a quote
left open), the csv module reads them, and the answer is the same (a test holds them to it).
"""

import io

import numpy as np

from trainer.data.csvchunks import cut
from trainer.data.csvparse import BOOLEANS, NUMBER, Want, read_chunk, rows
from trainer.errors import DataError

SNIFF_ROWS = 1000  # rows that decide a column's kind,
SNIFF_BYTES = 1 << 20  # fewer when they hold more bytes than this (a wide file),
SNIFF_MIN_ROWS = 50  # but never fewer than this


def text_columns(f, columns, markers):
    """The columns (file indices among `columns`) that hold text in the file's first rows."""
    if not columns:
        return set()
    n = sniff_rows(f)
    first = next(cut(f.path, f.data_offset, max(SNIFF_BYTES, 2 * n * f.row_bytes)), None)
    if first is None:
        return set()
    want = Want((), tuple(columns), markers=frozenset(markers))
    try:
        values = _by_pandas(f, first[1], want, n)
    except ValueError:  # pandas' ParserError, a UnicodeDecodeError: the csv module's reading decides
        values = _by_csv_module(f, first[1], want, n)
    return {j for j, v in values.items() if v is not None and holds_text(v, want)}


def sniff_rows(f):
    """The number of rows that decide the kinds of f's columns."""
    return max(SNIFF_MIN_ROWS, min(SNIFF_ROWS, SNIFF_BYTES // max(f.row_bytes, 1)))


def _by_pandas(f, data, want, n):
    """{column: its distinct cells in the first n rows, or None when pandas read them as numbers}."""
    import pandas as pd

    df = read_chunk(data, f.delimiter, want.texts, want, pd, infer=True, nrows=n)
    numeric = {j for j, kind in zip(df.columns, df.dtypes, strict=True) if kind.kind in "biuf"}
    out = dict.fromkeys(want.texts)  # None: read as numbers
    for j in set(df.columns) - numeric:
        out[j] = df[j].astype(object).dropna().unique()
    for j in set(want.texts) - set(df.columns):  # columns past every row's end
        out[j] = ()
    return out


def _by_csv_module(f, data, want, n):
    """{column: its distinct cells in the first n rows} read by the csv module (as pandas reads a
    ragged row: the cells it has)."""
    cells = {j: set() for j in want.texts}
    try:
        text = io.StringIO(data.decode("utf-8"))
        read = 0
        for _, _, fields in rows(f, text, f.data_line):
            if read == n:
                break
            if not any(fields):
                continue
            read += 1
            for j in want.texts:
                if j < len(fields):
                    cells[j].add(fields[j])
    except (UnicodeDecodeError, DataError):  # the reader names the line where it reads the file
        pass
    return {j: np.array(sorted(v), dtype=object) for j, v in cells.items()}


def holds_text(values, want):
    """Whether any of a column's cells is neither missing, a number nor true/false."""
    for v in values:
        if isinstance(v, (bool, np.bool_)):
            continue
        s = str(v).strip()
        if want.is_missing(s) or NUMBER.fullmatch(s) or s.lower() in BOOLEANS:
            continue
        return True
    return False
