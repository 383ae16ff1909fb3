"""Curve files: exact float round trip, what a curve holds, a config hash free of machine paths,
curve.json in every run directory, and bitwise determinism in one process and across two."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import trainer

from trainer import train
from trainer.config.diff import config_hash
from trainer.config.load import config_from_dict, load_config
from trainer.curves.golden import record_curve
from trainer.errors import TrainerError
from trainer.storage.curvefile import FORMAT, VERSION, canonical_config, curve_metrics, read_curve
from trainer.storage.files import write_json

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "name": "tiny",
    "seed": 1,
    "data": {"dataset": "moons", "params": {"n_samples": 200}, "val_size": 0.1},
    "model": {"hidden_size": 8},
    "train": {"epochs": 6, "batch_size": 32, "lr": 0.01, "early_stopping": True, "patience": 3},
}


def tiny(**train):
    return config_from_dict({**TINY, "train": {**TINY["train"], **train}})


def bits(values):
    """float64 bit patterns: equal only when the floats are bitwise equal."""
    return np.asarray(values, dtype=np.float64).view(np.uint64).tolist()


def test_json_floats_round_trip_bitwise():
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 2**64, 20000, dtype=np.uint64).view(np.float64)  # every exponent, both signs
    special = [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3, -0.0, 0.0]
    values = [float(v) for v in raw[np.isfinite(raw)]] + special
    back = json.loads(json.dumps(values))
    assert bits(back) == bits(values)


def test_a_written_curve_reads_back_bitwise(tmp_path):
    curve = record_curve(tiny())
    write_json(tmp_path / "c.json", curve)
    back = read_curve(tmp_path / "c.json")
    assert back == curve
    for k in curve["metrics"]:
        assert bits(back["metrics"][k]) == bits(curve["metrics"][k])


def test_a_curve_holds_the_deterministic_metrics_config_and_platform():
    curve = record_curve(tiny())
    assert curve["format"] == FORMAT and curve["version"] == VERSION
    assert list(curve["metrics"]) == ["train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"]
    assert all(len(v) == curve["epochs_run"] for v in curve["metrics"].values())
    assert curve["config"]["train"]["lr"] == 0.01 and "name" not in curve["config"]
    assert curve["config_hash"] == config_hash(curve["config"])
    p = curve["platform"]
    assert p["numpy"] == np.__version__ and p["dtype"] == "float64" and p["blas"]["name"]
    assert {"python", "machine", "scikit_learn", "trainer"} <= set(p)


def test_wall_clock_fields_are_left_out_and_other_metrics_kept():
    history = [
        {"epoch": 1, "train_loss": 0.5, "epoch_seconds": 0.01, "eval_time": 2.0, "grad_norm": 3},
        {"epoch": 2, "train_loss": 0.4, "epoch_seconds": 0.02, "eval_time": 2.0, "grad_norm": 2},
    ]
    assert curve_metrics(history) == {"train_loss": [0.5, 0.4], "grad_norm": [3.0, 2.0]}


def test_config_hash_ignores_the_name_and_where_the_csv_lives(tmp_path):
    for d in ("a", "b/deeper"):
        (tmp_path / d).mkdir(parents=True)
        shutil.copy(ROOT / "data/example.csv", tmp_path / d / "fruit.csv")
        (tmp_path / d / "c.yaml").write_text(
            f"name: n{len(d)}\ndata: {{dataset: csv, path: fruit.csv, target: label}}\n"
        )
    a, b = (canonical_config(load_config(tmp_path / d / "c.yaml")) for d in ("a", "b/deeper"))
    assert a == b and config_hash(a) == config_hash(b)
    assert a["data"]["path"]["file"] == "fruit.csv" and str(tmp_path) not in json.dumps(a)
    with open(tmp_path / "b/deeper/fruit.csv", "a") as f:
        f.write("150,7.0,10.0,3.5,apple\n")
    changed = canonical_config(load_config(tmp_path / "b/deeper/c.yaml"))
    assert config_hash(changed) != config_hash(a)
    assert changed["data"]["path"]["sha256"] != a["data"]["path"]["sha256"]


def test_config_hash_changes_with_anything_that_changes_the_numbers():
    base = config_hash(canonical_config(tiny()))
    assert config_hash(canonical_config(tiny(lr=0.0101))) != base
    assert config_hash(canonical_config(config_from_dict({**TINY, "seed": 2}))) != base
    assert config_hash(canonical_config(config_from_dict({**TINY, "name": "other"}))) == base


@pytest.mark.parametrize("config", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.stem)
def test_each_golden_holds_the_hash_of_its_config(config):
    golden = json.loads((ROOT / "tests/golden" / f"{config.stem}.json").read_text())
    assert (
        golden["config_hash"]
        == config_hash(canonical_config(load_config(config)))
        == config_hash(golden["config"])
    )


def test_every_run_directory_has_its_curve(tmp_path):
    result = train(tiny(), tmp_path / "run")
    curve = read_curve(tmp_path / "run")  # a run directory reads as its curve.json
    assert curve["metrics"]["train_loss"] == [r["train_loss"] for r in result.state.history]
    assert curve["epochs_run"] == result.summary["epochs_run"]
    assert curve["metrics"] == record_curve(tiny())["metrics"]  # the run trains what the check trains


def test_same_config_same_curve_bitwise_in_one_process():
    a, b = record_curve(tiny(epochs=12)), record_curve(tiny(epochs=12))
    assert json.dumps(a) == json.dumps(b)


def test_same_config_same_curve_file_bytes_across_two_processes(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(json.dumps({**TINY, "train": {**TINY["train"], "epochs": 12}}))  # JSON is YAML
    for out in ("a", "b"):
        r = trainer("train", config, "--out", tmp_path / out, "--quiet", "--no-plots", timeout=120)
        assert r.returncode == 0, r.stderr
    a, b = ((tmp_path / out / "curve.json").read_bytes() for out in ("a", "b"))
    assert a == b
    assert json.loads(a)["metrics"] == record_curve(load_config(config))["metrics"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "malformed JSON"),
        ('{"format": "other"}', "not a trainer curve file"),
        ('{"format": "trainer-curve", "version": 99}', "version 99"),
        (
            '{"format": "trainer-curve", "version": 1, "epochs": 3, "config": {}, "platform": {},'
            ' "metrics": []}',
            "'metrics'",
        ),
        (
            '{"format": "trainer-curve", "version": 1, "epochs": 3, "config": {}, "platform": {},'
            ' "metrics": {"a": [1], "b": [1, 2]}}',
            "one value per epoch",
        ),
    ],
)
def test_a_bad_curve_file_is_one_line_naming_the_file(tmp_path, text, message):
    (tmp_path / "c.json").write_text(text)
    with pytest.raises(TrainerError, match=message) as e:
        read_curve(tmp_path / "c.json")
    assert str(tmp_path / "c.json") in str(e.value) and "\n" not in str(e.value)


def test_a_missing_curve_file_is_named(tmp_path):
    with pytest.raises(TrainerError, match="no such curve file"):
        read_curve(tmp_path)  # a directory without curve.json
