"""CSV files as they come: numeric and text columns, one label column of any type, an optional
column of row weights, missing-value markers, and any other columns.

`open_csv` reads the first lines only: the delimiter (comma, semicolon, tab, pipe, or columns aligned
by runs of whitespace), the header, the column names. `read_csv` reads a whole file through
csvparse.blocks into a Table: a column whose first chunk holds text is categorical, the others are
numbers. Every problem is a DataError of one line naming the file and, where there is one, the line
and column.
"""

import csv
import io
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from trainer.data.csvparse import (
    COMMA_NUMBER,
    NA_VALUES,
    NUMBER,
    Want,
    blocks,
    factorized,
    first_chunk,
    whitespace_fields,
)
from trainer.data.kinds import sniff_rows, text_columns
from trainer.data.schema import CATEGORICAL, NUMERIC, Column, Schema
from trainer.data.table import Table, distinct_integers
from trainer.errors import ConfigError, DataError, DataWarning, did_you_mean

INT = re.compile(r"[+-]?[0-9]+")  # int() alone would also take '1_000' and non-ASCII digits
UNNAMED = re.compile(r"Unnamed: [0-9]+")  # how pandas names a column without a name it read
SIGNED_NUMBER = re.compile(
    r"[+-]?[$€£¥]\s*[+-]?[0-9][0-9,]*(?:\.[0-9]*)?|[+-]?[0-9][0-9,]*(?:\.[0-9]*)?\s*(?:%|[$€£¥])"
)
SEPARATORS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "space": " ", "pipe": "|"}
WHITESPACE = "whitespace"  # data.sep for columns aligned by runs of spaces or tabs
SNIFF_DELIMITERS = ",;\t|"  # never sniff '.' or a letter out of numeric rows
SNIFF_LINES = 50
HEAD_BYTES = 1 << 16
BOM = b"\xef\xbb\xbf"


@dataclass
class CsvFile:
    """What a CSV's first lines say about it."""

    path: str
    delimiter: str | None  # None: columns aligned by runs of whitespace
    has_header: bool
    names: list  # header names (a blank one is x<j>), or x0, x1, ... without a header
    width_line: int  # the line of the first row, which sets the width: "as on line N"
    data_offset: int  # byte offset of the first line after the header (or of the first line read)
    data_line: int  # that line's number
    row_bytes: int = 0  # bytes per line in the first lines
    first_has_text: bool = False  # the first row holds a cell that is not a number
    first_numbers: list = field(default_factory=list)  # the first row's cells that are numbers
    next_width: int = 0  # fields of the row after the first (0: none seen)
    blank: frozenset = frozenset()  # columns whose header name is blank
    trailing: int | None = None  # a last column empty on every first line (a trailing delimiter)
    positions: dict = field(default=None, repr=False)

    @property
    def width(self):
        return len(self.names)

    def layout_hint(self):
        """Why a name may be missing from the header: a title line (another width than the next
        line), or columns aligned by spaces read as one; '' when neither is likely."""
        if self.next_width and self.next_width != self.width and self.has_header:
            n = self.width_line
            return (
                f" (line {n} has {self.width} field(s) and the next line {self.next_width}: if line {n} is "
                f"a title, skip it with data.skip_rows: {n}; evaluate and predict: --skip-rows {n})"
            )
        if self.width == 1 and re.search(r"\S\s{2,}\S|\t", self.names[0]):
            return " (one column read: if the columns are aligned by spaces, set data.sep: whitespace)"
        return ""

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
            why = (
                f" (line {self.width_line} holds numbers: {self.first_numbers[0]!r}; if it names the "
                "columns, set data.header: true)"
                if self.first_numbers
                else ""
            )
            raise DataError(
                f"{self.path}: no header row, so the {what} '{key}' must be a column index "
                f"(0..{width - 1}, or -1 for the last){why}"
            )
        if self.positions is None:
            self.positions = {n: j for j, n in enumerate(self.names)}
        if key not in self.positions:
            raise DataError(
                f"{self.path}: no {what} column '{key}'; columns: {_shown(self.names)}"
                f"{did_you_mean(key, self.names)}{self.layout_hint()}"
            )
        return self.positions[key]


