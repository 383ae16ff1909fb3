"""Seed groups: each seed's run directory is the single run with that seed, the summary recomputes
from them, any backend gives the same group, and --resume finishes a broken one."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import cli, outcome, trainer_env

from trainer.config.load import load_config
from trainer.groups import seed_group

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "configs" / "iris.yaml"
FAST = ["--set", "train.epochs=4", "-q", "--no-plots"]
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def single_run(out, seed, cwd):
    """`trainer train CONFIG --set seed=k` with BLAS on one thread, as each job of a group runs."""
    import subprocess
    import sys

    args = [
        sys.executable,
        "-m",
        "trainer",
        "train",
        str(IRIS),
        *FAST,
        "--set",
        f"seed={seed}",
        "--out",
        str(out),
    ]
    env = {**trainer_env(), **ONE_THREAD}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def group(tmp_path_factory):
    root = tmp_path_factory.mktemp("group")
    done = cli("train", IRIS, "--seeds", "3", "--out", root / "D", *FAST, cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def test_each_seed_is_the_single_run_with_that_seed(group):
    for seed in (0, 1, 2):
        single_run(group / f"single-{seed}", seed, group)
        assert outcome(group / "D" / f"seed-{seed}") == outcome(group / f"single-{seed}")
    assert (group / "D/seed-1/config.yaml").read_text().count("seed: 1") == 1
    assert "name: iris" in (group / "D/seed-1/config.yaml").read_text()


def test_the_summary_recomputes_from_the_seeds_summaries(group):
    summary = json.loads((group / "D/summary.json").read_text())
    per_seed = [json.loads((group / f"D/seed-{s}/summary.json").read_text()) for s in (0, 1, 2)]
    assert summary["seeds"] == [0, 1, 2] and summary["diverged"] == {}
    for key in ("test.accuracy", "train.loss", "epochs_run"):
        section, _, name = key.rpartition(".")
        values = [s[section][name] if section else s[name] for s in per_seed]
        m = summary["metrics"][key]
        assert summary["per_seed"][key] == values
        assert m["mean"] == pytest.approx(np.mean(values), rel=1e-15)
        assert m["std"] == pytest.approx(np.std(values, ddof=1), rel=1e-12, abs=1e-15)
        assert (m["min"], m["median"], m["max"]) == (min(values), float(np.median(values)), max(values))
    assert "stopped_early" not in summary["metrics"] and "name" not in summary["metrics"]
    assert summary["interval"] == "Student's t, 95%"


def test_the_terminal_shows_the_table_and_the_group_its_band_picture(group):
    done = cli("train", IRIS, "--seeds", "0,2", "--out", group / "P", *FAST[:-2], cwd=group)
    assert done.returncode == 0, done.stderr
    assert "seed group" in done.stdout and "2 seeds (0,2)" in done.stdout
    assert "test.accuracy" in done.stdout and "95% CI of the mean" in done.stdout
    assert (group / "P/curves.png").read_bytes().startswith(b"\x89PNG")
    assert (group / "P/seed-2/curves.png").exists()  # each seed is a complete run, pictures too


def test_every_backend_and_n_jobs_give_the_same_group(tmp_path):
    cfg = load_config(IRIS, ["train.epochs=3"])
    runs = {}
    for backend, n_jobs in (("loky", 1), ("threading", 2), ("loky", 2)):
        with seed_group.new_group(cfg, [0, 5], tmp_path / f"{backend}{n_jobs}") as g:
            summary, ran = seed_group.run_group(g, n_jobs=n_jobs, backend=backend)
        assert ran == [0, 5]
        runs[backend, n_jobs] = [outcome(g.seed_dir(s)) for s in (0, 5)], summary["per_seed"]
    for _, per_seed in runs.values():
        assert len(per_seed.pop("seconds")) == 2  # wall clock: the one thing that differs
    first = runs["loky", 1]
    assert all(r == first for r in runs.values())


def test_resume_finishes_a_broken_group_without_redoing_finished_seeds(tmp_path):
    cfg = load_config(IRIS, ["train.epochs=3"])
    with seed_group.new_group(cfg, [0, 1, 2], tmp_path / "D") as g:  # locked until the with ends
        seed_group.run_group(g)
    whole = {s: outcome(g.seed_dir(s)) for s in (0, 1, 2)}
    # break it: seed 1 unfinished, seed 2 never started, the group's summary not written
    (g.seed_dir(1) / "summary.json").unlink()
    for p in g.seed_dir(2).iterdir():
        p.unlink()
    g.seed_dir(2).rmdir()
    (g.out / "summary.json").unlink()
    stamp = {p: p.stat().st_mtime_ns for p in g.seed_dir(0).iterdir()}
    anew = cli("train", IRIS, "--seeds", "3", "--out", g.out, cwd=tmp_path)  # a new group there
    assert (anew.returncode, anew.stderr) == (
        1,
        f"trainer: error: {g.out}: a seed group that has not finished (no summary.json); "
        f"go on with: trainer train --resume {g.out}; or choose another --out, or pass --overwrite "
        "to start again\n",
    )
    done = cli("train", "--resume", g.out, "-q", "--no-plots", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {p: p.stat().st_mtime_ns for p in g.seed_dir(0).iterdir()} == stamp
    assert {s: outcome(g.seed_dir(s)) for s in (0, 1, 2)} == whole
    again = cli("train", "--resume", g.out, "-q", cwd=tmp_path)
    assert again.returncode == 1 and "nothing to resume" in again.stderr


def test_a_diverging_seed_is_listed_and_exits_3(tmp_path):
    done = cli(
        "train", IRIS, "--seeds", "2", "--out", tmp_path / "D", "--set", "train.lr=1e30",
        "--set", "train.optimizer=sgd", *FAST, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "2 of 2 seeds diverged" in done.stderr and len(done.stderr.splitlines()) == 1
    summary = json.loads((tmp_path / "D/summary.json").read_text())
    assert set(summary["diverged"]) == {"0", "1"} and summary["metrics"] == {}
    assert summary["chance"] == {}  # its kept weights are at chance, but the seed is listed as diverged


def test_resume_refuses_a_changed_config(tmp_path):
    cfg = load_config(IRIS, ["train.epochs=3"])
    seed_group.new_group(cfg, [0], tmp_path / "D").lock.release()
    done = cli("train", IRIS, "--resume", tmp_path / "D", "--set", "train.epochs=5", cwd=tmp_path)
    assert done.returncode == 2 and "train.epochs: 3 -> 5" in done.stderr
    assert not os.path.exists(tmp_path / "D/seed-0")


def test_seeds_at_chance_level_are_listed_and_fail_on_chance_exits_4(tmp_path):
    args = ("train", ROOT / "configs/moons.yaml", "--seeds", "2", "--set", "train.lr=1e3", "--set")
    done = cli(*args, "train.epochs=20", "--out", "D", "-q", "--no-plots", cwd=tmp_path)
    summary = json.loads((tmp_path / "D/summary.json").read_text())
    assert set(summary["chance"]) == {"0", "1"} and summary["metrics"]["train.accuracy"]["max"] == 0.5
    for seed in ("0", "1"):  # each seed's own warning
        run = json.loads((tmp_path / f"D/seed-{seed}/summary.json").read_text())
        assert summary["chance"][seed] == run["warning"]
    assert done.returncode == 0
    assert done.stderr == (
        f"trainer: warning: 2 of 2 seeds at chance level (seed 0, 1: {summary['chance']['0']})\n"
    )
    failing = cli(
        *args, "train.epochs=20", "--out", "F", "-q", "--no-plots", "--fail-on-chance", cwd=tmp_path
    )
    assert failing.returncode == 4 and failing.stderr.startswith("trainer: error: 2 of 2 seeds at chance")
    assert (tmp_path / "F/summary.json").exists()
    learned = cli("train", IRIS, "--seeds", "2", *FAST, "--fail-on-chance", "--out", "L", cwd=tmp_path)
    assert (learned.returncode, learned.stderr, learned.stdout) == (0, "", "L\n")  # -q: the group's path
    assert json.loads((tmp_path / "L/summary.json").read_text())["chance"] == {}
