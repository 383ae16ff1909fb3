"""Atomic file writes and strict JSON: a crash never leaves a half-written file behind."""
import json
import math
import os
import tempfile
from pathlib import Path

from trainer.errors import TrainerError

_UMASK = os.umask(0o022)  # read once, at import: os.umask can only be read by setting it
os.umask(_UMASK)


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
            os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the mode open() would
            _write_all(fd, data)
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


def _write_all(fd, data):
    """os.write until every byte is out (a write may take only part, e.g. on a nearly full disk)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


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


def write_json(path, obj):
    """Atomically write obj as indented strict JSON."""
    atomic_write(path, dumps(obj, indent=2) + "\n")


def write_jsonl(path, records):
    """Atomically write one strict JSON object per line."""
    atomic_write(path, "".join(dumps(r) + "\n" for r in records))


def make_dir(path):
    """mkdir -p with a one-line error instead of a traceback."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TrainerError(f"cannot create directory {path}: {e.strerror or e}") from None
