"""A seed group killed with SIGKILL (after a seed, mid-seed, with its seeds in parallel) or stopped
by Ctrl-C once or twice resumes with `trainer train --resume` to the files of an unbroken group
(wall-clock fields aside), never training a finished seed again."""

import json
import signal

import pytest
from conftest import cli, outcome
from killers import start, wait_stopped

from trainer.storage.rundir import LOCK_FILE

# 140 training rows in batches of 32: 5 steps an epoch, 10 epochs; a checkpoint at every epoch end
CONFIG = """name: g
data: {dataset: moons, params: {n_samples: 200, noise: 0.3}, val_size: 0.1}
train: {epochs: 10, batch_size: 32, checkpoint_seconds: 0}
"""
STEPS = 50  # per seed
GROUP = ("train", "c.yaml", "--seeds", "3", "--out", "D", "-q", "--no-plots")


def comparable(out):
    """Every seed's run (conftest.outcome) and the group's summary, wall-clock fields aside."""
    summary = json.loads((out / "summary.json").read_text())
    summary["metrics"].pop("seconds")
    summary["per_seed"].pop("seconds")
    return {
        "files": sorted(p.name for p in out.iterdir()),
        "summary": summary,
        "seeds": {p.name: outcome(p) for p in sorted(out.glob("seed-*"))},
    }


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unbroken")
    (tmp / "c.yaml").write_text(CONFIG)
    r = cli(*GROUP, cwd=tmp)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return comparable(tmp / "D")


@pytest.fixture
def tmp(tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG)
    return tmp_path


def finished_seeds(tmp):
    return {p.parent.name: p.stat().st_mtime_ns for p in tmp.glob("D/seed-*/summary.json")}


def resume(tmp, killed_pid=None):
    r = cli("train", "--resume", "D", "-q", "--no-plots", cwd=tmp)
    assert r.returncode == 0, r.stderr
    if killed_pid is None:
        assert r.stderr == ""
    else:
        (line,) = r.stderr.splitlines()
        assert f"D/{LOCK_FILE}: taking over the lock left by process {killed_pid} " in line
    return comparable(tmp / "D")


@pytest.mark.parametrize(
    "args, step, done",
    [
        ((), STEPS + 1, 1),  # after the first seed: at the second one's first step
        ((), STEPS + STEPS // 2 + 2, 1),  # mid-way through the second seed, after a checkpoint of it
        (("--backend", "threading", "--n-jobs", "2"), STEPS + 7, None),  # two seeds at a time
    ],
    ids=["after-first-seed", "mid-seed", "parallel"],
)
def test_a_group_killed_at_any_point_resumes_to_the_unbroken_group(tmp, unbroken, args, step, done):
    proc = start(*GROUP, *args, cwd=tmp, killer=("step", step))
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, stderr
    assert json.loads((tmp / "D" / LOCK_FILE).read_text())["pid"] == proc.pid
    assert not (tmp / "D/summary.json").exists()
    before = finished_seeds(tmp)
    assert done is None or len(before) == done
    assert resume(tmp, proc.pid) == unbroken
    assert {k: v for k, v in finished_seeds(tmp).items() if k in before} == before  # not trained again


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_stops_a_group_that_resumes_to_the_unbroken_one(tmp, unbroken, presses):
    # Ctrl-C in the second seed: it stops at the end of the epoch under way (once), or at once
    # (twice), its checkpoint kept; the third seed never starts
    killer = ("pause", ",".join(str(STEPS + 12 + k) for k in range(presses)))
    proc = start(*GROUP, cwd=tmp, killer=killer)
    for _ in range(presses):
        wait_stopped(proc)
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGCONT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert stderr.splitlines()[-1].endswith("finished seeds are kept: resume with: trainer train --resume D")
    assert list(finished_seeds(tmp)) == ["seed-0"] and not (tmp / "D/seed-2").exists()
    assert not (tmp / "D" / LOCK_FILE).exists()
    assert resume(tmp) == unbroken
