"""Independent jobs through joblib: local processes (loky), threads, or a Dask cluster.

Every job runs with BLAS on one thread: jobs are the unit of parallelism, so extra BLAS threads
would only oversubscribe the cores, and a job's numbers must not depend on how many jobs run
beside it (a BLAS may split its sums differently with another thread count).
"""

import os
import signal
import sys
import threading
import time
import warnings
from contextlib import ExitStack, closing, contextmanager

from trainer.errors import ConfigError, TrainerError, first_line, pip_install

# joblib backend -> what runs the jobs (the command line's --backend choices and help); joblib and
# threadpoolctl are imported where used, so reading this table costs the command line nothing
BACKENDS = {"loky": "processes", "threading": "threads of this process", "dask": "a Dask cluster"}
DASK_REQUIREMENT = "dask[distributed]>=2023.1"  # the `dask` extra of pyproject.toml


class _OneBlasThread:
    """BLAS on one thread while any job runs in this process; counted, so that threads sharing the
    process (threading backend, multi-threaded Dask workers) never undo each other's limit."""

    def __init__(self):
        self.lock, self.running, self.limiter = threading.Lock(), 0, None

    def __enter__(self):
        with self.lock:
            if self.running == 0:
                from threadpoolctl import threadpool_limits

                self.limiter = threadpool_limits(limits=1, user_api="blas")
            self.running += 1

    def __exit__(self, *exc):
        with self.lock:
            self.running -= 1
            if self.running == 0:
                self.limiter.restore_original_limits()


ONE_BLAS_THREAD = _OneBlasThread()


def _call(fn, index, args):
    """(index, fn(*args)) with BLAS on one thread; runs in the worker."""
    with ONE_BLAS_THREAD:
        return index, fn(*args)


class _CtrlC:
    """Ctrl-C (SIGINT) while jobs run, caught in the main thread: the first lets no new job start
    and the running ones finish; the second raises KeyboardInterrupt at once (the handler before)."""

    def __init__(self, what):
        self.what, self.pressed, self.started, self.finished = what, False, 0, 0
        self.previous = None

    def jobs(self, items):
        """items until Ctrl-C: joblib takes each next job from here as a worker frees up."""
        for item in items:
            if self.pressed:
                return
            self.started += 1
            yield item

    def __enter__(self):
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None):
            self.previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def _on_sigint(self, signum, frame):
        self.pressed = True
        signal.signal(signal.SIGINT, self.previous)
        warnings.warn(
            f"Ctrl-C: no more {self.what} start; waiting for the {self.started - self.finished} "
            "running to finish (Ctrl-C again abandons them)",
            stacklevel=1,
        )

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