SHOWN = 20  # column names listed in a message before "..."


def _shown(names):
    """Column names for a message: quoted when one holds a comma or a space, the first SHOWN of them."""
    quoted = [repr(n) for n in names] if any("," in n or " " in n for n in names) else names
    return ", ".join(quoted[:SHOWN]) + (f", ... ({len(names)} in all)" if len(names) > SHOWN else "")


def open_csv(path, sep=None, header=None, skip_rows=0, names=()):
    """The CsvFile of `path`, from its first lines. sep: one character, a SEPARATORS name or
    'whitespace', None detects it; header: whether the first row names the columns, None detects
    it: a first row holding every one of `names` (a model's inputs), or without a number (unless it
    looks like data: see _is_header); skip_rows: lines to skip before it."""
    delimiter = _delimiter(sep)
    head, complete = _head(path, skip_rows)
    bom = len(BOM) if head.startswith(BOM) else 0
    skipped = _line_end(head[bom:], skip_rows) if skip_rows else 0
    start = bom + skipped
    text = _decode(head[start:], path, skip_rows)
    if complete and not text.strip():
        raise DataError(
            f"{path}: file is empty" + (f" after the {skip_rows} skipped line(s)" if skip_rows else "")
        )
    if delimiter is False:
        delimiter = _sniff(text)
    first, line = _first_row(text, delimiter, path, skip_rows)
    has_header = _is_header(first, text, delimiter, names, path, line) if header is None else header
    names = _column_names(first if has_header else None, len(first), path, line)
    offset, data_line = start, skip_rows + 1
    if has_header:
        offset, data_line = start + _line_end(head[start:], line - skip_rows), line + 1
    lines = max(text.count("\n"), 1)
    return CsvFile(
        str(path),
        delimiter,
        has_header,
        names,
        line,
        offset,
        data_line,
        row_bytes=len(head[start:]) // lines,
        first_has_text=any(s and not _is_number(s) for s in first),
        first_numbers=[s for s in first if _is_number(s)],
        next_width=_next_width(text, delimiter, line - skip_rows),
        blank=frozenset(j for j, s in enumerate(first) if has_header and (not s or UNNAMED.fullmatch(s))),
        trailing=_trailing(text, delimiter, len(first), first, has_header),
    )


def _is_header(first, text, delimiter, names, path, line):
    """Whether the first row names the columns: it holds all of `names`, or it holds no number. A
    first row of text in a table of text is a header only when none of its cells is also a value
    of its column further down; one that is is refused as ambiguous, in one line."""
    if names and set(names) <= {_unquoted(s) for s in first}:
        return True
    if any(_is_number(s) for s in first):
        return False
    rows = [r for _, r in _rows_of("\n".join(_sample(text)[1:]), delimiter) if any(r)]
    if not rows or any(_is_number(r[j]) for r in rows for j in range(min(len(r), len(first))) if r[j]):
        return True  # text above numbers: names
    for j, name in enumerate(first):
        if name and any(len(r) > j and r[j] == name for r in rows):
            raise DataError(
                f"{path}:{line}: line {line} holds only text, as a header does, but its {name!r} is also a "
                f"value of column {j} (counting from 0) further down, as in data: say which it is with "
                "data.header: true or false"
            )
    return True


def _next_width(text, delimiter, line):
    """The number of fields of the first row after line `line` of text (0: none in the sample)."""
    try:
        for at, fields in _rows_of("\n".join(_sample(text)), delimiter):
            if at > line and any(fields):
                return len(fields)
    except csv.Error:
        pass
    return 0


def _first_row(text, delimiter, path, skip_rows):
    """(stripped fields, line) of the first row with text in it."""
    try:
        for line, fields in _rows_of(text, delimiter):
            if any(fields):
                return fields, skip_rows + line
    except csv.Error as e:
        raise DataError(f"{path}:{skip_rows + e.line}: unreadable CSV: {e}") from None
    raise DataError(f"{path}: file is empty")


