"""storage/rundir.py's lock: one process at a time in a directory; a second one refuses in one line
naming the first and writes nothing; a lock left by a killed process is taken over and named."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import trainer_env

from trainer.errors import TrainerError
from trainer.storage.rundir import LOCK_FILE, DirLock, claim_dir, new_run_dir

# holds the lock on argv[1] (or just takes it and dies of SIGKILL, with "die"), printing "locked"
HOLDER = textwrap.dedent(
    """
    import os, signal, sys
    from trainer.storage.rundir import DirLock
    lock = DirLock(sys.argv[1]).acquire()
    print("locked", flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.read()  # hold it until the test closes stdin
    lock.release()
    """
)


def holder(path, how="hold"):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), how],
        env=trainer_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    if how == "hold":
        assert proc.stdout.readline() == "locked\n"
    return proc


def files(path):
    return {p.name: p.read_bytes() for p in path.iterdir()}


def test_a_second_process_refuses_naming_the_holder_and_writes_nothing(tmp_path):
    proc = holder(tmp_path / "d")
    try:
        before = files(tmp_path / "d")
        with pytest.raises(TrainerError) as e:
            DirLock(tmp_path / "d").acquire()
        assert f"{tmp_path / 'd'} is in use by process {proc.pid} on " in str(e.value)
        assert str(tmp_path / "d" / LOCK_FILE) in str(e.value) and "\n" not in str(e.value)
        assert files(tmp_path / "d") == before
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert not (tmp_path / "d" / LOCK_FILE).exists()  # released: the file goes with it
    with DirLock(tmp_path / "d") as path:  # and now it is free
        assert json.loads((path / LOCK_FILE).read_text())["pid"] == os.getpid()


def test_the_same_process_cannot_claim_a_directory_twice(tmp_path):
    with DirLock(tmp_path):
        with pytest.raises(TrainerError, match=f"is in use by process {os.getpid()} "):
            DirLock(tmp_path).acquire()


def test_a_lock_left_by_a_killed_process_is_taken_over_and_named(tmp_path):
    proc = holder(tmp_path / "d", "die")
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert json.loads((tmp_path / "d" / LOCK_FILE).read_text())["pid"] == proc.pid  # left behind
    with pytest.warns(
        UserWarning, match=f"taking over the lock left by process {proc.pid} .*no longer running"
    ):
        lock = DirLock(tmp_path / "d").acquire()
    assert json.loads((tmp_path / "d" / LOCK_FILE).read_text())["pid"] == os.getpid()
    lock.release()
    assert os.listdir(tmp_path / "d") == []


@pytest.mark.parametrize(
    "left, state",
    [
        ({"host": "elsewhere", "pid": 1}, "which cannot be checked from this host"),
        ({"host": "here"}, "which it does not name"),
    ],
)
def test_a_lock_file_of_another_host_or_without_a_pid_is_taken_over_as_such(tmp_path, left, state):
    import socket

    left = {**left, "host": socket.gethostname()} if left["host"] == "here" else left
    (tmp_path / LOCK_FILE).write_text(json.dumps(left))
    with pytest.warns(UserWarning, match=f"taking over the lock left by .*, {state}$"):
        DirLock(tmp_path).acquire().release()


def test_a_claim_checks_for_an_earlier_run_under_the_lock(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.npz").write_bytes(b"earlier")
    with pytest.raises(TrainerError, match="already holds a run .model.npz."):
        new_run_dir(tmp_path / "run")
    assert os.listdir(tmp_path / "run") == ["model.npz"]  # refused before taking the lock
    with new_run_dir(tmp_path / "run", overwrite=True) as run:
        assert sorted(os.listdir(run)) == sorted([LOCK_FILE, "model.npz"])
        with pytest.raises(TrainerError, match="is in use by process"):  # --overwrite does not break in
            new_run_dir(tmp_path / "run", overwrite=True)
    assert os.listdir(tmp_path / "run") == ["model.npz"]


def test_the_check_is_made_again_once_the_lock_is_held(tmp_path, monkeypatch):
    # another process finishes its run between the first check and the lock: the second check sees it
    real_acquire = DirLock.acquire

    def acquire(self):
        (self.path / "summary.json").write_text("{}")
        return real_acquire(self)

    (tmp_path / "run").mkdir()
    monkeypatch.setattr(DirLock, "acquire", acquire)
    with pytest.raises(TrainerError, match="already holds a run .summary.json."):
        claim_dir(tmp_path / "run", ("summary.json",), "a run")
    assert not (tmp_path / "run" / LOCK_FILE).exists()
