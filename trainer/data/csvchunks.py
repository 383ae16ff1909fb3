"""A CSV's bytes cut into chunks of whole rows, each chunk's shape checked with numpy.

`cut` reads the file in order and ends each chunk at a newline outside quotes. `scan` (which may run
on another thread) finds every row of a chunk (a non-empty line) and checks that each has exactly
`width` fields; it gives each row's line, counted from the chunk's first line, or None when the
chunk is irregular (a ragged or whitespace-only line, a lone carriage return), so that the exact
reader (csvparse.exact_blocks) reads it and says what is wrong. When the parser will read every
column of a chunk without quotes, the scan only counts the delimiters (`by_count`): pandas then
refuses a row longer than the first, its column count shows the first row's, and a total of
exactly width - 1 delimiters per row leaves no row shorter. A chunk whose quotes do not each
open, close or double a quote in a field is `malformed`: its cut, and every later one, may be
wrong, so the file is read exactly from that chunk on.
"""

from dataclasses import dataclass

import numpy as np

NL, CR, QUOTE, SPACE, TAB = 10, 13, ord('"'), ord(" "), ord("\t")


@dataclass
class Chunk:
    data: bytes  # whole rows; the first byte starts a line
    offset: int  # byte offset of data in the file
    newlines: int  # newline characters in data
    lines: np.ndarray | None  # (rows,) int64 line of each row, 0 = the chunk's first; None: irregular
    malformed: bool = False  # quotes that cannot be paired: read the rest of the file exactly
    by_count: bool = False  # widths checked by the delimiter count: the parser must read every column


def cut(path, offset, size):
    """(offset, bytes) of consecutive chunks of whole rows, about `size` bytes each, from `offset`."""
    with open(path, "rb") as f:
        f.seek(offset)
        rest = b""
        while True:
            data = f.read(size)
            buf = rest + data if rest else data
            if not buf:
                return
            end = _cut(buf) if data else len(buf)
            if end == 0:  # no row ends in buf yet (a row or quoted field longer than size): read on
                rest = buf
                continue
            yield offset, buf[:end]
            offset, rest = offset + end, buf[end:]


def _cut(buf):
    """Length of buf's whole rows: up to its last newline outside quotes (0: none)."""
    if b'"' not in buf:
        return buf.rfind(b"\n") + 1
    a = np.frombuffer(buf, np.uint8)
    nl = np.flatnonzero(a == NL)
    outside = nl[_inside(np.flatnonzero(a == QUOTE), nl) == 0]
    return int(outside[-1]) + 1 if outside.size else 0


def _inside(quotes, positions):
    """1 where a position lies inside quotes (an odd number of quotes before it), else 0."""
    return np.searchsorted(quotes, positions) & 1


def scan(offset, data, delimiter, width, all_columns=False):
    """The Chunk of `data`: each row's line, or None when irregular; malformed when its quotes are.

    delimiter None: columns aligned by runs of whitespace. all_columns: the parser reads every
    column, so a chunk without quotes may be checked by_count."""
    a = np.frombuffer(data, np.uint8)
    newlines = np.flatnonzero(a == NL)
    if delimiter is None:  # quotes there are for the exact reader (a field may hold spaces)
        lines = None if b'"' in data else _whitespace_rows(a, newlines, width)
        return Chunk(data, offset, len(newlines), lines)
    delim = ord(delimiter)
    quotes = np.flatnonzero(a == QUOTE) if b'"' in data else newlines[:0]
    if quotes.size and not _paired(a, quotes, delim):
        return Chunk(data, offset, len(newlines), None, malformed=True)
    by_count = all_columns and not quotes.size
    return Chunk(
        data,
        offset,
        len(newlines),
        _rows(a, data, newlines, quotes, delim, width, by_count),
        by_count=by_count,
    )


def _paired(a, quotes, delim):
    """Whether every quote opens a field, closes it, or doubles a quote inside it (as the csv module
    reads them): then the parity of the quotes before a byte says whether it is inside a field."""
    if quotes.size % 2:
        return False
    opening, closing = quotes[0::2], quotes[1::2]
    before = a[np.maximum(opening - 1, 0)]
    after = a[np.minimum(closing + 1, len(a) - 1)]
    doubled_before = np.zeros(opening.size, bool)
    doubled_before[1:] = closing[:-1] == opening[1:] - 1  # the second quote of a doubled ""
    doubled_after = np.zeros(closing.size, bool)
    doubled_after[:-1] = opening[1:] == closing[:-1] + 1  # the first quote of a doubled ""
    opens = (opening == 0) | (before == delim) | (before == NL) | doubled_before
    closes = (closing == len(a) - 1) | (after == delim) | (after == NL) | (after == CR) | doubled_after
    return bool(opens.all() and closes.all())


def _rows(a, data, newlines, quotes, delim, width, by_count):
    """Line of each row (0 = the chunk's first), or None when a line is not a row of `width` fields
    (by_count: when the chunk does not hold width - 1 delimiters per row)."""
    if b"\r" in data:
        cr = np.flatnonzero(a == CR)
        if cr[-1] == len(a) - 1 or (a[cr + 1] != NL).any():
            return None  # a carriage return that does not end a line (\r\n): the exact reader says why
    delims = None if by_count else np.flatnonzero(a == delim)
    ends = newlines
    if quotes.size:
        ends = newlines[_inside(quotes, newlines) == 0]
        delims = delims[_inside(quotes, delims) == 0]
    if not ends.size or ends[-1] != len(a) - 1:
        ends = np.append(ends, len(a))  # the file's last line has no newline
    starts = np.empty_like(ends)
    starts[0], starts[1:] = 0, ends[:-1] + 1
    stop = ends - ((a[np.maximum(ends - 1, 0)] == CR) & (ends > starts))  # a line ends before \r\n
    rows = stop > starts
    n = int(rows.sum())
    # each row has width - 1 delimiters and an empty line none: with as many delimiters in all as
    # that, and the k-th group of width - 1 inside the k-th row, no line holds more or fewer
    if (np.count_nonzero(a == delim) if by_count else len(delims)) != (width - 1) * n:
        return None
    if width > 1 and n and not by_count:
        groups = delims.reshape(n, width - 1)
        if not ((groups[:, 0] > starts[rows]).all() and (groups[:, -1] < stop[rows]).all()):
            return None
    return np.searchsorted(newlines, ends[rows])


def _whitespace_rows(a, newlines, width):
    """Line of each row of whitespace-aligned columns (0 = the chunk's first), or None when a line
    that is not blank holds another number of fields than `width`."""
    blank = (a == SPACE) | (a == TAB) | (a == CR) | (a == NL)
    starts = np.flatnonzero(~blank & np.concatenate(([True], blank[:-1])))  # a field's first byte
    line_of = np.searchsorted(newlines, starts)  # the newlines before it: its line in the chunk
    fields = np.bincount(line_of, minlength=len(newlines) + 1)
    rows = np.flatnonzero(fields)
    return rows if (fields[rows] == width).all() else None
