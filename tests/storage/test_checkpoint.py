"""Checkpoints and resume, in process: a run stopped at any epoch end and resumed ends exactly as
an unbroken run; damaged checkpoints fall back; a changed config or data is refused."""

import io
import json
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.config.load import config_from_dict, dump_config
from trainer.errors import ConfigError, DataError, ModelFileError, TrainerError
from trainer.runs.run import resume_config, train
from trainer.storage.checkpoint import CHECKPOINT, PREVIOUS, load_checkpoint

SMALL = {
    "name": "small",
    "seed": 5,
    "data": {"params": {"n_samples": 240}, "val_size": 0.1},
    "model": {"hidden_size": 8},
    "train": {
        "epochs": 9,
        "batch_size": 16,
        "lr": 0.02,
        "lr_schedule": "cosine",
        "early_stopping": True,
        "patience": 6,
        "checkpoint_seconds": 0,
    },
}


def small(**train):
    raw = json.loads(json.dumps(SMALL))
    raw["train"].update(train)
    return config_from_dict(raw)


class Crash(Exception):
    pass


class CrashAt:
    """A callback that stops the run at the end of `epoch`, after the checkpoint was written."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, state, record):
        if record["epoch"] == self.epoch:
            raise Crash


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    run = tmp_path_factory.mktemp("unbroken")
    train(small(), run)
    return outcome(run)


def run_dir(tmp_path):
    """A new, empty run directory (these tests drive runs.run.train directly, with no claim)."""
    (tmp_path / "run").mkdir()
    return tmp_path / "run"


def crashed(tmp_path, epoch, cfg=None):
    run = run_dir(tmp_path)
    with pytest.raises(Crash):
        train(cfg or small(), run, [CrashAt(epoch)])
    return run


@pytest.mark.parametrize("epoch", [1, 4, 7, 8])  # it stops early after epoch 8
def test_a_run_stopped_at_any_epoch_resumes_to_the_same_files(tmp_path, unbroken, epoch):
    run = crashed(tmp_path, epoch)
    assert load_checkpoint(run / CHECKPOINT).epoch == epoch
    train(small(), run, resume=True)
    assert outcome(run) == unbroken
    # the best weights came back
    assert unbroken["summary"]["stopped_early"] and unbroken["summary"]["best_epoch"] == 2


def test_the_previous_checkpoint_is_kept(tmp_path):
    run = crashed(tmp_path, 5)
    assert load_checkpoint(run / CHECKPOINT).epoch == 5
    assert load_checkpoint(run / PREVIOUS).epoch == 4
    assert sorted(p.name for p in run.iterdir()) == [
        "checkpoint.npz",
        "checkpoint.prev.npz",
        "config.yaml",
        "metrics.jsonl",
    ]


def test_a_checkpoint_holds_the_whole_state(tmp_path):
    ckpt = load_checkpoint(crashed(tmp_path, 3) / CHECKPOINT)
    assert set(ckpt.params) == {"W1", "b1", "W2", "b2"} and ckpt.best_params is not None
    assert set(ckpt.optimizer) == {"t"} | {f"{s}.{k}" for s in ("m", "v") for k in ckpt.params}
    assert [r["epoch"] for r in ckpt.history] == [1, 2, 3]
    assert ckpt.meta["rng"]["bit_generator"] == "PCG64"
    assert {"best_score", "best_epoch", "bad_epochs", "stopped_early", "config_sha256", "data_sha256"} <= set(
        ckpt.meta
    )


def test_a_damaged_newest_checkpoint_falls_back_to_the_previous(tmp_path, unbroken):
    run = crashed(tmp_path, 6)
    data = (run / CHECKPOINT).read_bytes()
    (run / CHECKPOINT).write_bytes(data[: len(data) // 2])  # a flipped byte may land where no reader looks
    with pytest.warns(
        UserWarning, match=r"checkpoint.npz: truncated or damaged checkpoint .*; trying the one before it"
    ):
        train(small(), run, resume=True)
    assert outcome(run) == unbroken


def test_with_no_good_checkpoint_the_run_starts_over(tmp_path, unbroken):
    run = crashed(tmp_path, 2)
    (run / CHECKPOINT).write_bytes(b"garbage")
    (run / PREVIOUS).write_bytes(b"")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        train(small(), run, resume=True)
    assert len(seen) == 2
    assert outcome(run) == unbroken


def test_stray_temp_files_of_a_killed_write_are_removed(tmp_path, unbroken):
    run = crashed(tmp_path, 3)
    (run / ".checkpoint.npz.abc123.tmp").write_bytes(b"half")
    train(small(), run, resume=True)
    assert outcome(run) == unbroken


def test_a_changed_config_yaml_is_refused_naming_the_keys(tmp_path):
    run = crashed(tmp_path, 3)
    edited = small(lr=0.05, patience=7)
    (run / "config.yaml").write_text(dump_config(edited))
    with pytest.raises(
        ConfigError,
        match=r"was written with another config \(train.lr: 0.02 -> 0.05; train.patience: 6 -> 7\)",
    ):
        train(edited, run, resume=True)


def test_set_overrides_with_resume_count_as_changes(tmp_path):
    run = crashed(tmp_path, 3)
    with pytest.raises(ConfigError, match=r"differs from its config.yaml \(train.epochs: 9 -> 20\)"):
        resume_config(run, overrides=["train.epochs=20"])
    assert resume_config(run, overrides=["train.epochs=9"]) == small()  # the same value is no change
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({**SMALL, "seed": 6}))
    with pytest.raises(ConfigError, match=r"\(seed: 5 -> 6\)"):
        resume_config(run, other)


def test_changed_data_are_refused(tmp_path):
    csv = tmp_path / "d.csv"
    rows = [f"{i % 7},{i % 5},{'ab'[i % 2]}" for i in range(60)]
    csv.write_text("x,z,label\n" + "\n".join(rows) + "\n")
    cfg = config_from_dict(
        {
            "data": {"dataset": "csv", "path": str(csv), "target": "label"},
            "train": {"epochs": 4, "checkpoint_seconds": 0},
        }
    )
    run = crashed(tmp_path, 2, cfg)
    csv.write_text("x,z,label\n" + "\n".join(rows[::-1]) + "\n")
    with pytest.raises(DataError, match="the data differ from those the run was trained on"):
        train(cfg, run, resume=True)


def test_a_finished_run_has_no_checkpoints_and_is_not_resumed(tmp_path):
    run = run_dir(tmp_path)
    train(small(), run)
    assert not (run / CHECKPOINT).exists() and not (run / PREVIOUS).exists()
    with pytest.raises(TrainerError, match="the run has finished"):
        resume_config(run)


@pytest.mark.parametrize("every, epochs", [(0, []), (2, [2, 4]), (1, [1, 2, 3, 4, 5])])
def test_checkpoint_every(tmp_path, every, epochs):
    seen = []

    class Look:
        def on_epoch_end(self, state, record):
            path = run / CHECKPOINT
            seen.append(load_checkpoint(path).epoch if path.exists() else None)

    run = run_dir(tmp_path)
    with pytest.raises(Crash):
        train(small(checkpoint_every=every), run, [Look(), CrashAt(5)])
    assert sorted({e for e in seen if e}) == epochs


def test_checkpoint_seconds_throttles(tmp_path):
    run = crashed(tmp_path, 5, small(checkpoint_seconds=3600))
    assert not (run / CHECKPOINT).exists()


# ---------------------------------------------------------------- the file format


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    run = tmp_path_factory.mktemp("ckpt") / "run"
    run.mkdir()
    with pytest.raises(Crash):
        train(small(), run, [CrashAt(2)])
    return (run / CHECKPOINT).read_bytes()


def test_a_checkpoint_is_a_safe_archive_without_pickle(checkpoint_bytes):
    with np.load(io.BytesIO(checkpoint_bytes), allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)


def same_checkpoint(a, b):
    def arrays(c):
        return {**c.params, **c.optimizer, **{f"best.{k}": v for k, v in (c.best_params or {}).items()}}

    x, y = arrays(a), arrays(b)
    return (
        x.keys() == y.keys()
        and all(np.array_equal(x[k], y[k]) for k in x)
        and (a.history, a.meta) == (b.history, b.meta)
    )


@settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzz_flipped_and_truncated_checkpoints(tmp_path, checkpoint_bytes, data):
    raw = bytearray(checkpoint_bytes)
    for i, x in data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)), max_size=4)):
        raw[i] ^= x
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(bytes(raw))
    (tmp_path / "valid.npz").write_bytes(checkpoint_bytes)
    try:
        ckpt = load_checkpoint(path)
    except ModelFileError:
        return
    assert same_checkpoint(ckpt, load_checkpoint(tmp_path / "valid.npz"))


def test_a_checkpoint_is_not_a_model_and_the_reverse(tmp_path, checkpoint_bytes):
    from trainer.storage.modelfile import model_from_bytes

    with pytest.raises(
        ModelFileError, match="not a model file, of a run; go on with: trainer train --resume"
    ):
        model_from_bytes(checkpoint_bytes)
    run = run_dir(tmp_path)
    train(small(epochs=2), run)
    with pytest.raises(ModelFileError, match="unexpected member"):
        load_checkpoint(Path(run) / "model.npz")


@pytest.mark.parametrize(
    "history, message",
    [
        (b"[1]\n", "history:1: not a JSON object"),
        (b'{"epoch": 1}\n{"epoch": NaN}\n', "history:2: malformed JSON"),
        (b"\xff\n", "history is not UTF-8 text"),
    ],
)
def test_a_checkpoint_whose_history_is_not_json_records_is_refused(
    tmp_path, checkpoint_bytes, history, message
):
    from trainer.storage.archive import digest, pack, unpack
    from trainer.storage.checkpoint import MEMBERS

    arrays, meta = unpack(checkpoint_bytes, "c", MEMBERS, "checkpoint", 1 << 20)
    arrays["history"] = np.frombuffer(history, dtype=np.uint8)
    meta["sha256"] = digest(arrays)  # a consistent file: only the history's parse can refuse it
    (tmp_path / "c.npz").write_bytes(pack(arrays, meta))
    with pytest.raises(ModelFileError, match=message):
        load_checkpoint(tmp_path / "c.npz")


@pytest.mark.parametrize("every, hashed", [(0, 0), (1, 1)])
def test_the_data_are_hashed_once_and_only_when_a_checkpoint_is_written(tmp_path, monkeypatch, every, hashed):
    from trainer.storage import checkpoint

    calls = []
    digest = checkpoint.data_digest
    monkeypatch.setattr(checkpoint, "data_digest", lambda *args: calls.append(1) or digest(*args))
    train(small(checkpoint_every=every, epochs=4), run_dir(tmp_path))
    assert len(calls) == hashed
