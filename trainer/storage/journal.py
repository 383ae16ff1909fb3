"""An append-only journal of finished jobs: one strict JSON object per line, keyed by "key" (the
job's config hash), each line on disk (fsync) before the next outcome is taken.

A kill at any moment loses at most the line being written. Such a line is torn: it has no newline,
or (after a power loss) it cannot be parsed; reading drops a torn last line, and opening the
journal for appending cuts it off, so the next record starts on a line of its own. A bad line
anywhere else is damage, reported in one line naming it.
"""

import os
from pathlib import Path

from trainer.errors import TrainerError, first_line
from trainer.storage.files import dumps, loads, write_all

KEY = "key"


def read_journal(path):
    """The records of the journal at path ([] when there is none), a torn last line left out."""
    return _parse(_read_bytes(path), path)[0]


def latest(records):
    """{key: record}: the last record of each key (a job journaled twice counts once, as it ended last)."""
    return {r[KEY]: r for r in records}


class Journal:
    """The journal at `path`, open for appending (made if missing); `records` holds what it read."""

    def __init__(self, path):
        self.path = Path(path)
        data = _read_bytes(self.path)
        self.records, whole = _parse(data, self.path)
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
            if whole < len(data):  # a torn last line: the next record must start a line
                os.ftruncate(self.fd, whole)
                os.fsync(self.fd)
            if not data:
                _fsync_dir(self.path.parent)  # the new file's name is on disk too
        except OSError as e:
            raise TrainerError(f"cannot write {self.path}: {e.strerror or e}") from None

    def append(self, record):
        """Write record (a dict holding KEY) as one line and fsync it before returning."""
        line = (dumps(record) + "\n").encode("utf-8")
        try:
            write_all(self.fd, line)
            os.fsync(self.fd)
        except OSError as e:
            raise TrainerError(f"cannot write {self.path}: {e.strerror or e}") from None
        self.records.append(record)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _read_bytes(path):
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return b""
    except OSError as e:
        raise TrainerError(f"{path}: cannot read the journal: {e.strerror or e}") from None


def _parse(data, path):
    """(records, length of the whole lines they fill); a torn last line is not counted."""
    *lines, tail = data.split(b"\n")  # tail: after the last newline, a torn line or b""
    records, whole = [], 0
    for i, line in enumerate(lines, 1):
        try:
            record = loads(line.decode("utf-8"))
            if not isinstance(record, dict) or not isinstance(record.get(KEY), str):
                raise ValueError(f"not a JSON object with a '{KEY}'")
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            if i == len(lines) and not tail:  # the last line, garbled by a write cut short
                break
            raise TrainerError(f"{path}:{i}: damaged journal record ({first_line(e)})") from None
        records.append(record)
        whole += len(line) + 1
    return records, whole


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
