"""The rows of a CSV as blocks of numbers and text: pandas' C parser where the chunk is plain, the
csv module where it is not.

`blocks` reads a file chunk by chunk (csvchunks), scanning and parsing chunks on WORKERS threads
while the caller takes the finished ones in file order: numpy's scan runs without the GIL, so it
overlaps the parsing (a public pandas.read_csv call holds the GIL for much of its own work).

A chunk whose scan found only rows of the right width goes to pandas; its result is kept only when
every guard holds: as many rows as the scan found, finite numbers (or missing ones where allowed),
no empty label, no row empty in every column read, no column that pandas read as True/False.
Otherwise `exact_blocks` reads the chunk with the csv module and float(), row by row: it raises the
file's first problem as one line with its line and column, or returns what the fast path would
have. Both convert numbers with a correctly rounded parser, so a value reads as the same float
either way.
"""

import csv as csv_module
import io
import math
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from trainer.data.csvchunks import cut, scan
from trainer.errors import DataError

CHUNK_BYTES = 4 << 20  # per pandas call: big enough that its overhead is small, small enough for cache
WORKERS = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
EXACT_ROWS = 65536  # rows per block of the exact reader
NAN_TEXTS = ["", "nan", "NaN", "NAN", "-nan", "+nan"]  # missing values pandas reads as NaN (float() agrees)
BOOL_TEXTS = ["True", "TRUE", "true", "False", "FALSE", "false"]  # pandas reads these as 1.0 and 0.0


@dataclass(frozen=True)
class Want:
    """Which columns to read, and how."""

    floats: tuple  # file columns read as float64, in this order
    texts: tuple = ()  # file columns read as stripped text
    required: frozenset = frozenset()  # text columns that must not be empty (the label)
    missing: bool = False  # an empty or NaN number is missing (NaN), not an error


@dataclass
class Block:
    X: np.ndarray  # (k, len(floats)) float64; NaN marks a missing value
    texts: list  # one (k,) object array of str per text column
    lines: np.ndarray  # (k,) int64 line number of each row
    nbytes: int = 0  # bytes of the file the block covers (0: not known)


def blocks(f, want, size=None):
    """Every row of the CsvFile f after its header, as Blocks in file order."""
    raw = cut(f.path, f.data_offset, size or CHUNK_BYTES)
    line = f.data_line
    with ThreadPoolExecutor(WORKERS) as pool:
        ahead = deque(pool.submit(_scanned, f, want, *r) for r in _take(raw, WORKERS + 1))
        while ahead:
            chunk, block = ahead.popleft().result()
            ahead.extend(pool.submit(_scanned, f, want, *r) for r in _take(raw, 1))
            if chunk.malformed:
                for later in ahead:
                    later.cancel()
                yield from _exact_rest(f, chunk.offset, line, want)
                return
            if block is None:
                block = _joined(exact_blocks(f, io.StringIO(_text(f, chunk, line)), line, want))
            else:
                block.lines += line
            block.nbytes = len(chunk.data)
            line += chunk.newlines
            yield block


def _take(iterator, n):
    return [r for _, r in zip(range(n), iterator, strict=False)]


def _scanned(f, want, offset, data):
    """(Chunk, its Block from pandas or None): the work of one chunk that may run on a thread."""
    chunk = scan(offset, data, f.delimiter, f.width, len({*want.floats, *want.texts}) == f.width)
    return chunk, (_fast(f, chunk, want) if chunk.lines is not None else None)


def _fast(f, chunk, want):
    """The chunk's Block read by pandas, or None when a guard fails (see the module docstring)."""
    import pandas as pd

    k = len(chunk.lines)
    if k == 0:
        return Block(np.empty((0, len(want.floats))), [np.empty(0, object) for _ in want.texts], chunk.lines)
    if not chunk.data.isascii() and not _utf8(chunk.data):
        return None
    try:
        df = _read(chunk.data, f.delimiter, want.floats, want.texts, pd, chunk.by_count)
    except ValueError:  # pandas' ParserError and UnicodeDecodeError are ValueErrors
        return None
    if len(df) != k or (chunk.by_count and df.shape[1] != f.width):
        return None
    X = df[list(want.floats)].to_numpy(np.float64)
    finite = np.isfinite(X).all()
    missing = np.zeros(X.shape, bool) if finite else np.isnan(X)
    if not finite and (not want.missing or np.isinf(X).any()):
        return None
    if any(df[j].isna().any() for j in want.texts):
        return None
    texts = [_stripped(df[j]) for j in want.texts]
    if any((t == "").any() for j, t in zip(want.texts, texts, strict=True) if j in want.required):
        return None
    if want.missing and missing.any() and _empty_rows(missing, texts).any():
        return None
    if _read_as_bool(chunk.data, f.delimiter, want.floats, X, missing, pd):
        return None
    return Block(X, texts, chunk.lines)


def _read(data, delimiter, floats, texts, pd, every_column=False, as_text=False):
    """pandas.read_csv of one chunk: the columns asked for, no type guessing, only NAN_TEXTS missing.

    every_column: the columns asked for are all the file's; then pandas reads them without usecols,
    which is what makes it refuse a row longer than the first (a usecols list turns that off)."""
    # object, not str or category: the text as written, in Python strings (a categorical's values are
    # converted when they look like numbers: -0 would read as 0)
    dtype = {j: object for j in texts} | {j: object if as_text else "float64" for j in floats}
    return pd.read_csv(
        io.BytesIO(data),
        sep=delimiter,
        header=None,
        usecols=None if every_column else sorted({*floats, *texts}),
        dtype=dtype,
        keep_default_na=False,
        na_values={} if as_text else {j: NAN_TEXTS for j in floats},
        skip_blank_lines=True,
        quotechar='"',
        doublequote=True,
        encoding="utf-8",
        engine="c",
        **_exact_floats(pd),
    )


