"""Real crashes, through the command line: a run killed with SIGKILL at any moment (also mid-epoch
and mid-write) and resumed, or stopped with Ctrl-C and resumed, ends bit-identical to an unbroken
run; a diverging run exits 3 and keeps its best finite weights, with no NaN in any JSON file."""

import json
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import cli, outcome, trainer_env

from trainer.errors import ModelFileError
from trainer.storage.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from trainer.storage.modelfile import load_model
from trainer.storage.rundir import LOCK_FILE

ROOT = Path(__file__).resolve().parents[2]
# 1,120 training rows in batches of 2: 560 Adam steps an epoch, so a kill lands mid-epoch
CONFIG = """name: crash
seed: 3
data: {dataset: moons, params: {n_samples: 1600, noise: 0.25}, val_size: 0.1}
model: {hidden_size: 16}
train: {epochs: 16, batch_size: 2, lr: 0.002, lr_schedule: step, lr_step: 4, lr_decay: 0.5,
        early_stopping: true, patience: 100, checkpoint_seconds: 0}
"""
STEPS = 560
# Runs `python -m trainer ARGS` after arranging to SIGKILL itself at the n-th event of a kind:
# step: the n-th optimizer step; write: halfway through writing the n-th checkpoint; write-model:
# halfway through writing model.npz; rename: between moving the n-th checkpoint's predecessor aside
# and putting it in place. pause: SIGSTOP itself at the n-th optimizer step, for the test to kill.
KILLER = r"""
import os, signal, sys
import trainer.storage.checkpoint, trainer.runs.run, trainer.storage.files
kind, n = sys.argv[1], int(sys.argv[2])
seen = [0]
def due():
    seen[0] += 1
    return seen[0] == n
def die():
    os.kill(os.getpid(), signal.SIGSTOP if kind == "pause" else signal.SIGKILL)
if kind in ("step", "pause"):
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
elif kind.startswith("write"):
    real_write, writing = os.write, [False]
    def write(fd, data):
        if writing[-1] and len(data) > 1:
            real_write(fd, bytes(data[: len(data) // 2]))
            die()
        return real_write(fd, data)
    os.write = write
    import trainer.storage.modelfile
    module = trainer.storage.modelfile if kind == "write-model" else trainer.storage.checkpoint
    atomic_write = module.atomic_write
    def watched(path, *args, **kwargs):
        writing.append(kind == "write-model" or due())
        return atomic_write(path, *args, **kwargs)
    module.atomic_write = watched
elif kind == "rename":
    real_replace = os.replace
    def replace(src, dst):
        if str(dst).endswith("checkpoint.npz") and due():
            die()
        return real_replace(src, dst)
    os.replace = replace
sys.argv = ["trainer", *sys.argv[3:]]
from trainer.cli import main
sys.exit(main())
"""


