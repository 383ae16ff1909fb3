"""Runs, sweeps and seed groups that cannot collide: a second process aimed at a directory in use
refuses in one line naming the first and writes nothing; of two started at once, exactly one
proceeds."""

import json
import os
import signal
import subprocess
import sys
from datetime import datetime

import pytest
from conftest import cli, trainer_env
from test_crash_resume import CONFIG, start, stopped, wait_until

from trainer.config.load import config_from_dict
from trainer.storage import rundir
from trainer.storage.rundir import LOCK_FILE, RUN_FILES

TRAIN = ("train", "c.yaml", "--set", "train.epochs=2", "--out", "run", "-q", "--no-plots")
SWEEP = (
    "sweep",
    "c.yaml",
    "--grid",
    "train.lr=0.002,0.004",
    "--set",
    "train.epochs=2",
    "--out",
    "run",
    "-q",
    "--no-plots",
)


@pytest.fixture
def tmp(tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG)
    return tmp_path


def snapshot(path):
    return {p.relative_to(path): p.read_bytes() for p in path.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "second",
    [
        TRAIN,
        (*TRAIN, "--overwrite"),
        ("train", "--resume", "run", "-q"),
        SWEEP,
        (*SWEEP, "--overwrite"),
        (*TRAIN, "--seeds", "2"),
    ],
    ids=["train", "train-overwrite", "resume", "sweep", "sweep-overwrite", "seed-group"],
)
def test_a_directory_in_use_is_refused_naming_its_holder(tmp, second):
    first = start(*TRAIN, cwd=tmp, killer=("pause", 100))  # holds run/ and stops in its first epoch
    try:
        wait_until(lambda: stopped(first), first)
        before = snapshot(tmp / "run")
        r = cli(*second, cwd=tmp)
        assert r.returncode == 1
        (line,) = r.stderr.splitlines()
        assert line.startswith(f"trainer: error: run is in use by process {first.pid} on ")
        assert line.endswith(
            f", which holds run/{LOCK_FILE}; wait for it to end, or choose another directory"
        )
        assert snapshot(tmp / "run") == before
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=300) == 0
    assert sorted(p.name for p in (tmp / "run").iterdir()) == sorted(RUN_FILES)  # the lock went with it


@pytest.mark.parametrize("args", [TRAIN, SWEEP], ids=["runs", "sweeps"])
def test_of_two_started_at_once_exactly_one_proceeds(tmp, args):
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "trainer", *args],
            cwd=tmp,
            env=trainer_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    done = [(p, *p.communicate(timeout=300)) for p in procs]
    assert sorted(p.returncode for p, _, _ in done) == [0, 1]
    (winner, _, err), (loser, _, refusal) = sorted(done, key=lambda d: d[0].returncode)
    assert err == ""
    (line,) = refusal.splitlines()  # in use by the winner, or (if it had finished) holding its files
    assert f"run is in use by process {winner.pid} " in line or "run already holds a" in line, line
    assert LOCK_FILE not in os.listdir(tmp / "run")
    if args == TRAIN:
        assert sorted(os.listdir(tmp / "run")) == sorted(RUN_FILES)
    else:
        assert len(json.loads((tmp / "run/results.json").read_text())["trials"]) == 2


def test_default_run_directories_of_the_same_second_differ(tmp_path, monkeypatch):
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 2, 3, 4, 5)

    monkeypatch.setattr(rundir, "datetime", Frozen)
    cfg = config_from_dict({"name": "m"})
    made = [rundir.default_run_dir(cfg, tmp_path) for _ in range(3)]
    assert [p.name for p in made] == ["20260102-030405", "20260102-030405-1", "20260102-030405-2"]
    assert all(p.is_dir() for p in made)
