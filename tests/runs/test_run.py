"""A training run through the Python API: saved models round-trip, evaluation reproduces the summary."""

import types
from pathlib import Path

import numpy as np
import pytest

import trainer
from trainer.config.load import config_from_dict
from trainer.data.prepare import prepare


def small(dataset="moons", **train):
    return config_from_dict({"name": "t", "data": {"dataset": dataset}, "train": {"epochs": 5, **train}})


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_saved_model_predicts_exactly_what_the_trained_params_predict(tmp_path, dtype):
    cfg = small("iris")
    cfg.model.dtype = dtype
    result = trainer.train(cfg, tmp_path / "run")
    model = trainer.load_model(tmp_path / "run/model.npz")
    for k, v in result.state.params.items():
        assert v.dtype == model.params[k].dtype == np.dtype(dtype)
        assert np.array_equal(v, model.params[k])
    data = prepare(cfg.data, np.random.default_rng(cfg.seed), dtype)
    assert (
        model.transform(data.raw.test).tobytes() == data.test[0].tobytes()
    )  # the raw rows, transformed alike
    assert np.array_equal(
        trainer.model.network.predict_proba(result.state.params, data.test[0]),
        trainer.model.network.predict_proba(model.params, data.test[0]),
    )
    assert model.classes == ["setosa", "versicolor", "virginica"]
    assert model.feature_names[0] == "sepal length (cm)"
    assert model.config["model"]["dtype"] == dtype


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_evaluate_api_equals_the_summary(tmp_path, dtype):
    cfg = small("wine")
    cfg.model.dtype = dtype
    result = trainer.train(cfg, tmp_path / "run")
    report = trainer.evaluate_model(trainer.load_model(tmp_path / "run/model.npz"))
    assert report["accuracy"] == result.summary["test"]["accuracy"]
    assert report["loss"] == result.summary["test"]["loss"]


def test_same_config_same_run(tmp_path):
    a = trainer.train(small(), tmp_path / "a")
    b = trainer.train(small(), tmp_path / "b")

    def strip(h):
        return [{k: v for k, v in r.items() if k != "epoch_seconds"} for r in h]

    assert strip(a.state.history) == strip(b.state.history)
    for k in a.state.params:
        assert np.array_equal(a.state.params[k], b.state.params[k])


def test_another_seed_another_run(tmp_path):
    cfg = small()
    a = trainer.train(cfg, tmp_path / "a")
    cfg.seed = 1
    b = trainer.train(cfg, tmp_path / "b")
    assert a.state.history[0]["train_loss"] != b.state.history[0]["train_loss"]


def test_full_batch_and_no_splits(tmp_path):
    cfg = config_from_dict(
        {
            "data": {"dataset": "spiral", "test_size": 0, "val_size": 0, "standardize": False},
            "train": {"epochs": 3, "batch_size": None, "early_stopping": False},
        }
    )
    result = trainer.train(cfg, tmp_path / "run")
    assert "test" not in result.summary and "val" not in result.summary and result.summary["n_train"] == 300
    model = trainer.load_model(tmp_path / "run/model.npz")
    assert model.prep.scaler_mean is None
    with pytest.raises(trainer.errors.DataError, match="no test split"):
        trainer.evaluate_model(model)


