"""Ctrl-C once a run has finished (its model.npz and summary.json written) is no interruption: the
run prints its summary and exits 0, saying its pictures were skipped; `trainer plot` draws them, and
`--resume` says the run is finished. Ctrl-C before then is an interruption, also in a directory
holding an earlier run's summary.json (--overwrite). Each Ctrl-C is a KeyboardInterrupt raised, in
this process, where the signal would land."""

import pytest
from conftest import cli

from trainer.pictures import plots

CONFIG = "data: {dataset: moons, params: {n_samples: 200}}\ntrain: {epochs: 3, checkpoint_seconds: 0}\n"
NOTE = "trainer: note: Ctrl-C came once the run had finished: run holds its model.npz and summary.json"


@pytest.fixture
def tmp(tmp_path):
    (tmp_path / "c.yaml").write_text(CONFIG)
    return tmp_path


def ctrl_c(*args, **kwargs):
    raise KeyboardInterrupt


def summary_lines(text):
    """The printed summary but its clock and pictures, where an unbroken and a read-back run differ."""
    return [line for line in text.splitlines() if not line.lstrip().startswith(("time ", "pictures "))]


def test_ctrl_c_while_the_pictures_are_drawn_finishes_the_run(tmp, monkeypatch):
    unbroken = cli("train", "c.yaml", "--out", "unbroken", cwd=tmp)
    assert unbroken.returncode == 0 and "  pictures  curves.png" in unbroken.stdout
    save = plots.save
    drawn = []

    def one_then_ctrl_c(fig, path, *args):  # the first picture is written, then Ctrl-C
        if drawn:
            raise KeyboardInterrupt
        drawn.append(path)
        save(fig, path, *args)

    monkeypatch.setattr(plots, "save", one_then_ctrl_c)
    done = cli("train", "c.yaml", "--out", "run", cwd=tmp)
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"{NOTE}; its pictures were skipped: draw them with: trainer plot run\n"
    assert summary_lines(done.stdout) == summary_lines(unbroken.stdout.replace("run unbroken", "run run"))
    files = sorted(p.name for p in (tmp / "run").iterdir())
    assert files == ["config.yaml", "curve.json", "metrics.jsonl", "model.npz", "summary.json"]  # no part
    assert [str(p) for p in drawn] == ["run/curves.png"]  # drawn, then removed: a part is not the pictures
    monkeypatch.undo()
    assert cli("plot", "run", cwd=tmp).stdout.split() == [f"run/{p}" for p in plots.PICTURES]
    again = cli("train", "--resume", "run", cwd=tmp)
    assert again.returncode == 1
    assert again.stderr == (
        "trainer: error: run: the run has finished (it holds summary.json and model.npz); nothing to "
        "resume (its pictures: trainer plot run)\n"
    )


def test_ctrl_c_just_after_summary_json_is_written_finishes_the_run(tmp, monkeypatch):
    from trainer.runs import run

    write_json = run.write_json

    def ctrl_c_after_the_summary(path, obj):
        write_json(path, obj)
        if path.name == "summary.json":
            raise KeyboardInterrupt  # before the checkpoints are removed

    monkeypatch.setattr(run, "write_json", ctrl_c_after_the_summary)
    done = cli("train", "c.yaml", "--out", "run", "--no-plots", cwd=tmp)
    assert done.returncode == 0 and done.stderr == NOTE + "\n"  # --no-plots: no pictures to skip
    assert done.stdout.startswith("run run\n  epochs    3\n")
    files = sorted(p.name for p in (tmp / "run").iterdir())
    assert files == ["config.yaml", "curve.json", "metrics.jsonl", "model.npz", "summary.json"]


@pytest.mark.parametrize("where", ["start", "optimize"])  # before training, and in it
def test_ctrl_c_before_an_overwriting_run_finished_is_an_interruption(tmp, monkeypatch, where):
    """The earlier run's summary.json is not this run's: the run has not finished."""
    from trainer.runs import run

    assert cli("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp).returncode == 0
    earlier = (tmp / "run" / "summary.json").read_bytes()
    monkeypatch.setattr(run, where, ctrl_c)
    done = cli("train", "c.yaml", "--out", "run", "--overwrite", "-q", "--no-plots", cwd=tmp)
    assert done.returncode == 130 and done.stdout == ""
    assert done.stderr.startswith("trainer: interrupted: stopped; no checkpoint was saved")
    assert (tmp / "run" / "summary.json").read_bytes() == earlier
