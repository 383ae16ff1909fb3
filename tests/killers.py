"""A trainer process that SIGKILLs (or SIGSTOPs) itself at the n-th event of a kind, for the tests of
crashes and Ctrl-C: `start` runs it, `wait_stopped` waits for its pause."""

import subprocess
import sys
import time

from conftest import trainer_env

# Runs `python -m trainer ARGS` after arranging to SIGKILL itself at the n-th event of a kind:
# record: just after the n-th journal record is on disk; torn: halfway through writing the n-th
# journal record; step: the n-th optimizer step (the trials run one after another in this
# process); results: halfway through writing the n-th results file (results.csv, best.yaml,
# results.json). pause: SIGSTOP itself at each optimizer step listed (n: "a,b"), for the test.
KILLER = r"""
import os, signal, sys
import trainer.runs.run, trainer.storage.journal, trainer.sweeps.grid
kind, at = sys.argv[1], [int(n) for n in sys.argv[2].split(",")]
seen = [0]
def due():
    seen[0] += 1
    return seen[0] in at
def die():
    import json, psutil  # the processes it leaves: its workers, which must end with it
    with open("children.json", "w") as f:
        json.dump([c.pid for c in psutil.Process().children(recursive=True)], f)
    os.kill(os.getpid(), signal.SIGSTOP if kind == "pause" else signal.SIGKILL)
if kind == "record":
    append = trainer.storage.journal.Journal.append
    def appended(self, record):
        append(self, record)
        if due():
            die()
    trainer.storage.journal.Journal.append = appended
elif kind == "torn":
    write_all = trainer.storage.journal.write_all
    def torn(fd, data):
        if due():
            os.write(fd, data[: len(data) // 2])
            die()
        write_all(fd, data)
    trainer.storage.journal.write_all = torn
elif kind in ("step", "pause"):
    make = trainer.runs.run.make_optimizer
    def counting(*args, **kwargs):
        opt = make(*args, **kwargs)
        step = opt.step
        def counted(params, grads, lr):
            step(params, grads, lr)
            if due():
                die()
        opt.step = counted
        return opt
    trainer.runs.run.make_optimizer = counting
elif kind == "results":
    real_write, writing = os.write, [False]
    def write(fd, data):
        if writing[-1] and len(data) > 1:
            real_write(fd, bytes(data[: len(data) // 2]))
            die()
        return real_write(fd, data)
    os.write = write
    atomic_write = trainer.sweeps.grid.atomic_write
    def watched(path, *args, **kwargs):
        writing.append(due())
        return atomic_write(path, *args, **kwargs)
    trainer.sweeps.grid.atomic_write = watched
    write_json = trainer.sweeps.grid.write_json
    def watched_json(path, obj):
        writing.append(due())
        return write_json(path, obj)
    trainer.sweeps.grid.write_json = watched_json
sys.argv = ["trainer", *sys.argv[3:]]
from trainer.cli import main
sys.exit(main())
"""


def start(*args, cwd, killer):
    return subprocess.Popen(
        [sys.executable, "-c", KILLER, *map(str, killer), *map(str, args)],
        cwd=cwd,
        env=trainer_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stopped(proc):
    with open(f"/proc/{proc.pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def wait_stopped(proc):
    deadline = time.monotonic() + 120
    while not stopped(proc):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the pause never came"
        time.sleep(0.005)