def _rows_of(text, delimiter):
    """(line where it ends, stripped fields) of each row of text, one at a time; csv.Error with the
    line where the csv module could not read on."""
    if delimiter is None:
        for i, line in enumerate(text.splitlines()):
            yield i + 1, whitespace_fields(line)
        return
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        for fields in reader:
            yield reader.line_num, [s.strip() for s in fields]
    except csv.Error as e:
        e.line = reader.line_num
        raise


def _trailing(text, delimiter, width, first, has_header):
    """The index of a last column that is empty on every first line (each line ends with the
    delimiter), with a blank header name; else None."""
    if delimiter is None or width < 2 or (has_header and first[-1]):
        return None
    try:
        rows = [r for _, r in _rows_of("\n".join(_sample(text)), delimiter) if any(r)]
    except csv.Error:
        return None  # the reader names the line
    return width - 1 if rows and all(len(r) == width and not r[-1] for r in rows) else None


def read_csv(
    path,
    target=None,
    sep=None,
    header=None,
    missing="error",
    weight=None,
    categorical=(),
    drop=(),
    na_values=NA_VALUES,
    skip_rows=0,
):
    """A whole CSV as a Table: every column but `target`, `weight` and those in `drop` is an input.

    target, weight, and the entries of categorical and drop: header name or index (negative counts
    from the end); None: no such column. A column named in `categorical`, or holding text in the
    file's first chunk, is categorical; the others are numbers. missing: data.missing (error, drop,
    mean or median): whether an input may be missing, and (drop) whether a row without a label is
    left out. Weights must be numbers >= 0, not all 0, and are never missing.
    """
    f = open_csv(path, sep, header, skip_rows)
    t = None if target is None else f.column(target, "target")
    w = None if weight is None else f.column(weight, "weight")
    if w is not None and w == t:
        raise ConfigError(f"data.weight: the weight column '{f.names[w]}' is the target column; name another")
    dropped = _listed(f, drop, "data.drop", t)
    forced = _listed(f, categorical, "data.categorical", t)
    taken = {t, w, f.trailing, *dropped} - {None}
    inputs = [j for j in range(f.width) if j not in taken]
    if not inputs:
        roles = (("target", t), ("weight", w))
        others = [f"the {role} column '{f.names[j]}'" for role, j in roles if j is not None]
        raise DataError(
            f"{path}: no feature columns besides {' and '.join(others) or 'those left out'}{f.layout_hint()}"
        )
    markers = frozenset(na_values)

    def wanted(texts):
        numeric = tuple(j for j in inputs if j not in texts)
        cats = tuple(j for j in inputs if j in texts)
        label = () if t is None else (t,)
        return Want(
            numeric,
            cats + label + (() if w is None else (w,)),
            marked=frozenset(cats + label),
            required=frozenset(label if missing != "drop" else ()),
            missing=missing != "error",
            markers=markers,
            empty=() if f.trailing is None else (f.trailing,),
            training=True,
        )

    # every column numbers, but those data.categorical names: when the first chunk reads so, and holds
    # the rows that decide the kinds (kinds.text_columns), this guess is their answer and its first block
    want = wanted(forced)
    first = first_chunk(f, want)
    if first is not None and not (len(first[0].lines) >= sniff_rows(f) or _ends_file(first[0], f)):
        first = None
    if first is None:
        texts = forced | text_columns(f, [j for j in inputs if j not in forced], markers)
        want = wanted(texts)
    kinds = {j: CATEGORICAL if j in want.texts else NUMERIC for j in inputs}
    numeric, cats = want.floats, tuple(j for j in inputs if kinds[j] == CATEGORICAL)
    parts = _stack(blocks(f, want, first=first), f, len(cats), t is not None, w)
    X, codes, values, label_codes, label_names, lines, weights = parts
    if not len(lines):
        raise DataError(f"{path}: no data rows" + (", only a header" if f.has_header else ""))
    for k, j in enumerate(cats):
        if j not in forced:
            _check_text(f, j, values[k], codes[:, k], lines)
    if weights is not None and not weights.any():
        raise DataError(f"{path}: {f.where(w)}: every weight is 0; at least one row must weigh more")
    columns = [Column(f.names[j], kinds[j]) for j in inputs]
    label_name = None if t is None else f.names[t] if f.has_header else t
    table = Table(Schema(columns, [], label_name, not f.has_header), X, codes, values)
    table.weight, table.lines = weights, lines
    table = _without_index(table, f, numeric)
    if missing == "drop":
        table, label_codes = _complete_rows(table, label_codes)
    if t is not None:
        table = _labelled(table, label_codes, label_names, f, t)
    return table


