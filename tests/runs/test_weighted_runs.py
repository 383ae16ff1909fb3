"""Runs with class weights, a weight column, and model.init_from: the weights reach training, the
summary adds balanced accuracy (unweighted, like every reported metric), a run starts from its
parent's weights and records its checksum, and resuming such a run is exact."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import outcome

import trainer
from trainer.config.load import config_from_dict
from trainer.errors import ConfigError, DataError
from trainer.model.network import PARAM_NAMES
from trainer.runs.run import resume_config, start, train, train_in_memory
from trainer.storage.curvefile import make_curve
from trainer.storage.modelfile import checksum
from trainer.training.loop import optimize

IMBALANCED = {
    "dataset": "classification",
    "params": {"n_classes": 2, "weights": [0.85, 0.15], "n_samples": 400},
}


def config(**sections):
    raw = {"name": "w", "data": IMBALANCED, "train": {"epochs": 4}}
    for k, v in sections.items():
        raw[k] = {**raw.get(k, {}), **v}
    return config_from_dict(raw)


def test_class_weights_reach_training_as_row_weights():
    cfg = config(train={"class_weight": "balanced"})
    data, state = train_in_memory(cfg)
    y = data.train[1]
    np.testing.assert_allclose(data.train_weight, (len(y) / (2 * np.bincount(y)))[y], rtol=1e-15)
    # the same training by hand, weights given to the loop
    plain = config(train={"class_weight": None})
    by_hand = start(plain)[1]
    optimize(by_hand, *data.train, plain.train, data.val, sample_weight=data.train_weight)
    for k in PARAM_NAMES:
        assert state.params[k].tobytes() == by_hand.params[k].tobytes()


def test_the_summary_adds_balanced_accuracy_beside_accuracy_and_evaluate_agrees(tmp_path):
    cfg = config(data={"val_size": 0.2})
    result = trainer.train(cfg, tmp_path / "run")
    s = result.summary
    for split in ("train", "val", "test"):
        assert set(s[split]) >= {"accuracy", "balanced_accuracy"}, split
    report = trainer.evaluate_model(trainer.load_model(tmp_path / "run/model.npz"))
    assert report["balanced_accuracy"] == s["test"]["balanced_accuracy"]
    recalls = [m["recall"] for m in report["per_class"].values()]
    assert report["balanced_accuracy"] == pytest.approx(np.mean(recalls), rel=1e-15)


def parent(tmp_path, **sections):
    result = trainer.train(config(**sections), tmp_path / "parent")
    return result, str(tmp_path / "parent" / "model.npz")


def test_init_from_starts_from_the_parents_weights_and_records_its_checksum(tmp_path):
    first, path = parent(tmp_path)
    seen = {}

    class AtStart:
        def on_train_begin(self, state):
            seen.update({k: v.copy() for k, v in state.params.items()})

    cfg = config(model={"init_from": path})
    result = train(cfg, _run_dir(tmp_path / "child"), [AtStart()])
    for k in PARAM_NAMES:
        assert seen[k].tobytes() == first.state.params[k].tobytes(), k
    assert result.state.optimizer.t == 4 * 10  # a fresh optimizer: 4 epochs of 320 rows in batches of 32
    child = trainer.load_model(tmp_path / "child" / "model.npz")
    assert child.parent_sha256 == checksum(trainer.load_model(path)) == checksum(first.model)
    assert child.config["model"]["init_from"] == path
    assert first.model.parent_sha256 is None
    # the starting weights come from the parent, the shuffles are a fresh run's: a lower first loss
    assert result.state.history[0]["train_loss"] < first.state.history[0]["train_loss"]


def _run_dir(path):
    path.mkdir()
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        ({"model": {"hidden_size": 7}}, "has hidden size 100, but model.hidden_size is 7"),
        (
            {"model": {"dtype": "float32"}},
            "holds float64 weights, but model.dtype is float32",
        ),
        ({"data": {"params": {"n_features": 5, "n_informative": 3}}}, "was trained on the features x0, x1"),
        ({"data": {"params": {"n_classes": 3}}}, "has the classes 0, 1; the data have 0, 1, 2"),
    ],
    ids=["hidden", "dtype", "features", "classes"],
)
def test_init_from_a_model_that_does_not_fit_is_a_config_error(tmp_path, change, message):
    _, path = parent(tmp_path)
    change = {**change, "model": {**change.get("model", {}), "init_from": path}}
    with pytest.raises(ConfigError) as e:
        start(config(**change))
    assert str(e.value).startswith(f"model.init_from: {path} ") and message in str(e.value)


def test_a_run_from_init_from_resumes_bit_for_bit_and_refuses_a_changed_parent(tmp_path):
    _, path = parent(tmp_path)
    cfg = config(model={"init_from": path}, train={"epochs": 6, "checkpoint_seconds": 0})
    train(cfg, _run_dir(tmp_path / "whole"))

    class Stop:
        def on_epoch_end(self, state, record):
            if state.epoch == 3:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, _run_dir(tmp_path / "cut"), [Stop()])
    train(resume_config(tmp_path / "cut"), tmp_path / "cut", resume=True)
    assert outcome(tmp_path / "cut") == outcome(tmp_path / "whole")
    model = trainer.load_model(tmp_path / "cut" / "model.npz")
    assert model.parent_sha256 == trainer.load_model(tmp_path / "whole" / "model.npz").parent_sha256

    with pytest.raises(KeyboardInterrupt):
        train(cfg, _run_dir(tmp_path / "again"), [Stop()])
    trainer.train(config(train={"epochs": 5}), tmp_path / "parent", overwrite=True)  # another parent
    with pytest.raises(
        DataError, match="the data or model.init_from differ from those the run was trained on"
    ):
        train(resume_config(tmp_path / "again"), tmp_path / "again", resume=True)


def test_the_canonical_config_names_the_parent_by_file_name_and_hash(tmp_path):
    _, path = parent(tmp_path)
    cfg = config(model={"init_from": path})
    data, state = train_in_memory(cfg)
    curve = make_curve(cfg, state)
    import hashlib

    assert curve["config"]["model"]["init_from"] == {
        "file": "model.npz",
        "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
    }
    json.dumps(curve)
