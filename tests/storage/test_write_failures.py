"""Write failures (full disk, read-only or missing directory) give one clear line and exit 1, and
leave no half-written file and no temp file: the old version of the file stays."""

import errno
import json
import os
import tempfile
from pathlib import Path

import pytest
import yaml

from trainer.cli import main
from trainer.storage.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint
from trainer.storage.modelfile import load_model

CONFIG = {
    "name": "w",
    "data": {"params": {"n_samples": 200}},
    "model": {"hidden_size": 8},
    "train": {"epochs": 5, "batch_size": 32, "early_stopping": False, "checkpoint_seconds": 0},
}


@pytest.fixture
def tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(CONFIG))
    return tmp_path


class FullDisk:
    """Writes to the temp files of `name` (from the `after`-th such file on) write half, then fail
    with ENOSPC, as on a full disk."""

    def __init__(self, monkeypatch, name, after=0):
        self.prefix, self.after, self.opened, self.failing = f".{name}.", after, 0, set()
        self.real_mkstemp, self.real_write = tempfile.mkstemp, os.write
        monkeypatch.setattr(tempfile, "mkstemp", self.mkstemp)
        monkeypatch.setattr(os, "write", self.write)

    def mkstemp(self, *args, prefix="", **kwargs):
        fd, path = self.real_mkstemp(*args, prefix=prefix, **kwargs)
        if prefix == self.prefix:
            if self.opened >= self.after:
                self.failing.add(fd)
            self.opened += 1
        return fd, path

    def write(self, fd, data):
        if fd in self.failing:
            self.real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.real_write(fd, data)


def files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def one_error(capsys, code, expected):
    assert code == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [f"trainer: error: {expected}"]


def no_temp_files(root):
    assert not [p.name for p in root.rglob("*.tmp")]


@pytest.mark.parametrize(
    "name", ["config.yaml", "metrics.jsonl", "checkpoint.npz", "model.npz", "summary.json"]
)
def test_a_full_disk_while_writing_a_run_file(tmp, capsys, monkeypatch, name):
    assert main(["train", "c.yaml", "--out", "run", "-q", "--no-plots"]) == 0
    before = files(tmp)
    with monkeypatch.context() as m:
        FullDisk(m, name)
        one_error(
            capsys,
            main(["train", "c.yaml", "--out", "run", "--overwrite", "-q", "--no-plots"]),
            f"cannot write run/{name}: No space left on device",
        )
    after = files(tmp)
    if name != "checkpoint.npz":  # the finished run held none; the failed one left its last
        assert after[f"run/{name}"] == before[f"run/{name}"]
    assert set(after) - {f"run/{CHECKPOINT}", f"run/{PREVIOUS}"} == set(before)
    no_temp_files(tmp)
    load_model(tmp / "run/model.npz")  # every file there is whole: the old or the new version
    json.loads((tmp / "run/summary.json").read_text())
    [json.loads(line) for line in (tmp / "run/metrics.jsonl").read_text().splitlines()]


def test_a_full_disk_mid_training_keeps_the_checkpoints_and_the_run_resumes(tmp, capsys, monkeypatch):
    assert main(["train", "c.yaml", "--out", "whole", "-q", "--no-plots"]) == 0
    with monkeypatch.context() as m:
        FullDisk(m, "checkpoint.npz", after=3)
        one_error(
            capsys,
            main(["train", "c.yaml", "--out", "run", "-q", "--no-plots"]),
            "cannot write run/checkpoint.npz: No space left on device",
        )
    no_temp_files(tmp)
    assert (
        load_checkpoint(tmp / "run" / CHECKPOINT).epoch,
        load_checkpoint(tmp / "run" / PREVIOUS).epoch,
    ) == (3, 2)
    assert main(["train", "--resume", "run", "-q", "--no-plots"]) == 0
    whole, resumed = load_model(tmp / "whole/model.npz"), load_model(tmp / "run/model.npz")
    assert all(whole.params[k].tobytes() == resumed.params[k].tobytes() for k in whole.params)


def test_a_full_disk_while_writing_predictions(tmp, capsys, monkeypatch):
    assert main(["train", "c.yaml", "--out", "run", "-q", "--no-plots"]) == 0
    (tmp / "in.csv").write_text("x0,x1\n0.1,0.2\n1.5,-0.3\n")
    (tmp / "preds.csv").write_text("old predictions\n")
    FullDisk(monkeypatch, "preds.csv")
    one_error(
        capsys,
        main(["predict", "run/model.npz", "in.csv", "-o", "preds.csv"]),
        "cannot write preds.csv: No space left on device",
    )
    assert (tmp / "preds.csv").read_text() == "old predictions\n"
    no_temp_files(tmp)


@pytest.mark.parametrize("err", [errno.EROFS, errno.EACCES])
def test_a_read_only_output_directory(tmp, capsys, monkeypatch, err):
    # simulated: as root (CI containers) a chmod'ed directory stays writable
    def refuse(*args, **kwargs):
        raise OSError(err, os.strerror(err))

    (tmp / "run").mkdir()
    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    one_error(
        capsys,
        main(["train", "c.yaml", "--out", "run", "-q", "--no-plots"]),
        f"cannot write run/config.yaml: {os.strerror(err)}",
    )
    assert list((tmp / "run").iterdir()) == []


def test_a_missing_output_directory_is_created_but_one_under_a_file_is_an_error(tmp, capsys):
    assert main(["train", "c.yaml", "--out", "a/b/run", "-q", "--no-plots"]) == 0
    assert (tmp / "a/b/run/model.npz").exists()
    (tmp / "file").write_text("x")
    one_error(
        capsys,
        main(["train", "c.yaml", "--out", "file/run", "-q", "--no-plots"]),
        "cannot create directory file/run: Not a directory",
    )
    assert Path(tmp / "file").read_text() == "x"