def _stripped(column):
    """A column's strings stripped (str.strip, as the exact reader strips them), as an object array:
    each distinct string stripped once."""
    codes, uniques = factorized(column.to_numpy(object))
    return np.array([u.strip() for u in uniques], dtype=object)[codes] if len(codes) else codes.astype(object)


def factorized(values):
    """(codes, distinct values in order of first appearance) of an object array of strings."""
    import pandas as pd

    codes, uniques = pd.factorize(values)
    return codes, list(uniques)


def _exact_floats(pd):
    """pandas >= 3.1 parses floats correctly rounded (fast_float); before, only 'round_trip' does."""
    major, minor = (int(p) for p in pd.__version__.split(".")[:2])
    return {} if (major, minor) >= (3, 1) else {"float_precision": "round_trip"}


def _utf8(data):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _empty_rows(missing, texts):
    """Rows with nothing in any column read: the exact reader decides whether the whole line is blank."""
    empty = missing.all(axis=1)
    for t in texts:
        empty &= t == ""
    return empty


def _read_as_bool(data, delimiter, floats, X, missing, pd):
    """Whether pandas read a column of True/False as 1.0/0.0 (it does when a chunk holds nothing else)."""
    binary = ((X == 0) | (X == 1) | missing).all(axis=0)
    if not binary.any() or not any(s.encode() in data for s in BOOL_TEXTS):
        return False
    cols = [j for j, b in zip(floats, binary, strict=True) if b]
    raw = _read(data, delimiter, cols, (), pd, as_text=True)  # a usecols list: it only reads text
    return bool(raw.apply(lambda c: c.str.strip().isin(BOOL_TEXTS)).to_numpy().any())


def _text(f, chunk, first_line):
    """The chunk as text; a DataError naming the line of the first byte that is not UTF-8."""
    try:
        return chunk.data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = first_line + chunk.data.count(b"\n", 0, e.start)
        byte = chunk.data[e.start]
        raise DataError(f"{f.path}:{line}: not a UTF-8 text file (byte 0x{byte:02x})") from None


def _exact_rest(f, offset, first_line, want):
    """Blocks of the file from byte `offset` (line `first_line`) on, read by the csv module alone."""
    with open(f.path, "rb") as raw:
        raw.seek(offset)
        stream = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
        try:
            yield from exact_blocks(f, stream, first_line, want)
        except UnicodeDecodeError:
            raise DataError(f"{f.path}: not a UTF-8 text file") from None


def _joined(parts):
    """One Block of several (the exact reader's blocks of one chunk)."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    texts = [np.concatenate([p.texts[i] for p in parts]) for i in range(len(parts[0].texts))]
    return Block(np.concatenate([p.X for p in parts]), texts, np.concatenate([p.lines for p in parts]))


def exact_blocks(f, stream, first_line, want):
    """Blocks of the rows of a text stream that starts at line `first_line`, read by the csv module.

    Rows whose fields are all blank are skipped; every other row must have f.width fields. The
    first problem, in file order, is a DataError naming the line and the column."""
    reader = csv_module.reader(stream, delimiter=f.delimiter)
    rows, texts, lines, end = [], [], [], 0
    try:
        for fields in reader:
            start, end = first_line + end, reader.line_num  # a quoted field can span lines
            line = first_line - 1 + end
            fields = [s.strip() for s in fields]
            if not any(fields):
                continue
            if len(fields) != f.width:
                spans = f" (the row runs on to line {line}: is a quote left open?)" if line > start else ""
                raise DataError(
                    f"{f.path}:{start}: expected {f.width} fields (as on line {f.width_line}), "
                    f"got {len(fields)}{spans}"
                )
            for j in want.required:
                if not fields[j]:  # the line's first problem: a bad number left of the label, or this
                    for k in sorted(k for k in want.floats if k < j):
                        _number(fields[k], f, line, k, want.missing)
                    raise DataError(f"{f.path}:{line}: {f.where(j)}: empty label")
            rows.append([_number(fields[j], f, line, j, want.missing) for j in want.floats])
            texts.append([fields[j] for j in want.texts])
            lines.append(line)
            if len(lines) == EXACT_ROWS:
                yield _block(rows, texts, lines, want)
                rows, texts, lines = [], [], []
    except csv_module.Error as e:
        raise DataError(f"{f.path}:{first_line - 1 + reader.line_num}: unreadable CSV: {e}") from None
    yield _block(rows, texts, lines, want)


def _block(rows, texts, lines, want):
    X = np.array(rows, dtype=np.float64).reshape(len(rows), len(want.floats))
    columns = [np.array([t[i] for t in texts], dtype=object) for i in range(len(want.texts))]
    return Block(X, columns, np.array(lines, dtype=np.int64))


def _header_hint(f, line):
    """For text in the first row of a file read without a header: why it was read as data."""
    if f.has_header or line != f.width_line:
        return ""
    return (
        f" (line {line} is read as data, not as a header, because some of its cells are numbers; "
        "a header names every column with text)"
    )


def _number(text, f, line, j, missing):
    """One numeric field as float (correctly rounded); empty or NaN is missing when allowed."""
    if not text:
        if missing:
            return math.nan
        raise DataError(
            f"{f.path}:{line}: {f.where(j)}: not a number: '' (an empty cell: a model trained "
            "with data.missing drop, mean or median accepts missing values)"
        )
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{f.path}:{line}: {f.where(j)}: not a number: {text!r}{_header_hint(f, line)}"
        ) from None
    if math.isnan(value) and missing:
        return value
    if not math.isfinite(value):
        raise DataError(f"{f.path}:{line}: {f.where(j)}: {text!r} is not finite (NaN or infinity)")
    return value
