"""A CSV's bytes cut into chunks of whole rows, each chunk's shape checked with numpy.

A chunk ends at a newline outside quotes. Its scan finds every row (a non-empty line) and
checks that each has exactly `width` fields; it returns the line number of each row, or None
when the chunk is irregular (a ragged or whitespace-only line, a lone carriage return, a quote
that is not at the edge of a field), so that the exact reader (csvparse.exact_blocks) reads it
and says what is wrong. A file whose quotes cannot be paired is read exactly from that chunk on.
"""

from dataclasses import dataclass

import numpy as np

NL, CR, QUOTE = 10, 13, ord('"')


@dataclass
class Chunk:
    data: bytes  # whole rows; the first byte starts a line
    offset: int  # byte offset of data in the file
    first_line: int  # line number of the chunk's first line (the file's first line is 1)
    lines: np.ndarray | None  # (rows,) int64 line number of each row; None: irregular, read it exactly
    malformed: bool = False  # quotes that cannot be paired: read the rest of the file exactly


def chunks(path, offset, first_line, delimiter, width, size):
    """Chunks of about `size` bytes of whole rows, from byte `offset` (line `first_line`) to the end."""
    delim = ord(delimiter)
    with open(path, "rb") as f:
        f.seek(offset)
        rest, line = b"", first_line
        while True:
            data = f.read(size)
            buf = rest + data if rest else data
            if not buf:
                return
            cut = _cut(buf) if data else len(buf)
            if cut == 0:  # no row ends in buf yet (a row or quoted field longer than size): read on
                rest = buf
                continue
            chunk, rest = buf[:cut], buf[cut:]
            quotes = np.flatnonzero(np.frombuffer(chunk, np.uint8) == QUOTE)
            if quotes.size and not _paired(np.frombuffer(chunk, np.uint8), quotes, delim):
                yield Chunk(chunk, offset, line, None, malformed=True)
                return
            yield Chunk(chunk, offset, line, _rows(chunk, quotes, delim, width, line))
            offset += cut
            line += chunk.count(b"\n")


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


def _rows(chunk, quotes, delim, width, first_line):
    """Line number of each row of the chunk, or None when a line is not a row of `width` fields."""
    a = np.frombuffer(chunk, np.uint8)
    newlines = np.flatnonzero(a == NL)
    cr = np.flatnonzero(a == CR)
    if cr.size and (cr[-1] == len(a) - 1 or (a[cr + 1] != NL).any()):
        return None  # a carriage return that does not end a line (\r\n): the exact reader says why
    delims = np.flatnonzero(a == delim)
    ends = newlines
    if quotes.size:
        ends = newlines[_inside(quotes, newlines) == 0]
        delims = delims[_inside(quotes, delims) == 0]
    if not ends.size or ends[-1] != len(a) - 1:
        ends = np.append(ends, len(a))  # the file's last line has no newline
    starts = np.concatenate(([0], ends[:-1] + 1))
    stop = ends - (a[np.maximum(ends - 1, 0)] == CR) * (ends > starts)  # a line ends before \r\n
    rows = stop > starts
    counts = np.searchsorted(delims, ends) - np.searchsorted(delims, starts)
    if (counts[rows] != width - 1).any() or (counts[~rows] != 0).any():
        return None
    return first_line + np.searchsorted(newlines, ends[rows])