def test_run_files_get_the_mode_open_would_give(tmp_path):
    import os

    umask = os.umask(0o022)
    os.umask(umask)
    trainer.train(small(), tmp_path / "run")
    for name in ("config.yaml", "model.npz", "summary.json", "metrics.jsonl"):
        assert (tmp_path / "run" / name).stat().st_mode & 0o777 == 0o666 & ~umask


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except clause of the library catches it."""


def test_summary_json_is_written_last_so_a_run_killed_before_it_can_be_resumed(tmp_path, monkeypatch):
    import os

    from trainer.runs.run import resume_config, train

    cfg = small()
    whole = trainer.train(cfg, tmp_path / "whole")
    real_replace = os.replace

    def dying(src, dst):  # atomic_write puts every run file in place with os.replace
        if str(dst).endswith("curve.json"):
            raise Killed(dst)
        return real_replace(src, dst)

    (tmp_path / "run").mkdir()
    monkeypatch.setattr(os, "replace", dying)
    with pytest.raises(Killed):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run" / "summary.json").exists()  # the run is not marked finished ...
    written = []
    monkeypatch.setattr(
        os, "replace", lambda src, dst: written.append(Path(dst).name) or real_replace(src, dst)
    )
    resumed = train(resume_config(tmp_path / "run"), tmp_path / "run", resume=True)  # ... so it resumes
    assert written[-1] == "summary.json" and {"model.npz", "curve.json"} <= set(written)
    assert {**resumed.summary, "seconds": 0} == {**whole.summary, "seconds": 0}
    assert (tmp_path / "run" / "curve.json").read_text() == (tmp_path / "whole" / "curve.json").read_text()


def test_evaluate_refuses_a_csv_changed_since_training(tmp_path, capsys):
    from trainer.cli import main

    rows = [f"{x % 7},{x % 5 * 0.5},{'ab'[x % 2]}" for x in range(40)]
    (tmp_path / "d.csv").write_text("f1,f2,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "c.yaml").write_text("data: {dataset: csv, path: d.csv}\ntrain: {epochs: 2}\n")
    assert main(["train", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run"), "-q", "--no-plots"]) == 0
    model = trainer.load_model(tmp_path / "run/model.npz")
    assert trainer.evaluate_model(model)["accuracy"] == model.summary["test"]["accuracy"]
    (tmp_path / "d.csv").write_text("f1,f2,label\n" + "\n".join("1" + row for row in rows) + "\n")  # f1 += 10
    with pytest.raises(
        trainer.errors.DataError, match="d.csv: the data changed since this model was trained"
    ):
        trainer.evaluate_model(model)
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "run/model.npz")]) == 1
    err = capsys.readouterr().err
    assert "d.csv: the data changed since this model was trained" in err and err.count("\n") == 1


DIVERGING = {
    "data": {"params": {"n_samples": 300}},  # early stopping off, checkpoints 1 s apart: the defaults
    "train": {"optimizer": "sgd", "lr": 1000, "lr_schedule": "constant", "reg": 0, "epochs": 60},
}


def test_divergence_saves_the_weights_of_the_last_epoch_to_end_finite(tmp_path):
    import json

    from trainer.runs.run import train

    ends = {}

    class Record:  # each epoch end's weights, copied by the test itself
        def on_epoch_end(self, state, record):
            ends[state.epoch] = {k: v.copy() for k, v in state.params.items()}

    (tmp_path / "run").mkdir()
    with pytest.raises(trainer.errors.DivergenceError) as caught:
        train(config_from_dict(DIVERGING), tmp_path / "run", [Record()])
    last = max(ends)
    assert last >= 2 and str(caught.value).startswith(f"training diverged at epoch {last + 1}, ")
    assert str(caught.value).endswith(
        f"; the weights of epoch {last}, the last to end finite, "
        f"are saved in {tmp_path / 'run' / 'model.npz'}"
    )
    model = trainer.load_model(tmp_path / "run/model.npz")
    for k, a in ends[last].items():
        assert np.array_equal(model.params[k], a) and not np.array_equal(a, ends[last - 1][k])
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["diverged"] == model.summary["diverged"] == str(caught.value).split("; the weights")[0]
    assert summary["epochs_run"] == summary["best_epoch"] == last
    assert len((tmp_path / "run/metrics.jsonl").read_text().splitlines()) == last
    assert not (tmp_path / "run/curve.json").exists()  # a diverged run is no curve to compare against


def test_divergence_in_the_first_epoch_saves_no_weights(tmp_path):
    from trainer.runs.run import train

    cfg = config_from_dict(
        {
            "data": {"params": {"n_samples": 300}},
            "model": {"init": "normal", "init_std": 1e160},  # scores overflow at once
            "train": {"optimizer": "sgd", "lr": 1, "epochs": 3},
        }
    )
    (tmp_path / "run").mkdir()
    with pytest.raises(
        trainer.errors.DivergenceError,
        match=r"^training diverged at epoch 1, step 1: .*; "
        r"no epoch ended, so no weights were saved$",
    ):
        train(cfg, tmp_path / "run")
    assert not (tmp_path / "run/model.npz").exists() and not (tmp_path / "run/summary.json").exists()


def test_the_metrics_file_is_written_before_every_checkpoint(tmp_path, monkeypatch):
    import trainer.storage.checkpoint as checkpoint

    seen = []  # epochs in metrics.jsonl as each checkpoint is written
    write = checkpoint.atomic_write

    def spy(path, *args, **kwargs):
        seen.append(len((tmp_path / "run/metrics.jsonl").read_text().splitlines()))
        return write(path, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "atomic_write", spy)
    trainer.train(small(checkpoint_seconds=0.0), tmp_path / "run")  # epochs far shorter than a second
    assert seen == [1, 2, 3, 4, 5]


def test_the_metrics_file_is_written_after_an_epoch_longer_than_a_second(tmp_path, monkeypatch):
    import trainer.runs.callbacks as callbacks

    clock = iter([0.5, 0.9, 2.5, 2.5, 2.6])  # epoch ends at 0.5 and 0.9 s, then one taking 1.6 s
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: next(clock))
    writer, state = callbacks.MetricsWriter(tmp_path / "m.jsonl"), types.SimpleNamespace(history=[])
    writer.last = 0.0
    lines = []
    for epoch in (1, 2, 3):
        state.history.append({"epoch": epoch})
        writer.on_epoch_end(state, state.history[-1])
        path = tmp_path / "m.jsonl"
        lines.append(len(path.read_text().splitlines()) if path.exists() else 0)
    assert lines == [0, 0, 3]


@pytest.mark.parametrize(
    "record, shown",
    [
        ({"train_loss": 0.5, "train_accuracy": 0.75, "lr": 0.1}, "train_loss=0.5000, train_accuracy=0.7500"),
        (
            {"train_loss": 0.5, "train_accuracy": 0.75, "val_loss": 0.6, "val_accuracy": 0.7},
            "train_loss=0.5000, val_loss=0.6000, val_accuracy=0.7000",
        ),
    ],
)
def test_the_progress_bar_shows_an_accuracy_with_or_without_a_val_split(record, shown):
    import io
    from types import SimpleNamespace

    from trainer.runs.callbacks import ProgressBar

    bar = ProgressBar(3, every=0.0)
    bar.on_train_begin(SimpleNamespace(epoch=0))
    bar.bar.fp = io.StringIO()  # tqdm writes here instead of stderr
    bar.on_epoch_end(None, record)
    assert bar.bar.postfix == shown
    bar.close()
