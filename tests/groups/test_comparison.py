"""trainer compare: a clearly worse config is told apart, two backends' groups of one config are not,
the paired numbers are the seeds' own, and runs of other data are refused in one line."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import cli

from trainer.config.load import load_config
from trainer.errors import DataError, TrainerError
from trainer.groups import seed_group
from trainer.groups.comparison import compare

ROOT = Path(__file__).resolve().parents[2]
IRIS = ROOT / "configs" / "iris.yaml"


def group(out, overrides=(), backend="loky", n_jobs=1, spec=(0, 1, 2, 3)):
    with seed_group.new_group(load_config(IRIS, ["train.epochs=20", *overrides]), list(spec), out) as g:
        seed_group.run_group(g, n_jobs=n_jobs, backend=backend)
    return out


@pytest.fixture(scope="module")
def groups(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    return {
        "default": group(root / "default"),
        "threads": group(root / "threads", backend="threading", n_jobs=2),
        "worse": group(root / "worse", ["train.lr=1e-5"]),
    }


def test_a_clearly_worse_config_is_told_apart_with_a_paired_interval(groups):
    r = compare(groups["default"], groups["worse"])
    assert r["paired"] and r["config_diff"] == [{"key": "train.lr", "a": 0.01, "b": 1e-5}]
    acc = r["metrics"]["test.accuracy"]
    assert acc["ci_high"] < 0 and acc["verdict"] == "B lower" and acc["above"] == 0
    a = json.loads((groups["default"] / "summary.json").read_text())["per_seed"]["test.accuracy"]
    b = json.loads((groups["worse"] / "summary.json").read_text())["per_seed"]["test.accuracy"]
    assert acc["difference"] == pytest.approx(np.mean(np.subtract(b, a)), rel=1e-12)
    assert acc["a"]["mean"] == pytest.approx(np.mean(a)) and acc["b"]["std"] == pytest.approx(
        np.std(b, ddof=1)
    )
    assert "seconds" not in r["metrics"]  # the wall clock says nothing of the model


def test_two_backends_groups_of_one_config_are_not_separated(groups):
    r = compare(groups["default"], groups["threads"])
    assert r["paired"] and r["config_diff"] == []
    for key, m in r["metrics"].items():
        assert m["difference"] == 0 and m["ci_low"] == m["ci_high"] == 0, key
        assert m["verdict"] == "no clear difference" and m["equal"] == 4


def test_the_command_prints_a_table_and_json(groups, tmp_path):
    done = cli("compare", groups["default"], groups["worse"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "paired: both are groups over the same seeds" in out and "train.lr: 0.01 -> 1e-05" in out
    row = next(line for line in out.splitlines() if line.startswith("test.accuracy"))
    assert "B lower" in row and "B ahead in 0 of 4 seeds" in row
    as_json = cli("compare", groups["default"], groups["worse"], "--json", cwd=tmp_path)
    assert json.loads(as_json.stdout)["metrics"]["test.accuracy"]["verdict"] == "B lower"


def test_a_run_against_itself_says_every_metric_is_the_same_without_an_empty_table(groups, tmp_path):
    run = groups["default"] / "seed-2"
    done = cli("compare", run, run, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "every metric is the same on every run of both: " in done.stdout and "test.accuracy" in done.stdout
    assert "A mean ± std" not in done.stdout  # no table of only its header


def test_a_run_against_a_group_and_groups_over_other_seeds_are_unpaired(groups, tmp_path):
    r = compare(groups["default"] / "seed-2", groups["default"])
    assert not r["paired"] and "single run" in r["metrics"]["test.accuracy"]["method"]
    other = group(tmp_path / "other", spec=(5, 6))
    r = compare(groups["default"], other)
    assert not r["paired"] and r["metrics"]["test.accuracy"]["method"].startswith("Welch")


def test_other_data_or_class_sets_and_unfinished_groups_are_refused(groups, tmp_path):
    blobs = ["data.dataset=blobs", "data.params={n_samples: 120, centers: 3}", "model.init=he"]
    three = group(tmp_path / "three", blobs, spec=(0, 1))
    four = group(tmp_path / "four", [*blobs[:1], "data.params={n_samples: 120, centers: 4}"], spec=(0, 1))
    with pytest.raises(DataError, match="trained on iris and blobs"):
        compare(groups["default"], three)
    with pytest.raises(DataError, match=r"class sets differ \(\[0, 1, 2\] and \[0, 1, 2, 3\]\)"):
        compare(three, four)
    (four / "seed-1" / "summary.json").unlink()
    with pytest.raises(TrainerError, match="seed 1 of the group has not finished; finish it with"):
        compare(three, four)
