"""A sweep killed with SIGKILL at any point (after a trial, mid-trial, mid-record, while writing its
results), or stopped by Ctrl-C, resumes with `trainer sweep --resume` to the files an unbroken
sweep writes (fit times aside); a changed sweep, a finished one or a damaged journal is refused."""

import contextlib
import csv
import json
import signal

import pytest
from conftest import cli
from killers import start, wait_stopped

from trainer.storage.journal import read_journal
from trainer.storage.rundir import LOCK_FILE

CONFIG = """name: s
data: {dataset: moons, params: {n_samples: 200, noise: 0.3}, val_size: 0.1}
train: {epochs: 10, batch_size: 32}
"""
GRID = ("--grid", "train.lr=0.003,0.03", "--grid", "model.hidden_size=4,16")
STEPS = 50  # per trial: 140 training rows in batches of 32 (5 steps an epoch), 10 epochs
TRIALS = 4


def sweep_args(*extra):
    return ("sweep", "c.yaml", *GRID, "--out", "out", "-q", "--no-plots", *extra)


def comparable(out):
    """Every file a sweep leaves, fit times aside: the results, best.yaml, sweep.json (less the config
    file's absolute path: each test has its own directory), the journal by key (its order is the
    order trials finish), the file names."""
    results = json.loads((out / "results.json").read_text())
    for t in results["trials"]:
        t.pop("fit_time")
    rows = list(csv.reader((out / "results.csv").read_text().splitlines()))
    drop = rows[0].index("fit_time")
    journal = {r["key"]: r for r in read_journal(out / "journal.jsonl")}
    for r in journal.values():
        r["outcome"].pop("fit_time")
    return {
        "files": sorted(p.name for p in out.iterdir()),
        "results": results,
        "csv": [row[:drop] + row[drop + 1 :] for row in rows],
        "best": (out / "best.yaml").read_text(),
        "sweep": {
            k: v for k, v in json.loads((out / "sweep.json").read_text()).items() if k != "config_path"
        },
        "journal": journal,
    }


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unbroken")
    (tmp / "c.yaml").write_text(CONFIG)
    r = cli(*sweep_args(), cwd=tmp)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    kept = comparable(tmp / "out")
    assert (
        len(kept["journal"]) == TRIALS and len({t["mean_val_score"] for t in kept["results"]["trials"]}) > 1
    )
    return kept


@pytest.fixture
def tmp(tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG)
    return tmp_path


def killed(proc, tmp, journaled):
    """Wait for proc's SIGKILL; the journal then holds `journaled` whole records, and the lock the
    killed process left names it. Its pid."""
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, stderr
    assert len(read_journal(tmp / "out/journal.jsonl")) == journaled
    assert json.loads((tmp / "out" / LOCK_FILE).read_text())["pid"] == proc.pid
    return proc.pid


def resume(tmp, killed_pid=None, *extra):
    r = cli("sweep", "--resume", "out", "-q", "--no-plots", *extra, cwd=tmp)
    assert r.returncode == 0, r.stderr
    if killed_pid is None:
        assert r.stderr == ""
    else:
        (line,) = r.stderr.splitlines()
        assert f"taking over the lock left by process {killed_pid} " in line
    return comparable(tmp / "out")


