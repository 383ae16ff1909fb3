"""The rows of a CSV as blocks of numbers and text: pandas' C parser where the chunk is plain, the
csv module where it is not.

What a cell is (the exact reader says it; the fast path is kept only where it agrees): its text
stripped of surrounding whitespace; empty, or one of the missing-value markers (data.na_values; a
marker that is a number also matches that number written another way, as in pandas), it is missing.
In a numeric column a cell is a number (correctly rounded, as float() reads it), `true` or `false` in
any case (1 and 0, as pandas writes booleans), or missing; anything else is an error naming its line
and column. In a text column (a categorical input, the label, an id) it is the stripped text.

`blocks` reads a file chunk by chunk (csvchunks), scanning and parsing chunks on WORKERS threads
while the caller takes the finished ones in file order: numpy's scan runs without the GIL, so it
overlaps the parsing (a public pandas.read_csv call holds the GIL for much of its own work).

A chunk whose scan found only rows of the right width goes to pandas; its result is kept only when
every guard holds: as many rows as the scan found, finite numbers (missing ones only where allowed),
no missing label or category where that is an error, no row empty in every column read, the
columns that must stay empty empty. Otherwise `exact_blocks` reads the chunk with the csv module,
row by row: it raises the file's first problem as one line with its line and column, or returns
what the fast path would have.
"""

import csv as csv_module
import io
import math
import os
import re
import warnings
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from trainer.data.csvchunks import cut, scan
from trainer.errors import DataError

CHUNK_BYTES = 4 << 20  # per pandas call: big enough that its overhead is small, small enough for cache
CHUNK_ROWS = 2048  # at least this many rows per chunk, so a wide file's per-column costs are paid rarely
WORKERS = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
EXACT_ROWS = 65536  # rows per block of the exact reader
WIDE = 512  # columns read beyond which pandas is given one dtype and converters (see _types)
# pandas' default missing-value markers, "NAN", and "?" as UCI files write it; the empty cell is always one
NA_VALUES = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
    "N/A", "NA", "NAN", "NULL", "NaN", "None", "n/a", "nan", "null", "?",
)  # fmt: skip
NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?inf(?:inity)?", re.I)
BOOLEANS = {"true": 1.0, "false": 0.0}
COMMA_NUMBER = re.compile(r"[+-]?[0-9]*(?:,[0-9]+)+(?:\.[0-9]*)?")  # 1,5 or 45,646: which, the file says


@dataclass(frozen=True)
class Want:
    """Which columns to read, and how."""

    floats: tuple  # file columns read as numbers, in this order
    texts: tuple = ()  # file columns read as stripped text, in this order
    marked: frozenset = frozenset()  # text columns in which an empty cell or a marker is missing (None)
    required: frozenset = frozenset()  # marked columns in which a missing value is always an error
    missing: bool = False  # a missing number (NaN) or missing marked text (None) is allowed
    markers: frozenset = frozenset(NA_VALUES)  # texts that mark a missing value, besides an empty cell
    empty: tuple = ()  # columns that must be empty on every line (after a trailing delimiter)
    training: bool = False  # errors say how a training config reads the column otherwise
    marker_values: frozenset = field(init=False, default=frozenset())  # the markers that are numbers

    def __post_init__(self):
        numbers = frozenset(float(m) for m in self.markers if NUMBER.fullmatch(m.strip()))
        object.__setattr__(self, "marker_values", numbers)

    def is_missing(self, s):
        """Whether a stripped cell is a missing value: empty, a marker, or a marker's number."""
        return not s or s in self.markers or (bool(self.marker_values) and _number_in(s, self.marker_values))


def _number_in(s, values):
    return NUMBER.fullmatch(s) is not None and float(s) in values


@dataclass
class Block:
    X: np.ndarray  # (k, len(floats)) float64; NaN marks a missing value
    texts: list  # one (k,) object array of str per text column; None marks a missing marked value
    lines: np.ndarray  # (k,) int64 line number of each row
    nbytes: int = 0  # bytes of the file the block covers (0: not known)


