"""A sweep trial whose worker dies: imported by name in Dask workers (the test's sys.path travels
with them), so that a test can kill one worker mid-sweep at a chosen point, not by timing.

run_trial is sweeps.trial.run_trial, logging each start (trial, pid) to $DYING_TRIAL_DIR/starts;
in the trial DYING (train.lr, model.hidden_size) it SIGKILLs its own worker process at the
STEP-th optimizer step, the first time only ($DYING_TRIAL_DIR/killed is created exclusively).
"""

import json
import os
import signal
from pathlib import Path

import trainer.runs.run
from trainer.sweeps import trial

# the first trial in grid order: the worker that runs it holds no finished trial's result, which
# Dask keeps on the worker until the client fetches it and would compute again were it lost too
DYING, STEP = (0.01, 4), 20


def run_trial(cfg, cv, keep_models=False):
    root = Path(os.environ["DYING_TRIAL_DIR"])
    key = (cfg.train.lr, cfg.model.hidden_size)
    with open(root / "starts", "a") as f:
        f.write(json.dumps([*key, os.getpid()]) + "\n")
    if key == DYING and _first(root / "killed"):
        _die_at_step(STEP)
    return trial.run_trial(cfg, cv, keep_models)


def _first(marker):
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        return False


def _die_at_step(n):
    """Make this process SIGKILL itself at the n-th optimizer step from now (it is the worker's)."""
    make, seen = trainer.runs.run.make_optimizer, [0]

    def counting(*args, **kwargs):
        opt = make(*args, **kwargs)
        step = opt.step

        def counted(params, grads, lr):
            step(params, grads, lr)
            seen[0] += 1
            if seen[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)

        opt.step = counted
        return opt

    trainer.runs.run.make_optimizer = counting