@pytest.mark.parametrize(
    "killer, journaled",
    [
        (("record", 1), 1),  # just after the first trial is journaled
        (("step", 2 * STEPS + STEPS // 2), 2),  # mid-way: in the middle of the third trial
        (("torn", 3), 2),  # halfway through writing the third trial's record
        (("results", 1), TRIALS),  # halfway through writing results.csv
        (("results", 3), TRIALS),  # halfway through writing results.json, the last file
    ],
    ids=["after-first-trial", "mid-trial", "mid-record", "mid-results-csv", "mid-results-json"],
)
def test_a_sweep_killed_at_any_point_resumes_to_the_unbroken_results(tmp, unbroken, killer, journaled):
    pid = killed(start(*sweep_args(), cwd=tmp, killer=killer), tmp, journaled)
    assert not (tmp / "out/results.json").exists()  # unfinished: so --resume takes it
    assert resume(tmp, pid) == unbroken


def test_a_sweep_of_parallel_trials_killed_and_its_resume_killed_too(tmp, unbroken):
    args = sweep_args("--backend", "threading", "--n-jobs", "2")
    killed(start(*args, cwd=tmp, killer=("record", 1)), tmp, 1)
    pid = killed(start("sweep", "--resume", "out", "-q", cwd=tmp, killer=("record", 2)), tmp, 3)
    assert resume(tmp, pid, "--n-jobs", "2") == unbroken


def test_the_loky_workers_of_a_killed_sweep_end_with_it(tmp):
    import time

    import psutil

    # two workers: the first trial's ends the sweep (killed once it is journaled) while the other
    # is early in a trial of 100,000 epochs, which it would otherwise go on training for minutes
    args = ("sweep", "c.yaml", "--grid", "train.epochs=10,100000", "--n-jobs", "2", "--out", "out", "-q")
    proc = start(*args, cwd=tmp, killer=("record", 1))
    assert proc.wait(timeout=300) == -signal.SIGKILL  # the process; its pipes may outlive it
    children = [psutil.Process(c) for c in json.loads((tmp / "children.json").read_text())]
    assert len(children) >= 2  # the two workers (and loky's resource tracker)
    try:
        deadline = time.monotonic() + 60  # a bound on the wait, far above the second a worker takes
        while any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children):
            assert time.monotonic() < deadline, "a worker of the killed sweep lives on"
            time.sleep(0.1)
    finally:
        for c in children:  # when the test fails: they must not run on
            with contextlib.suppress(psutil.NoSuchProcess):
                c.kill()
    proc.communicate(timeout=60)
    assert len(read_journal(tmp / "out/journal.jsonl")) == 1


def test_ctrl_c_lets_the_running_trial_finish_and_says_how_to_resume(tmp, unbroken):
    proc = start(*sweep_args(), cwd=tmp, killer=("pause", STEPS + STEPS // 2))  # mid second trial
    wait_stopped(proc)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGCONT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert stderr.splitlines() == [
        "trainer: warning: Ctrl-C: no more trials start; waiting for the 1 running to finish "
        "(Ctrl-C again abandons them)",
        "trainer: interrupted: 2 of 4 trials not started; 2 of 4 trials are done and kept in "
        "out/journal.jsonl; resume with: trainer sweep --resume out",
    ]
    assert len(read_journal(tmp / "out/journal.jsonl")) == 2 and not (tmp / "out" / LOCK_FILE).exists()
    assert resume(tmp) == unbroken


def test_a_second_ctrl_c_abandons_the_running_trial(tmp, unbroken):
    killer = ("pause", f"{STEPS + 10},{STEPS + 20}")  # twice in the second trial
    proc = start(*sweep_args(), cwd=tmp, killer=killer)
    for _ in range(2):
        wait_stopped(proc)
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGCONT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert stderr.splitlines()[-1] == (
        "trainer: interrupted: stopped; 1 of 4 trials are done and kept in out/journal.jsonl; "
        "resume with: trainer sweep --resume out"
    )
    assert len(read_journal(tmp / "out/journal.jsonl")) == 1
    assert resume(tmp) == unbroken


@pytest.fixture
def broken(tmp):
    """A sweep killed after its second trial."""
    killed(start(*sweep_args(), cwd=tmp, killer=("record", 2)), tmp, 2)
    return tmp


def snapshot(out):
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "args, says",
    [
        (
            ("--grid", "train.lr=0.003,0.01", "--grid", "model.hidden_size=4,16"),
            "grid.train.lr: [0.003, 0.03] -> [0.003, 0.01]",
        ),
        (("--set", "train.epochs=11"), "set.train.epochs: <absent> -> 11"),
        (("--cv", "3"), "cv: null -> 3"),
        (("--keep-models",), "keep_models: false -> true"),
        (("--seeds", "2"), "seeds: null -> [0, 1]"),
    ],
    ids=["grid", "set", "cv", "keep-models", "seeds"],
)
def test_resume_refuses_a_changed_sweep_naming_the_keys_and_touches_nothing(broken, args, says):
    before = snapshot(broken / "out")
    r = cli("sweep", "--resume", "out", *args, cwd=broken)
    assert r.returncode == 2
    (line,) = r.stderr.splitlines()
    assert line.startswith("trainer: error: cannot resume out: the sweep differs from the one it holds (")
    assert says in line and line.endswith("resume without changes, or start a new sweep")
    assert snapshot(broken / "out") == before


def test_resume_refuses_an_edited_config_file(broken):
    (broken / "c.yaml").write_text(CONFIG.replace("noise: 0.3", "noise: 0.2"))
    r = cli("sweep", "--resume", "out", cwd=broken)
    assert r.returncode == 2 and "config.data.params.noise: 0.3 -> 0.2" in r.stderr


def test_resume_with_the_same_arguments_given_again_goes_on(broken, unbroken):
    r = cli("sweep", "c.yaml", *GRID, "--resume", "out", "-q", "--no-plots", cwd=broken)
    assert r.returncode == 0 and "taking over the lock" in r.stderr
    assert comparable(broken / "out") == unbroken
    again = cli("sweep", "--resume", "out", cwd=broken)
    assert again.returncode == 1
    assert (
        again.stderr
        == "trainer: error: out: the sweep has finished (it holds results.json); nothing to resume\n"
    )


def test_a_new_sweep_into_an_unfinished_one_is_pointed_to_resume(broken):
    before = snapshot(broken / "out")
    r = cli(*sweep_args(), cwd=broken)
    assert r.returncode == 1
    assert "out holds an unfinished sweep; go on with it: trainer sweep --resume out" in r.stderr
    assert snapshot(broken / "out") == before


def test_a_damaged_journal_is_refused_naming_the_line(broken):
    path = broken / "out/journal.jsonl"
    first, second = path.read_text().splitlines()
    path.write_text(f"{first[:-3]}\n{second}\n")
    r = cli("sweep", "--resume", "out", cwd=broken)
    assert r.returncode == 1
    assert r.stderr.startswith("trainer: error: out/journal.jsonl:1: damaged journal record (")