def chunk_bytes(f):
    """Bytes per chunk of the file: CHUNK_BYTES, or CHUNK_ROWS of its rows when they are wide."""
    return max(CHUNK_BYTES, CHUNK_ROWS * f.row_bytes)


def first_chunk(f, want):
    """(Chunk, Block) of the file's first chunk when the fast path reads it as `want` asks, else None."""
    data = next(cut(f.path, f.data_offset, chunk_bytes(f)), None)
    if data is None:
        return None
    chunk, block = _scanned(f, want, *data)
    return None if block is None else (chunk, block)


def blocks(f, want, size=None, first=None):
    """Every row of the CsvFile f after its header, as Blocks in file order. first: the first
    chunk's (Chunk, Block) as first_chunk read it for `want` (at the default size)."""
    raw = cut(f.path, f.data_offset, size or chunk_bytes(f))
    line = f.data_line
    with ThreadPoolExecutor(WORKERS) as pool:
        ahead = deque()
        if first is not None:
            next(raw)  # already read
            done = Future()
            done.set_result(first)
            ahead.append(done)
        ahead.extend(pool.submit(_scanned, f, want, *r) for r in _take(raw, WORKERS + 1 - len(ahead)))
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
    every = len({*want.floats, *want.texts, *want.empty}) == f.width
    chunk = scan(offset, data, f.delimiter, f.width, every)
    return chunk, (_fast(f, chunk, want) if chunk.lines is not None else None)


def _fast(f, chunk, want):
    """The chunk's Block read by pandas, or None when a guard fails (see the module docstring)."""
    import pandas as pd

    k = len(chunk.lines)
    if k == 0:
        return Block(np.empty((0, len(want.floats))), [np.empty(0, object) for _ in want.texts], chunk.lines)
    if not chunk.data.isascii() and not _utf8(chunk.data):
        return None
    columns = (*want.floats, *want.texts, *want.empty)
    try:
        df = read_chunk(chunk.data, f.delimiter, columns, want, pd, chunk.by_count)
    except ValueError:  # pandas' ParserError and UnicodeDecodeError are ValueErrors
        return None
    if len(df) != k or (chunk.by_count and df.shape[1] != f.width):
        return None
    X = df[list(want.floats)].to_numpy(np.float64)
    missing = np.isnan(X)
    if np.isinf(X).any() or (missing.any() and not want.missing):
        return None
    texts = []
    for j in want.texts:
        t = _stripped(df[j], want if j in want.marked else None)
        if t is None:
            return None
        absent = _absent(t)
        if absent.any() and (j in want.required or not want.missing):
            return None
        texts.append(t)
    for j in want.empty:
        t = _stripped(df[j], None)
        if t is None or (t != "").any():
            return None
    if _empty_rows(missing, texts).any():
        return None
    return Block(X, texts, chunk.lines)


def read_chunk(data, delimiter, columns, want, pd, every_column=False, infer=False, nrows=None):
    """pandas.read_csv of one chunk: the columns asked for, as want says (no type guessing), or
    with pandas' type guessing (infer: the numbers, booleans and text of kinds.text_columns).

    every_column: the columns asked for are all the file's; then pandas reads them without usecols,
    which is what makes it refuse a row longer than the first (a usecols list turns that off)."""
    floats, marked = set(want.floats), set(want.floats) | set(want.marked)
    na = [*want.markers, ""]
    # one list for all columns when every column read takes the markers: pandas prepares a mapping's
    # lists column by column
    every_marked = infer or all(j in marked for j in columns)
    return pd.read_csv(
        io.BytesIO(data),
        header=None,
        usecols=None if every_column else sorted(set(columns)),
        keep_default_na=False,
        na_values=na if every_marked else {j: na for j in columns if j in marked},
        skip_blank_lines=True,
        encoding="utf-8",
        engine="c",
        nrows=nrows,
        **({} if infer else _types(columns, floats)),
        **_separator(delimiter),
        **_exact_floats(pd),
    )


# _types gives the text columns of a wide file a converter beside the one dtype of every column; the
# converter is what applies, which pandas says in a warning, attributed to the caller: this module
warnings.filterwarnings(
    "ignore", "Both a converter and dtype were specified", Warning, r"trainer\.data\.csvparse"
)