def _init_loky_worker():
    """Loky's worker initializer. The worker ignores Ctrl-C: a terminal signals every process of its
    group, and the sweep's own process decides what stops (a worker dying of it would break the
    pool). And it exits once the process that started it is gone (killed): a loky worker would
    otherwise train its job to the end for no one, holding the killed process's stdout and stderr
    open, beside the workers of the resumed sweep."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()


def _exit_when_orphaned(parent, every=1.0):
    """Exit this process as soon as its parent is no longer `parent` (it died: the orphan was
    handed to another), looking every `every` seconds."""
    while os.getppid() == parent:
        time.sleep(every)
    os._exit(1)


@contextmanager
def _sigint_ignored():
    """SIGINT ignored meanwhile: processes started meanwhile (a local Dask cluster's workers) inherit
    that, so Ctrl-C at a terminal, which signals every process of its group, reaches only this one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def check_backend(backend, scheduler=None):
    """A one-line error for a backend run_jobs cannot use: unknown, --scheduler without dask, or
    dask not installed; callers check before they write anything."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend '{backend}'; expected one of {', '.join(BACKENDS)}")
    if scheduler is not None and backend != "dask":
        raise ConfigError(
            f"--scheduler {scheduler}: only used with --backend dask, but the backend is {backend}"
        )
    if backend == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise TrainerError(_dask_missing()) from None


def _dask_missing():
    return f"--backend dask needs dask.distributed: {pip_install(DASK_REQUIREMENT)}"


def run_jobs(fn, calls, n_jobs=None, backend="loky", scheduler=None, what="jobs"):
    """Yield (index, fn(*calls[index])) for every call, in the order they finish.

    fn must be importable by name (a module-level function) for process and Dask workers.
    n_jobs: jobs at once, in joblib's meaning (-1 = one per core); None = 1, or with the dask
    backend every worker thread of the cluster. scheduler: the address of a running Dask
    scheduler; without it the dask backend starts a local cluster on 127.0.0.1, one
    single-threaded worker process per job (n_jobs; default one per core), and closes it after.
    A job is handed to a worker only when one is free, so that:
    - Ctrl-C (in the main thread) lets no more jobs start; the running ones finish and are
      yielded, then KeyboardInterrupt is raised (unless every job had started). A second Ctrl-C
      raises it at once, abandoning the running jobs. `what` names the jobs in the warning.
      Process workers ignore Ctrl-C: it is this process's to handle.
    - A Dask worker lost mid-job costs only its running jobs, which the scheduler runs again;
      a lost loky worker, or a job that killed Dask workers again and again, is a one-line
      TrainerError. An exception raised by fn propagates; results not yet taken are cancelled.
    """
    # joblib is slow to import: imported here, not at the top (see BACKENDS)
    from joblib import Parallel, delayed, parallel_config

    check_backend(backend, scheduler)
    n = -1 if backend == "dask" and n_jobs is None else n_jobs or 1
    calls = list(calls)
    ctrl_c = _CtrlC(what)
    jobs = (delayed(_call)(fn, i, args) for i, args in ctrl_c.jobs(enumerate(calls)))
    workers = {"initializer": _init_loky_worker} if backend == "loky" else {}
    # the caller holds the limit too: jobs in this process (threading backend, n_jobs 1) then run
    # inside one limit set once from this thread, and pool threads never set it themselves
    with (
        ctrl_c,
        ONE_BLAS_THREAD,
        _dask_client(backend, scheduler, n_jobs),
        parallel_config(backend=backend, n_jobs=n, **workers),
        closing(
            Parallel(return_as="generator_unordered", pre_dispatch="n_jobs", batch_size=1)(jobs)
        ) as results,
    ):
        try:
            for result in results:
                ctrl_c.finished += 1
                yield result
        except Exception as e:
            lost = _lost_worker(e, what)
            if lost is None:
                raise
            raise lost from None
    if ctrl_c.pressed and ctrl_c.started < len(calls):
        raise KeyboardInterrupt(f"{len(calls) - ctrl_c.started} of {len(calls)} {what} not started")


def _lost_worker(error, what):
    """A one-line TrainerError for an error saying that workers died under a job; else None."""
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    kinds = [TerminatedWorkerError]
    if "distributed" in sys.modules:
        kinds.append(sys.modules["distributed"].KilledWorker)
    if isinstance(error, tuple(kinds)):
        return TrainerError(f"a worker died running {what}, and could not be replaced: {first_line(error)}")
    return None


@contextmanager
def _dask_client(backend, scheduler, n_jobs):
    """For the dask backend, a Client of `scheduler`, or of a local cluster on 127.0.0.1 closed afterwards."""
    if backend != "dask":
        yield
        return
    try:
        import distributed
    except ImportError:
        raise TrainerError(_dask_missing()) from None
    with ExitStack() as stack:  # closes the client, then the cluster we started
        try:
            if scheduler is None:
                workers = n_jobs if n_jobs and n_jobs > 0 else None  # None: one per core
                with _sigint_ignored():  # its workers ignore Ctrl-C
                    scheduler = stack.enter_context(
                        distributed.LocalCluster(
                            host="127.0.0.1",
                            n_workers=workers,
                            threads_per_worker=1,
                            processes=True,
                            dashboard_address=None,
                        )
                    )
            stack.enter_context(distributed.Client(scheduler, timeout="10s"))
        except (OSError, TimeoutError) as e:
            raise TrainerError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
        yield
