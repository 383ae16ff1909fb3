"""The run directory: its default name, claiming it for a run (or a sweep, or a seed group) under
a lock, and a finished run read back.

The lock: DIR/trainer.lock, held with fcntl.flock (exclusive, never waiting) for as long as the
claim lasts, and naming its holder (pid, host, since when). A second process aimed at the
directory fails to take the flock and refuses in one line, naming the holder, having written
nothing. The kernel drops a flock when its process ends, however it ends, so the file a killed
process leaves behind never blocks anyone: the next claim takes it over and says whose it was.
Released, the file is removed, so a finished directory does not hold it.
"""

import fcntl
import json
import os
import socket
import time
import warnings
from datetime import datetime
from pathlib import Path

from trainer.errors import TrainerError, did_you_mean_path
from trainer.storage.checkpoint import unfinished
from trainer.storage.files import make_dir, read_json, read_jsonl
from trainer.storage.modelfile import load_model

RUN_FILES = ("config.yaml", "metrics.jsonl", "model.npz", "summary.json", "curve.json")
LOCK_FILE = "trainer.lock"


def default_run_dir(cfg, root="runs"):
    """runs/<name>/<timestamp>/, made here: os.mkdir is exclusive, so a second run started in the
    same second gets the next suffix (-1, -2, ...) rather than the first one's directory."""
    base = Path(root) / cfg.name / datetime.now().strftime("%Y%m%d-%H%M%S")
    make_dir(base.parent)
    path, i = base, 1
    while True:
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            path, i = base.with_name(f"{base.name}-{i}"), i + 1
        except OSError as e:
            raise TrainerError(f"cannot create directory {path}: {e.strerror or e}") from None


def new_run_dir(path, overwrite=False, made=False):
    """Claim the run directory (claim_dir): a DirLock to hold while the run is written. A directory
    another process is using is refused as such; one holding an unfinished run, with the command
    that goes on with it (unless overwrite). made: the caller made it (default_run_dir), so a run
    that fails before writing anything removes it."""
    DirLock(path).check_free()  # a run going on there is in use, not unfinished
    why = unfinished(path)
    if why and not overwrite:
        raise TrainerError(f"{path}: {why}; or choose another --out, or pass --overwrite to start again")
    lock = claim_dir(path, RUN_FILES, "a run", overwrite)
    lock.made = lock.made or made
    return lock


def claim_dir(path, files, what, overwrite=False):
    """Lock `path` (made if missing) and refuse it if it holds any of `files` (an earlier `what`'s),
    unless overwrite; the DirLock, to release when done.

    The checks come before the lock, so that a refusal touches nothing (a directory in use is
    refused as such), and again under it, so that two processes checking at once cannot both pass."""
    lock = DirLock(path)
    lock.check_free()
    check_unused(path, files, what, overwrite)
    lock.acquire()
    try:
        check_unused(path, files, what, overwrite)
    except BaseException:
        lock.release()
        raise
    return lock


def check_unused(path, files, what, overwrite=False):
    """path as a Path; TrainerError if it holds any of `files` (an earlier `what`'s), unless overwrite."""
    path = Path(path)
    taken = [f for f in files if (path / f).exists()]
    if taken and not overwrite:
        raise TrainerError(
            f"{path} already holds {what} ({', '.join(taken)}); choose another --out or pass --overwrite"
        )
    return path


class DirLock:
    """An exclusive claim on a directory (see the module docstring); a context manager giving the path."""

    def __init__(self, path):
        self.path = Path(path)
        self.file = self.path / LOCK_FILE
        self.fd = None
        self.made = False  # whether acquire made the directory: release removes it if left empty

    def acquire(self):
        """Take the lock, or a one-line TrainerError naming the process that holds it."""
        self.made = self.made or not self.path.exists()
        make_dir(self.path)
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                error = self._in_use(fd)
                os.close(fd)
                raise error from None
            except OSError as e:  # a file system without locks: say so, and go on unlocked
                warnings.warn(
                    f"cannot lock {self.file}: {e.strerror or e}; going on without a lock", stacklevel=2
                )
                break
            if _same_file(fd, self.file):
                break
            os.close(fd)  # its holder released it (removing the file) as we took it: try the new one
        self._took_over(_read(fd))
        self.fd = fd
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode("utf-8"), 0)
        return self

    def check_free(self):
        """A one-line TrainerError, naming it, if another process holds the lock; touches nothing."""
        try:
            fd = os.open(self.file, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # no lock file: free (an unreadable one is acquire's to report)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise self._in_use(fd) from None
        except OSError:
            pass
        finally:
            os.close(fd)  # drops the shared lock taken to look

    def _in_use(self, fd):
        record = _read(fd)
        for _ in range(50):  # a holder that has just taken the lock writes its record next: wait for it
            if record:
                break
            time.sleep(0.01)
            record = _read(fd)
        return TrainerError(
            f"{self.path} is in use by {_holder(record)}, which holds {self.file}; "
            "wait for it to end, or choose another directory"
        )

    def _open(self):
        try:
            return os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        except OSError as e:
            raise TrainerError(f"cannot lock {self.path}: {e.strerror or e}") from None

    def _took_over(self, previous):
        """Warn, naming the process, when the lock file is one a process left without releasing it."""
        if previous is None:
            return
        pid, host = previous.get("pid"), previous.get("host")
        if not isinstance(pid, int):
            state = "which it does not name"
        elif host != socket.gethostname():
            state = "which cannot be checked from this host"
        elif _alive(pid):
            state = "whose pid another process has now"
        else:
            state = "which is no longer running"
        warnings.warn(f"{self.file}: taking over the lock left by {_holder(previous)}, {state}", stacklevel=3)

    def release(self):
        """Remove the lock file and drop the lock; safe to call again."""
        if self.fd is None:
            return
        try:
            os.unlink(self.file)  # before dropping the flock: a waiting opener then sees another file
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None
        if self.made:
            try:
                self.path.rmdir()  # only if empty: a run that failed before writing leaves no trace
            except OSError:
                pass

    def __enter__(self):
        if self.fd is None:
            self.acquire()
        return self.path

    def __exit__(self, *exc):
        self.release()


def _read(fd):
    """The holder record in an open lock file, or None (empty: a holder just starting, or none)."""
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
        record = json.loads(text) if text else None
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) or record is None else {}


def _holder(record):
    if not record:
        return "another process"
    return f"process {record.get('pid')} on {record.get('host')} (started {record.get('since')})"


def _same_file(fd, path):
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def _now():
    return datetime.now().isoformat(timespec="seconds")


def read_run(run_dir):
    """(SavedModel, per-epoch records, summary) of a run directory; a one-line error unless it is finished."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise TrainerError(f"{run_dir}: no such run directory{did_you_mean_path(run_dir)}")
    if not run_dir.is_dir():
        raise TrainerError(f"{run_dir}: not a directory; give a run directory written by `trainer train`")
    missing = [f for f in ("metrics.jsonl", "model.npz", "summary.json") if not (run_dir / f).is_file()]
    if missing:
        why = unfinished(run_dir) or f"incomplete run: no {', '.join(missing)}"
        raise TrainerError(f"{run_dir}: {why}")
    history = read_jsonl(run_dir / "metrics.jsonl")
    if not history:
        raise TrainerError(f"{run_dir / 'metrics.jsonl'}: no epochs recorded")
    summary = read_json(run_dir / "summary.json")
    if not isinstance(summary, dict):
        raise TrainerError(f"{run_dir / 'summary.json'}: not a JSON object")
    return load_model(run_dir / "model.npz"), history, summary