def _types(columns, floats):
    """pandas' options that read the columns in `floats` as float64 and the others as text (object,
    not str or category: the text as written, in Python strings; a categorical's values are
    converted when they look like numbers: -0 would read as 0).

    A mapping of numpy dtypes for a few columns; for many, one dtype and a converter per text column
    (a dtype mapping makes pandas build a Series per column read, the most of a wide file's time;
    scripts/bench_csv.py --wide measures it)."""
    if len(columns) <= WIDE:
        number, text = np.dtype(np.float64), np.dtype(object)
        return {"dtype": {j: number if j in floats else text for j in columns}}
    return {"dtype": np.float64, "converters": {j: str for j in columns if j not in floats}}


def _separator(delimiter):
    """pandas' options for the file's delimiter: a character, or runs of whitespace (None)."""
    if delimiter is None:
        return {"sep": r"\s+"}
    return {"sep": delimiter, "quotechar": '"', "doublequote": True}


def _stripped(column, want=None):
    """A column's strings stripped (str.strip, as the exact reader strips them) as an object array,
    each distinct string stripped once; with `want` (a marked column), None where a value is missing.
    None when pandas read a missing value where no marker applies (the exact reader decides)."""
    codes, uniques = factorized(column.to_numpy(object))
    if (codes < 0).any() and want is None:
        return None
    stripped = [u.strip() if isinstance(u, str) else u for u in uniques]
    if want is not None:
        stripped = [None if not isinstance(s, str) or want.is_missing(s) else s for s in stripped]
    values = np.array([*stripped, None], dtype=object)
    return values[codes] if len(codes) else codes.astype(object)


def _absent(texts):
    """(k,) bool: where a text column's value is missing (None)."""
    return np.fromiter((t is None for t in texts), bool, len(texts))


def factorized(values):
    """(codes, distinct values in order of first appearance) of an object array; missing values
    (None, NaN) have the code -1."""
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
        empty &= _absent(t) | (t == "")
    return empty


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


def rows(f, stream, first_line):
    """(first line, last line, stripped fields) of each row of a text stream that starts at line
    `first_line`, as the csv module reads them (or, for whitespace-aligned columns, str.split)."""
    if f.delimiter is None:
        for i, text in enumerate(stream):
            line = first_line + i
            yield line, line, whitespace_fields(text)
        return
    reader = csv_module.reader(stream, delimiter=f.delimiter)
    end = 0
    try:
        for fields in reader:
            start, end = first_line + end, reader.line_num  # a quoted field can span lines
            yield start, first_line - 1 + end, [s.strip() for s in fields]
    except csv_module.Error as e:
        raise DataError(f"{f.path}:{first_line - 1 + reader.line_num}: unreadable CSV: {e}") from None


def whitespace_fields(text):
    """The fields of a line of whitespace-aligned columns; a quoted field may hold spaces."""
    text = text.strip()
    if '"' not in text:
        return text.split()
    fields = next(csv_module.reader([text.replace("\t", " ")], delimiter=" ", skipinitialspace=True), [])
    return [s.strip() for s in fields]


def exact_blocks(f, stream, first_line, want):
    """Blocks of the rows of a text stream that starts at line `first_line`, read by the csv module.

    Rows whose fields are all blank are skipped; every other row must have f.width fields. The
    first problem, in file order and left to right along its line, is a DataError naming the line
    and the column."""
    read = (
        {j: _number for j in want.floats} | {j: _cell for j in want.texts} | {j: _blank for j in want.empty}
    )
    order = sorted(read)
    floats, texts, lines = [], [], []
    for start, line, fields in rows(f, stream, first_line):
        if not any(fields):
            continue
        if len(fields) != f.width:
            spans = f" (the row runs on to line {line}: is a quote left open?)" if line > start else ""
            raise DataError(
                f"{f.path}:{start}: expected {f.width} fields (as on line {f.width_line}), "
                f"got {len(fields)}{spans}{_skip_hint(f, start)}"
            )
        cells = {j: read[j](fields[j], f, line, j, want) for j in order}
        floats.append([cells[j] for j in want.floats])
        texts.append([cells[j] for j in want.texts])
        lines.append(line)
        if len(lines) == EXACT_ROWS:
            yield _block(floats, texts, lines, want)
            floats, texts, lines = [], [], []
    yield _block(floats, texts, lines, want)


