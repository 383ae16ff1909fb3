"""sweeps/jobs.py: Ctrl-C lets the running jobs finish and starts no more, a second one abandons
them; a worker lost for good and a backend that cannot run are one-line errors."""

import os
import signal
import sys

import pytest

from trainer.errors import ConfigError, TrainerError
from trainer.sweeps.jobs import check_backend, run_jobs


def ctrl_c(i, times=0):
    """Job i; presses Ctrl-C `times` times while it runs (the jobs run in this process, n_jobs 1)."""
    for _ in range(times):
        os.kill(os.getpid(), signal.SIGINT)
    return i * i


def test_ctrl_c_finishes_the_running_job_and_starts_no_more():
    got = []
    with pytest.warns(
        UserWarning, match=r"Ctrl-C: no more trials start; waiting for the 1 running to finish"
    ):
        with pytest.raises(KeyboardInterrupt, match="3 of 5 trials not started"):
            for i, result in run_jobs(ctrl_c, [(0,), (1, 1), (2,), (3,), (4,)], what="trials"):
                got.append((i, result))
    assert got == [(0, 0), (1, 1)]  # the job pressing it ran to its end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back


def test_a_second_ctrl_c_abandons_the_running_job():
    got = []
    with pytest.warns(UserWarning, match="Ctrl-C"), pytest.raises(KeyboardInterrupt):
        for i, result in run_jobs(ctrl_c, [(0,), (1, 2), (2,)]):
            got.append((i, result))
    assert got == [(0, 0)]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_after_every_job_started_changes_nothing():
    with pytest.warns(UserWarning, match="Ctrl-C"):
        assert dict(run_jobs(ctrl_c, [(0,), (1,), (2, 1)])) == {0: 0, 1: 1, 2: 4}


def test_a_worker_lost_for_good_is_one_line():
    with pytest.raises(TrainerError, match=r"^a worker died running jobs, and could not be replaced: ") as e:
        list(run_jobs(os.abort, [()] * 2, n_jobs=2, backend="loky"))
    assert "\n" not in str(e.value)


def test_a_backend_that_cannot_run_is_refused_before_anything_runs(monkeypatch):
    with pytest.raises(ConfigError, match="unknown backend 'spark'"):
        check_backend("spark")
    with pytest.raises(ConfigError, match="only used with --backend dask"):
        check_backend("loky", "tcp://127.0.0.1:8786")
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(TrainerError, match="--backend dask needs dask.distributed"):
        check_backend("dask")