def start(*args, cwd, killer=None):
    prefix = ["-c", KILLER, *map(str, killer)] if killer else ["-m", "trainer"]
    return subprocess.Popen(
        [sys.executable, *prefix, *map(str, args)],
        cwd=cwd,
        env=trainer_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def checkpoint_epoch(run_dir, name=CHECKPOINT):
    try:
        return load_checkpoint(run_dir / name).epoch
    except ModelFileError:  # none yet, or between the two renames of a write
        return 0


def wait_until(condition, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended before the kill point: {proc.communicate()}"
        assert time.monotonic() < deadline, "the kill point never came"
        time.sleep(0.002)


def killed(proc, run_dir):
    """Kill proc now, unless it kills itself (started with a killer); its pid. Whatever the moment,
    metrics.jsonl on disk holds at least the epochs of the newest checkpoint, and the run's lock
    file, left behind, names the killed process."""
    if proc.args[1] == "-m":
        proc.kill()
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, stderr
    metrics = run_dir / "metrics.jsonl"
    epochs = len(metrics.read_text().splitlines()) if metrics.exists() else 0
    assert epochs >= max(checkpoint_epoch(run_dir), checkpoint_epoch(run_dir, PREVIOUS))
    assert json.loads((run_dir / LOCK_FILE).read_text())["pid"] == proc.pid
    return proc.pid


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("unbroken")
    (tmp / "c.yaml").write_text(CONFIG)
    r = cli("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return outcome(tmp / "run")


@pytest.fixture
def tmp(tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG)
    return tmp_path


def resume(tmp, killed_pid=None):
    """Resume the run; after a kill it takes over the lock the killed process left, naming it."""
    r = cli("train", "--resume", "run", "-q", "--no-plots", cwd=tmp)
    assert r.returncode == 0, r.stderr
    if killed_pid is None:
        assert r.stderr == ""
    else:
        (line,) = r.stderr.splitlines()
        assert line.startswith(
            f"trainer: warning: run/{LOCK_FILE}: taking over the lock left by process {killed_pid} "
        )
        assert line.endswith(", which is no longer running")
    assert not (tmp / "run" / LOCK_FILE).exists()
    return outcome(tmp / "run")


def test_killed_in_the_first_epoch(tmp, unbroken):
    proc = start("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp, killer=("step", 100))
    pid = killed(proc, tmp / "run")
    assert (tmp / "run/config.yaml").exists() and not (tmp / "run" / CHECKPOINT).exists()
    assert resume(tmp, pid) == unbroken  # from epoch 0


def stopped(proc):
    """Whether proc is stopped by a signal (state T in /proc/PID/stat)."""
    with open(f"/proc/{proc.pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def test_killed_mid_run(tmp, unbroken):
    # the run stops itself mid-epoch 7 and is killed from outside, however fast or slow the machine
    killer = ("pause", 6 * STEPS + STEPS // 3)
    proc = start("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp, killer=killer)
    wait_until(lambda: stopped(proc), proc)
    proc.kill()
    pid = killed(proc, tmp / "run")
    assert checkpoint_epoch(tmp / "run") == 6
    assert resume(tmp, pid) == unbroken


def test_killed_mid_epoch_twice(tmp, unbroken):
    proc = start(
        "train",
        "c.yaml",
        "--out",
        "run",
        "-q",
        "--no-plots",
        cwd=tmp,
        killer=("step", 3 * STEPS + STEPS // 2),
    )
    pid = killed(proc, tmp / "run")
    assert checkpoint_epoch(tmp / "run") == 3
    proc = start("train", "--resume", "run", "-q", "--no-plots", cwd=tmp, killer=("step", 9 * STEPS + 7))
    pid = killed(proc, tmp / "run")
    assert checkpoint_epoch(tmp / "run") == 12
    assert resume(tmp, pid) == unbroken


def test_killed_halfway_through_writing_a_checkpoint(tmp, unbroken):
    proc = start("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp, killer=("write", 5))
    pid = killed(proc, tmp / "run")
    assert checkpoint_epoch(tmp / "run") == 4
    assert [p.name.startswith(".checkpoint.npz.") for p in (tmp / "run").glob(".*.tmp")] == [True]
    assert resume(tmp, pid) == unbroken


def test_killed_between_the_two_renames_of_a_checkpoint(tmp, unbroken):
    proc = start("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp, killer=("rename", 7))
    pid = killed(proc, tmp / "run")
    assert not (tmp / "run" / CHECKPOINT).exists()
    assert load_checkpoint(tmp / "run/checkpoint.prev.npz").epoch == 6
    assert resume(tmp, pid) == unbroken


def test_killed_while_writing_the_model_file(tmp, unbroken):
    proc = start("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp, killer=("write-model", 0))
    pid = killed(proc, tmp / "run")
    assert checkpoint_epoch(tmp / "run") == 16 and not (tmp / "run/model.npz").exists()
    assert resume(tmp, pid) == unbroken


def interrupt(proc):
    """Ctrl-C to a run that stopped itself (killer kind "pause"), then let it go on."""
    wait_until(lambda: stopped(proc), proc)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGCONT)
    return proc.communicate(timeout=120)


def test_ctrl_c_saves_the_epoch_and_says_how_to_resume(tmp, unbroken):
    killer = ("pause", 3 * STEPS + STEPS // 2)  # Ctrl-C mid-epoch 4
    proc = start("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp, killer=killer)
    _, stderr = interrupt(proc)
    assert proc.returncode == 130
    epoch = checkpoint_epoch(tmp / "run")
    assert stderr.splitlines() == [
        f"trainer: interrupted: checkpoint of epoch {epoch} saved; resume with: trainer train --resume run"
    ]
    assert epoch == 4 and len(load_checkpoint(tmp / "run" / CHECKPOINT).history) == epoch
    assert len((tmp / "run/metrics.jsonl").read_text().splitlines()) == epoch  # flushed with the checkpoint
    assert resume(tmp) == unbroken


def test_ctrl_c_without_a_checkpoint_offers_no_resume(tmp):
    args = ("train", "c.yaml", "--out", "run", "--set", "train.checkpoint_every=0", "-q", "--no-plots")
    proc = start(*args, cwd=tmp, killer=("pause", 100))
    _, stderr = interrupt(proc)
    assert proc.returncode == 130 and not (tmp / "run" / CHECKPOINT).exists()
    assert stderr.splitlines() == [
        "trainer: interrupted: stopped; no checkpoint was saved "
        "(train.checkpoint_every is 0), so there is nothing to resume in run"
    ]


def test_resume_refuses_a_changed_config(tmp):
    proc = start("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp, killer=("step", STEPS + 1))
    killed(proc, tmp / "run")
    before = {p.name: p.read_bytes() for p in (tmp / "run").iterdir()}
    r = cli("train", "--resume", "run", "--set", "train.lr=0.01", "-q", "--no-plots", cwd=tmp)
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "trainer: error: cannot resume run: the config differs from its config.yaml "
        "(train.lr: 0.002 -> 0.01); resume without changes, or start a new run"
    ]
    assert {p.name: p.read_bytes() for p in (tmp / "run").iterdir()} == before


DIVERGING = """data: {params: {n_samples: 300}, val_size: 0.1}
train: {optimizer: sgd, lr: 1000, lr_schedule: constant, reg: 0, epochs: 60, early_stopping: true,
        patience: 100, checkpoint_seconds: 0}
"""


def json_texts(run_dir):
    """Every JSON text the run wrote: .json and .jsonl files, and the metadata inside .npz files."""
    for path in run_dir.iterdir():
        if path.suffix == ".json":
            yield path.name, path.read_text()
        elif path.suffix == ".jsonl":
            yield from ((path.name, line) for line in path.read_text().splitlines())
        elif path.suffix == ".npz":
            with zipfile.ZipFile(path) as zf:
                meta = np.lib.format.read_array(zf.open("metadata.npy"))
                yield path.name, meta.tobytes().decode()


def strict(text):
    def refuse(token):
        raise AssertionError(f"{token} in JSON")

    return json.loads(text, parse_constant=refuse)


def test_divergence_exits_3_keeping_the_best_finite_weights(tmp_path):
    (tmp_path / "c.yaml").write_text(DIVERGING)
    r = cli("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path)
    assert r.returncode == 3
    (line,) = r.stderr.splitlines()
    assert line.startswith("trainer: error: training diverged at epoch ")
    assert ", step " in line and "try a smaller train.lr (now 1000)" in line
    assert "the best weights (epoch 1) are saved in run/model.npz" in line
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} == {
        "config.yaml",
        "metrics.jsonl",
        "model.npz",
        "summary.json",
        "checkpoint.npz",
        "checkpoint.prev.npz",
    }
    texts = list(json_texts(run))
    assert {name for name, _ in texts} == {p.name for p in run.iterdir()} - {"config.yaml"}
    for _, text in texts:
        strict(text)  # no NaN or Infinity: every number finite
    summary = strict((run / "summary.json").read_text())
    assert summary["diverged"].startswith("training diverged") and summary["best_epoch"] == 1
    model = load_model(run / "model.npz")
    assert all(np.isfinite(a).all() for a in model.params.values())
    metrics = [strict(t) for n, t in texts if n == "metrics.jsonl"]
    assert len(metrics) == summary["epochs_run"] == load_checkpoint(run / CHECKPOINT).epoch
    assert all(np.isfinite(m["train_loss"]) for m in metrics)


SHORT = """name: short
data: {dataset: moons, params: {n_samples: 200}}
train: {epochs: 5, batch_size: 4, checkpoint_seconds: 0}
"""


def test_an_interrupted_run_points_every_command_at_resume(tmp_path):
    (tmp_path / "c.yaml").write_text(SHORT)
    proc = start(
        "train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path, killer=("step", 2 * 40 + 3)
    )
    pid = killed(proc, tmp_path / "run")  # 160 rows in batches of 4: mid-epoch 3, after epoch 2's checkpoint
    unfinished = (
        "a run that has not finished (no summary.json; checkpoint.npz holds epoch 2 of 5); "
        "if it was interrupted, go on with: trainer train --resume run"
    )
    before = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()}
    expected = {
        ("evaluate", "run"): f"run: {unfinished}",
        ("evaluate", "run/model.npz"): f"run/model.npz: no such model file; run: {unfinished}",
        ("predict", "run", "c.yaml"): f"run: {unfinished}",
        ("plot", "run"): f"run: {unfinished}",
        (
            "evaluate",
            "run/checkpoint.npz",
        ): f"run/checkpoint.npz: a training checkpoint, not a model file, of {unfinished}",
        (
            "train",
            "c.yaml",
            "--out",
            "run",
        ): f"run: {unfinished}; or choose another --out, or pass --overwrite to start again",
    }
    for args, message in expected.items():
        r = cli(*args, cwd=tmp_path)
        assert (r.returncode, r.stderr.splitlines()) == (1, [f"trainer: error: {message}"]), args
    assert {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir()} == before
    r = cli("train", "--resume", "run", "--no-plots", cwd=tmp_path)
    took_over, resuming = r.stderr.splitlines()
    assert r.returncode == 0 and resuming == "trainer: resuming run after epoch 2 of 5"
    assert took_over.startswith(
        f"trainer: warning: run/{LOCK_FILE}: taking over the lock left by process {pid} "
    )
    assert r.stdout.startswith("run run\n  epochs    5\n")
