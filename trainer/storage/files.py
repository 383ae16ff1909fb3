"""Atomic file writes and strict JSON: a crash never leaves a half-written file behind, and a
file that cannot be read back is one line naming it (and the line in it)."""

import contextlib
import functools
import json
import math
import os
import tempfile
from pathlib import Path

from trainer.errors import TrainerError, first_line


def atomic_write(path, data, backup=None):
    """Write bytes or text to `path` via a temp file in the same directory and os.replace.

    backup: a path to move the file's previous version to just before the new one replaces it,
    so that one of the two is always complete. On any failure the temp file is removed and
    `path` keeps its old content.
    """
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise TrainerError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        try:
            os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        if backup is not None and path.exists():
            os.replace(path, backup)
        os.replace(tmp, path)
    except OSError as e:
        _remove_quietly(tmp)
        raise TrainerError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        _remove_quietly(tmp)
        raise


@contextlib.contextmanager
def atomic_stream(path):
    """A writer (.write(bytes)) whose bytes replace `path` only when the with-block ends without
    an error; until then they go to a temp file in the same directory, removed on any failure."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise TrainerError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        _ours(os.fchmod, path, fd, 0o666 & ~_umask())  # mkstemp makes 0600; give the mode open() would
        yield _Writer(fd, path)
        _ours(os.fsync, path, fd)
        os.close(fd)
        fd = None
        _ours(os.replace, path, tmp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        _remove_quietly(tmp)
        raise


def _ours(call, path, *args):
    """call(*args), its OSError a TrainerError naming the file being written."""
    try:
        call(*args)
    except OSError as e:
        raise TrainerError(f"cannot write {path}: {e.strerror or e}") from None


class _Writer:
    """atomic_stream's writer: every byte written, or a TrainerError naming the file."""

    def __init__(self, fd, path):
        self.fd, self.path = fd, path

    def write(self, data):
        _ours(write_all, self.path, self.fd, data)


@functools.cache
def _umask():
    """The process umask, read once, at the first write (importing this module changes nothing)."""
    try:  # Linux reports it without changing it
        with open("/proc/self/status", encoding="ascii") as f:
            return next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0o022)  # elsewhere it is read only by setting it: put it straight back
        os.umask(mask)
        return mask


def write_all(fd, data):
    """os.write until every byte is out (a write may take only part, e.g. on a nearly full disk)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def finite_json(obj):
    """A copy of obj with every NaN or infinite float replaced by None (JSON has no such tokens)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    return obj


def dumps(obj, **kwargs):
    """Strict JSON text: non-finite floats become null, never NaN or Infinity."""
    return json.dumps(finite_json(obj), allow_nan=False, **kwargs)


def loads(text):
    """Strict JSON text -> value: NaN and Infinity are refused (ValueError), as dumps never writes them."""
    return json.loads(text, parse_constant=_not_json)


def _not_json(token):
    raise ValueError(f"{token} is not JSON")


def write_json(path, obj):
    """Atomically write obj as indented strict JSON."""
    atomic_write(path, dumps(obj, indent=2) + "\n")


def write_jsonl(path, records):
    """Atomically write one strict JSON object per line."""
    atomic_write(path, "".join(dumps(r) + "\n" for r in records))


def read_json(path, what="JSON file", error=TrainerError):
    """The strict JSON value in a file; a one-line `error` if it is missing, unreadable or malformed."""
    text = read_text(path, what, error)
    try:
        return loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{path}:{e.lineno}: malformed JSON ({e.msg})") from None
    except (ValueError, RecursionError) as e:
        raise error(f"{path}: malformed JSON ({first_line(e)})") from None


def read_jsonl(path, what="JSON lines file", error=TrainerError):
    """The records of a JSON Lines file (as write_jsonl writes); a one-line `error` naming the bad line."""
    return json_records(read_text(path, what, error), path, error)


def json_records(text, where, error=TrainerError):
    """JSON Lines text -> [one dict per non-blank line]; a one-line `error` "where:line: why" otherwise."""
    records = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = loads(line)
        except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
            raise error(f"{where}:{i}: malformed JSON ({getattr(e, 'msg', None) or first_line(e)})") from None
        if not isinstance(record, dict):
            raise error(f"{where}:{i}: not a JSON object")
        records.append(record)
    return records


def read_text(path, what="file", error=TrainerError):
    """A UTF-8 text file's contents; a one-line `error` "path: no such <what>" or "cannot read <what>"."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except (OSError, UnicodeDecodeError) as e:  # a directory, no permission, bytes that are not UTF-8
        raise error(f"{path}: cannot read {what}: {getattr(e, 'strerror', None) or e}") from None


def make_dir(path):
    """mkdir -p with a one-line error instead of a traceback."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TrainerError(f"cannot create directory {path}: {e.strerror or e}") from None