def _ends_file(chunk, f):
    return chunk.offset + len(chunk.data) >= os.path.getsize(f.path)


def _listed(f, keys, key, target):
    """The file columns a config list (data.drop, data.categorical) names; ConfigError naming an
    entry that is no column, or the target."""
    found = set()
    for name in keys or ():
        if isinstance(name, str) and f.has_header and name not in f.names:
            hint = did_you_mean(name, f.names)
            raise ConfigError(f"{key}: no column '{name}' in {f.path}; columns: {_shown(f.names)}{hint}")
        try:
            j = f.column(name, f"{key} entry")
        except DataError as e:
            raise ConfigError(f"{key}: {e}") from None
        if j == target:
            why = "it cannot be left out" if key == "data.drop" else "its labels are the classes already"
            raise ConfigError(f"{key}: '{f.names[j]}' is the target column; {why}")
        found.add(j)
    return found


def _stack(parts, f, n_cats, labelled, w):
    """(X, category codes, category values, label codes, label names, lines, weights) of all Blocks,
    X in one buffer sized from the first block's bytes per row (grown if the guess is short). A
    Block's texts are its categorical columns, then the label (when labelled), then the weight
    column w (when not None)."""
    size = os.path.getsize(f.path)
    X, lines, codes, n, done = None, None, None, 0, f.data_offset
    index = [{} for _ in range(n_cats + labelled)]  # per text column: its values' codes
    text_codes, weights = [[] for _ in index], []
    for b in parts:
        k = len(b.lines)
        if X is None or n + k > len(X):
            guess = int((size - done) / max(b.nbytes, 1) * k * 1.05) if b.nbytes else 0
            capacity = max(guess, 2 * n + k)
            X, lines = _grown(X, n, capacity, b.X.shape[1]), _grown(lines, n, capacity)
        X[n : n + k], lines[n : n + k] = b.X, b.lines
        for i, seen in enumerate(index):
            block_codes, uniques = factorized(b.texts[i])
            known = np.array([seen.setdefault(u, len(seen)) for u in uniques] + [-1], np.int64)
            text_codes[i].append(known[block_codes])
        if w is not None:
            weights.append(_weights(b.texts[-1], b.lines, f, w))
        n, done = n + k, done + b.nbytes
    if X is None:
        return np.empty((0, 0)), np.empty((0, n_cats), np.int64), [], None, [], np.empty(0, np.int64), None
    columns = [np.concatenate(c) if c else np.empty(0, np.int64) for c in text_codes]
    codes = np.column_stack(columns[:n_cats]) if n_cats else np.empty((n, 0), np.int64)
    values = [list(seen) for seen in index[:n_cats]]
    label_codes = columns[n_cats] if labelled else None
    label_names = list(index[n_cats]) if labelled else []
    weights = np.concatenate(weights) if w is not None else None
    return X[:n], codes, values, label_codes, label_names, lines[:n], weights


def _check_text(f, j, values, codes, lines):
    """A column read as text because its first rows hold text: refused when it also holds numbers,
    or when it holds numbers written with a comma or a sign (unless data.categorical names it)."""
    kinds = [_written(v) for v in values]
    if all(k == "text" for k in kinds):
        return
    counts = np.bincount(codes[codes >= 0], minlength=len(values))
    first = _first_rows(codes, len(values))
    if "text" not in kinds:  # numbers, some written with a comma or a sign
        v = min((i for i, k in enumerate(kinds) if k != "number"), key=lambda i: first[i])
        raise DataError(f"{f.path}:{lines[first[v]]}: {f.where(j)}: {_written_hint(values[v], kinds[v])}")
    numbers = np.array([k == "number" for k in kinds])
    n_numbers = int(counts[numbers].sum())
    n_texts = int(counts.sum()) - n_numbers
    odd = [i for i, is_number in enumerate(numbers) if is_number == (n_numbers < n_texts)]
    v = min(odd, key=lambda i: first[i])
    kind = "a number" if numbers[v] else "text"
    hint = (
        "name it in data.categorical to read all of it as categories, or data.drop to leave it out"
        + (f"; if {values[v]!r} marks a missing value, add it to data.na_values" if not numbers[v] else "")
        + _skip(f, lines[first[v]])
    )
    raise DataError(
        f"{f.path}:{lines[first[v]]}: {f.where(j)}: mixes numbers ({n_numbers} rows) and text ({n_texts} "
        f"rows), {kind} here: {values[v]!r}; {hint}"
    )