def _block(floats, texts, lines, want):
    X = np.array(floats, dtype=np.float64).reshape(len(floats), len(want.floats))
    columns = [np.array([t[i] for t in texts], dtype=object) for i in range(len(want.texts))]
    return Block(X, columns, np.array(lines, dtype=np.int64))


def _skip_hint(f, line):
    """For the row after a first line that holds text and sets another width: data.skip_rows."""
    if line != f.width_line + 1 or not f.first_has_text:
        return ""
    n = f.width_line
    return (
        f"; line {n} holds text: if it is not part of the table (a title, counts), skip it with "
        f"data.skip_rows: {n} (evaluate and predict: --skip-rows {n})"
    )


def _blank(text, f, line, j, want):
    """A cell of a column that must stay empty (after a trailing delimiter)."""
    if text:
        raise DataError(
            f"{f.path}:{line}: {f.where(j)}: holds {text!r}, but the column has no name and is empty on "
            "the first lines (a trailing delimiter); give it a name in the header"
        )
    return text


def _header_hint(f, line, training):
    """For text in the first row of a file read without a header: why it was read as data."""
    if f.has_header or line != f.width_line:
        return ""
    skip = f"data.skip_rows: {line}" if training else f"--skip-rows {line}"
    return (
        f" (line {line} is read as data, not as a header, because some of its cells are numbers; "
        f"a header names every column with text; if line {line} is not part of the table, skip it "
        f"with {skip})"
    )


def _cell(text, f, line, j, want):
    """A text column's cell: its text, or None when missing in a marked column (an error where it
    must not be missing)."""
    if j not in want.marked or not want.is_missing(text):
        return text
    if j in want.required:
        what = "empty label" if not text else f"missing label {text!r} (a missing-value marker)"
        raise DataError(
            f"{f.path}:{line}: {f.where(j)}: {what}; a row needs its label "
            "(data.missing: drop leaves such rows out)"
        )
    if not want.missing:
        raise DataError(f"{f.path}:{line}: {f.where(j)}: {_missing_text(text, want)}")
    return None


def _missing_text(text, want):
    what = "an empty cell" if not text else f"{text!r}, a missing-value marker"
    who = (
        "data.missing drop, mean or median accepts"
        if want.training
        else ("a model trained with data.missing drop, mean or median accepts")
    )
    return f"missing value ({what}; {who} missing values)"


def _number(text, f, line, j, want):
    """One numeric field as float (correctly rounded); missing (NaN) where allowed."""
    if want.is_missing(text):
        if want.missing:
            return math.nan
        raise DataError(f"{f.path}:{line}: {f.where(j)}: {_missing_text(text, want)}")
    if NUMBER.fullmatch(text):
        value = float(text)
        if not math.isfinite(value):
            raise DataError(f"{f.path}:{line}: {f.where(j)}: {text!r} is not finite (infinity)")
        return value
    if text.lower() in BOOLEANS:
        return BOOLEANS[text.lower()]
    hint = _text_hint(f, line, text, want.training)
    raise DataError(f"{f.path}:{line}: {f.where(j)}: not a number: {text!r}{hint}")


def _text_hint(f, line, text, training):
    """Why text may be in a numeric column, and how to read it."""
    header = _header_hint(f, line, training)
    if header:
        return header
    if COMMA_NUMBER.fullmatch(text):
        return (
            " (a decimal comma or a thousands separator: numbers are read with a decimal point and no "
            "separators; convert the file)"
        )
    if not training:
        return " (the model takes a number in this column)"
    return (
        " (a column of numbers up to here: name it in data.categorical to read all of it as "
        f"categories, or add {text!r} to data.na_values if it marks a missing value)"
    )
