"""Independent jobs through joblib: local processes (loky), threads, or a Dask cluster.

Every job runs with BLAS on one thread: jobs are the unit of parallelism, so extra BLAS threads
would only oversubscribe the cores, and a job's numbers must not depend on how many jobs run
beside it (a BLAS may split its sums differently with another thread count).
"""

import threading
from contextlib import ExitStack, closing, contextmanager

from trainer.errors import ConfigError, TrainerError, pip_install

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


def run_jobs(fn, calls, n_jobs=None, backend="loky", scheduler=None):
    """Yield (index, fn(*calls[index])) for every call, in the order they finish.

    fn must be importable by name (a module-level function) for process and Dask workers.
    n_jobs: jobs at once, in joblib's meaning (-1 = one per core); None = 1, or with the dask
    backend every worker thread of the cluster. scheduler: the address of a running Dask
    scheduler; without it the dask backend starts a local cluster on 127.0.0.1, one
    single-threaded worker process per job (n_jobs; default one per core), and closes it after.
    An exception raised by fn propagates; results not yet taken are cancelled.
    """
    # joblib is slow to import: imported here, not at the top (see BACKENDS)
    from joblib import Parallel, delayed, parallel_config

    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend '{backend}'; expected one of {', '.join(BACKENDS)}")
    if scheduler is not None and backend != "dask":
        raise ConfigError(
            f"--scheduler {scheduler}: only used with --backend dask, but the backend is {backend}"
        )
    n = -1 if backend == "dask" and n_jobs is None else n_jobs or 1
    jobs = (delayed(_call)(fn, i, args) for i, args in enumerate(calls))
    # the caller holds the limit too: jobs in this process (threading backend, n_jobs 1) then run
    # inside one limit set once from this thread, and pool threads never set it themselves
    with (
        ONE_BLAS_THREAD,
        _dask_client(backend, scheduler, n_jobs),
        parallel_config(backend=backend, n_jobs=n),
        closing(Parallel(return_as="generator_unordered")(jobs)) as results,
    ):
        yield from results


@contextmanager
def _dask_client(backend, scheduler, n_jobs):
    """For the dask backend, a Client of `scheduler`, or of a local cluster on 127.0.0.1 closed afterwards."""
    if backend != "dask":
        yield
        return
    try:
        import distributed
    except ImportError:
        raise TrainerError(
            f"--backend dask needs dask.distributed: {pip_install(DASK_REQUIREMENT)}"
        ) from None
    with ExitStack() as stack:  # closes the client, then the cluster we started
        try:
            if scheduler is None:
                workers = n_jobs if n_jobs and n_jobs > 0 else None  # None: one per core
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