def _written(text):
    """How a cell of a text column is written: 'number', 'comma' (digits and commas: 1,5 or 45,646),
    'sign' (a number with a currency or percent sign: $27.99, 57%) or 'text'."""
    if NUMBER.fullmatch(text):
        return "number"
    if COMMA_NUMBER.fullmatch(text):
        return "comma"
    if SIGNED_NUMBER.fullmatch(text):
        return "sign"
    return "text"


def _written_hint(value, kind):
    """Why a column of numbers written with a comma or a sign is refused, and what to do."""
    categories = "or name the column in data.categorical if its values are categories"
    if kind == "comma":
        digits = value.replace(",", "")
        return (
            f"{value!r} is a number written with a comma: a decimal comma ({value.replace(',', '.', 1)}) "
            f"or a thousands separator ({digits})? numbers are read with a decimal point and no "
            "separators: convert the file (pandas.read_csv(..., decimal=',') or thousands=','), "
            f"{categories}"
        )
    return (
        f"{value!r} is a number with a sign: numbers are read bare; strip the signs from the column, "
        f"{categories}"
    )


def _skip(f, line):
    """For text on the first line of a file read without a header: that it may not be data."""
    if f.has_header or line != f.width_line:
        return ""
    return (
        f"; line {line} is read as data because some of its cells are numbers: if it is not part of "
        f"the table, skip it with data.skip_rows: {line}"
    )


def _first_rows(codes, n):
    """The first row holding each of n codes."""
    first = np.full(n, len(codes), np.int64)
    present = codes >= 0
    np.minimum.at(first, codes[present], np.flatnonzero(present))
    return first


def _without_index(table, f, numeric):
    """The table without a numeric column of blank name (or pandas' 'Unnamed: 0') holding a
    different whole number on every row: the index pandas' to_csv and R's write.csv write, in any
    order, with a warning naming it."""
    for k, j in enumerate(numeric):
        if j in f.blank and distinct_integers(table.X[:, k]):
            warnings.warn(
                f"{f.path}: {f.where(j)} has no name and holds a different whole number on every row: "
                "an index (as pandas' to_csv and R's write.csv write one), not a feature; left out",
                DataWarning,
                stacklevel=2,
            )
            i = table.schema.input_of(NUMERIC, k)
            schema = Schema(
                [c for c in table.schema.inputs if c is not table.schema.inputs[i]],
                table.schema.classes,
                table.schema.target,
                table.schema.positional,
            )
            table.schema, table.X = schema, np.delete(table.X, k, axis=1)
            return table
    return table


def _complete_rows(table, label_codes):
    """(table, label codes) of the rows with every input and the label (data.missing: drop); the
    others are counted in n_dropped."""
    keep = ~table.missing()
    if label_codes is not None:
        keep &= label_codes >= 0
    if keep.all():
        return table, label_codes
    table = table.take(keep)
    table.n_dropped += int((~keep).sum())
    return table, None if label_codes is None else label_codes[keep]


def _labelled(table, label_codes, label_names, f, t):
    """The table with its labels as class indices, classes sorted (encode_labels); float labels refused."""
    present, inverse = np.unique(label_codes, return_inverse=True)  # the labels of the rows kept
    names = [label_names[c] for c in present]
    check_labels(names, inverse, table.lines, f, t)
    y, classes = encode_labels(names)
    table.y, table.schema.classes = y[inverse], classes
    return table


