"""Band goldens: the band is the seeds' per-epoch statistics; an unchanged process passes, on the
same seeds and on others; a real change is caught with a readable report; bad uses fail in one line."""

import json

import numpy as np
import pytest

from trainer.cli import main
from trainer.config.load import load_config
from trainer.curves import band as bands
from trainer.curves.golden import check, check_band, record_curve, update
from trainer.errors import ConfigError, TrainerError
from trainer.training import loop

TINY = """\
name: tiny
seed: 3
data: {dataset: moons, params: {n_samples: 300}, val_size: 0.2}
model: {hidden_size: 16}
train: {epochs: 60, batch_size: 32, lr: 0.01}
"""


@pytest.fixture
def golden(tmp_path):
    """A tiny config and its band golden over seeds 3-6, 12 epochs, written by `trainer curve update`."""
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    args = ["curve", "update", str(config), "--golden", str(tmp_path / "g.json"), "--epochs", "12"]
    assert main([*args, "--seeds", "4"]) == 0
    return config, tmp_path / "g.json"


def test_the_band_is_the_per_epoch_statistics_of_the_seeds_curves(golden):
    config, path = golden
    band = json.loads(path.read_text())["band"]
    assert band["seeds"] == [3, 4, 5, 6] and band["epochs_run"] == [12] * 4
    cfg = load_config(config)
    runs = np.array(
        [record_curve(load_config(config, [f"seed={s}"]), 12)["metrics"]["val_loss"] for s in range(3, 7)]
    )
    val = band["metrics"]["val_loss"]
    assert val["n"] == [4] * 12
    np.testing.assert_allclose(val["mean"], runs.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(val["std"], runs.std(axis=0, ddof=1), rtol=1e-12)
    assert val["min"] == list(runs.min(axis=0)) and val["max"] == list(runs.max(axis=0))
    assert set(band["metrics"]) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"}
    assert check(cfg, path).ok  # the exact lane still reads a band golden


def test_an_unchanged_process_passes_on_its_seeds_and_on_others(golden, capsys):
    config, path = golden
    assert main(["curve", "check", str(config), "--golden", str(path), "--band"]) == 0
    assert "ok: " in capsys.readouterr().out
    other = check_band(config, path, seeds="20-25")
    assert other.ok, other.report
    assert "now 20-25" in other.report


def test_a_real_change_is_caught_with_the_epoch_and_both_means(golden, monkeypatch):
    config, path = golden
    # L2 a hundred times stronger in the steps: the seeds' spread on 240 training rows hides far
    # smaller changes (scripts/band_table.py measures what it sees)
    engines = {
        k: (lambda X, y, p, b, reg, *weights, f=f: f(X, y, p, b, reg * 100, *weights))
        for k, f in loop.ENGINES.items()
    }
    monkeypatch.setattr(loop, "ENGINES", engines)
    result = check_band(config, path)
    assert not result.ok
    lines = result.report.splitlines()
    assert lines[0].startswith(f"FAILED: {config} departs from the band of {path}")
    assert "Bonferroni" in lines[0]
    assert lines[1].startswith("  first departure: epoch ") and "golden " in lines[1] and "p = " in lines[1]
    assert "flagged: train_loss at" in result.report
    assert result.got["metrics"]["train_loss"] != result.expected["metrics"]["train_loss"]


def test_compare_bands_counts_every_metric_epoch_and_alpha_is_corrected():
    e = {"seeds": [0, 1], "metrics": {"m": {"n": [2, 2], "mean": [1.0, 2.0], "std": [0.1, 0.1]}}}
    g = {"seeds": [5, 6], "metrics": {"m": {"n": [2, 2], "mean": [1.0, 2.5], "std": [0.1, 0.1]}}}
    diff = bands.compare_bands(e, g, "float64", alpha=0.01)
    assert diff.tests == 2 and diff.threshold == 0.005
    # epoch 2: t = 0.5 / 0.1 = 5 on 2 degrees of freedom, p = 0.038: not below 0.005
    assert diff.ok and diff.smallest.epoch == 2 and diff.smallest.p == pytest.approx(0.0377, abs=1e-4)
    assert not bands.compare_bands(e, g, "float64", alpha=0.2).ok


def test_a_refresh_keeps_the_band_seeds(golden):
    config, path = golden
    text = update(config, path)
    assert "band: 4 seeds (3-6)" in text and "curve unchanged, bit for bit" in text
    assert json.loads(path.read_text())["band"]["seeds"] == [3, 4, 5, 6]


def test_band_against_an_exact_golden_and_too_few_seeds_fail_in_one_line(golden, tmp_path):
    config, _ = golden
    update(config, tmp_path / "exact.json", epochs=3)
    with pytest.raises(TrainerError, match="exact.json: an exact golden, with no band") as e:
        check_band(config, tmp_path / "exact.json")
    assert e.value.exit_code == 1 and "--seeds 10" in str(e.value)
    with pytest.raises(ConfigError, match="a band needs at least 2 seeds"):
        update(config, tmp_path / "one.json", seeds="1")
    assert not (tmp_path / "one.json").exists()