def _weights(texts, lines, f, j):
    """(k,) float64 of one block's weight column (its texts): numbers >= 0, each distinct text
    converted once; the first bad one, in file order, is the error."""
    codes, uniques = factorized(texts)
    values = np.array([float(u) if _is_float(u) else np.nan for u in uniques], np.float64)
    bad = ~(np.isfinite(values) & (values >= 0))
    if bad.any():
        i = int(np.argmax(bad[codes]))
        text = uniques[codes[i]]
        why = (
            f"weight {text!r} is not a number >= 0"
            if _is_float(text)
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


def _delimiter(sep):
    """The delimiter character for a config value: None for whitespace, False (detect it) for None."""
    if sep is None:
        return False
    if sep == WHITESPACE:
        return None
    d = SEPARATORS.get(sep, sep)
    if len(d) != 1:
        raise ConfigError(
            f"data.sep: expected one character, {WHITESPACE} or one of {', '.join(SEPARATORS)}, got {sep!r}"
        )
    return d


def _head(path, skip_rows=0):
    """(bytes, complete): the file's first skip_rows + SNIFF_LINES lines with text in them, or all of it."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            while head.count(b"\n") < skip_rows + SNIFF_LINES or not head.strip():
                more = f.read(max(len(head), HEAD_BYTES))
                if not more:
                    return head, True
                head += more
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: a directory, not a CSV file") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror}") from None
    return head[: head.rfind(b"\n") + 1], False


def _decode(head, path, skip_rows=0):
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as e:
        line = skip_rows + 1 + head.count(b"\n", 0, e.start)
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
    """The delimiter of the first lines: one of SNIFF_DELIMITERS by csv.Sniffer, else None when the
    lines are columns aligned by whitespace, else ',' (one column)."""
    lines = _sample(text)
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        pass
    counts = {len(line.split()) for line in lines if line.strip()}
    return None if len(counts) == 1 and counts.pop() > 1 else ","


def _sample(text):
    """The first lines of text that detection reads: SNIFF_LINES, fewer when they are long (a wide
    file's), but two at least."""
    lines, size = [], 0
    for line in text.splitlines()[:SNIFF_LINES]:
        if len(lines) >= 2 and size + len(line) > HEAD_BYTES:
            break
        lines.append(line)
        size += len(line)
    return lines


def _is_number(text):
    """A number as a numeric column reads it (csvparse.NUMBER), true/false aside."""
    return NUMBER.fullmatch(text) is not None


def _is_float(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _column_names(header_row, width, path, line):
    """Header names, unquoted (blank ones become x<j>), or x0, x1, ... without a header; duplicates
    refused."""
    if header_row is None:
        return [f"x{j}" for j in range(width)]
    names = [_unquoted(f) or f"x{j}" for j, f in enumerate(header_row)]
    twice = [name for name, n in Counter(names).items() if n > 1]
    if twice:
        raise DataError(f"{path}:{line}: duplicate column name '{twice[0]}'")
    return names


def _unquoted(name):
    """A header name without the single or double quotes around it."""
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "'\"":
        return name[1:-1].strip()
    return name


def encode_labels(labels):
    """(y int64, classes): classes are the sorted unique labels, as ints when every label parses as one."""
    text = [str(v) for v in labels]
    values = [int(t) for t in text] if all(INT.fullmatch(t) for t in text) else text
    classes = sorted(set(values))
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v] for v in values], dtype=np.int64), classes


def check_labels(names, codes, lines, f, t):
    """Refuse a label column of numbers that are not all integers: a feature named as the target,
    or labels written as floats (1.0, 0.0) that other files would write as 1 and 0."""
    if all(_is_float(s) for s in names) and not all(INT.fullmatch(s) for s in names):
        code = next(i for i, s in enumerate(names) if not INT.fullmatch(s))
        line = int(lines[np.argmax(codes == code)])
        raise DataError(
            f"{f.path}:{line}: {f.where(t)}: label {names[code]!r} is a number "
            "but not an integer: class labels are integers or names; is it the right column? "
            "(write float labels such as 1.0 as 1)"
        )
