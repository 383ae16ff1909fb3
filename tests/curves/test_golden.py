"""The curve check can fail: a 1% lr, a 1e-6 gradient perturbation, a skipped epoch and a nudged golden
value are each caught with a readable report; a golden written by `curve update` passes; rounding-level
changes pass the default tolerance but not --exact; the golden's epoch cap and early stopping are honoured."""

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import cli

import trainer
from trainer.cli import main
from trainer.config.load import config_from_dict
from trainer.curves.golden import check, config_diff, record_curve, update
from trainer.curves.tolerance import TOLERANCE, compare_curves
from trainer.errors import DivergenceError
from trainer.runs import run
from trainer.storage.curvefile import read_curve
from trainer.storage.files import write_json
from trainer.testing import assert_curve_matches
from trainer.training import loop as train_module

TINY = """\
name: tiny
seed: 2
data: {dataset: moons, params: {n_samples: 300}, val_size: 0.1}
model: {hidden_size: 16}
train: {epochs: 60, batch_size: 32, lr: 0.01, early_stopping: true, patience: 20}
"""


@pytest.fixture
def golden(tmp_path):
    """A tiny config and its golden written by `trainer curve update` (20 of its 60 epochs)."""
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    assert (
        main(["curve", "update", str(config), "--golden", str(tmp_path / "tiny.json"), "--epochs", "20"]) == 0
    )
    return config, tmp_path / "tiny.json"


def failed(config, golden, **kwargs):
    """The report of a check that must fail."""
    with pytest.raises(AssertionError) as e:
        assert_curve_matches(config, golden, plot=False, **kwargs)
    return str(e.value)


def wrap_optimizer_step(monkeypatch, change):
    """Every optimizer step of the run gets (grads, lr) -> change(grads, lr); returns a call counter.

    The seam is the optimizer that run.start builds and the loop steps with, not the gradient
    function, so it survives rewrites of the model's hot loop."""
    calls, make = [0], run.make_optimizer

    def patched(*args, **kwargs):
        opt = make(*args, **kwargs)
        step = opt.step

        def changed(params, grads, lr):
            calls[0] += 1
            step(params, *change(grads, lr))

        opt.step = changed
        return opt

    monkeypatch.setattr(run, "make_optimizer", patched)
    return calls


def assert_full_report(report, metric=None):
    assert report.startswith("FAILED:")
    assert "first departure: epoch" in report and "expected" in report and ", got" in report
    assert "largest relative deviation:" in report and "epochs out of tolerance:" in report
    if metric:
        assert f"first departure: epoch 1, {metric}:" in report


def test_a_golden_written_by_update_passes(golden, capsys):
    config, path = golden
    got = assert_curve_matches(config, path, exact=True)
    assert got["epochs"] == 20 and got["metrics"] == read_curve(path)["metrics"]
    assert main(["curve", "check", str(config), "--golden", str(path)]) == 0
    assert capsys.readouterr().out.startswith(f"ok: {config} matches {path}")


def test_lr_one_percent_higher_in_the_code_fails(golden, monkeypatch):
    config, path = golden
    calls = wrap_optimizer_step(monkeypatch, lambda grads, lr: (grads, lr * 1.01))
    report = failed(config, path)
    assert calls[0] > 0
    assert_full_report(report, "train_loss")  # the recorded lr is unchanged: the losses catch it


def test_lr_one_percent_higher_in_the_config_names_the_key(golden):
    config, path = golden
    config.write_text(TINY.replace("lr: 0.01", "lr: 0.0101"))
    report = failed(config, path)
    assert "made from a different config" in report and "train.lr: 0.01 -> 0.0101" in report
    assert f"trainer curve update {config} --golden {path}" in report


def test_gradient_perturbed_by_1e6_relative_fails(golden, monkeypatch):
    config, path = golden
    rng = np.random.default_rng(7)  # its own Generator: the run's stream is untouched

    def change(g):
        return g * (1 + 1e-6 * rng.choice([-1.0, 1.0], g.shape))

    def perturb(grads, lr):  # grads: the loop's one flat array (or a dict of arrays)
        return ({k: change(g) for k, g in grads.items()} if isinstance(grads, dict) else change(grads)), lr

    calls = wrap_optimizer_step(monkeypatch, perturb)
    report = failed(config, path)
    assert calls[0] > 0
    assert_full_report(report)
    rel = float(report.split("largest relative deviation: ")[1].split()[0])
    assert rel > 100 * TOLERANCE["float64"][0]  # far outside, not a near miss


def test_one_epoch_skipped_in_training_fails(golden, monkeypatch):
    config, path = golden
    one_epoch = train_module.one_epoch

    def skipping(state, X, y, cfg, lr, *rest):
        if state.epoch == 4:  # the 5th epoch takes no step
            return state.history[-1]["train_loss"]
        return one_epoch(state, X, y, cfg, lr, *rest)

    monkeypatch.setattr(train_module, "one_epoch", skipping)
    report = failed(config, path)
    assert_full_report(report)
    assert "first departure: epoch 5, train_loss" in report


def test_one_epoch_missing_from_the_curve_fails(golden, tmp_path):
    config, path = golden
    curve = read_curve(path)
    for values in curve["metrics"].values():
        del values[9]
    curve["epochs_run"] -= 1
    write_json(tmp_path / "short.json", curve)
    report = failed(config, tmp_path / "short.json")
    assert "first departure: epoch 10," in report and "epochs run: expected 19, got 20" in report


def test_a_golden_value_nudged_at_one_epoch_fails(golden, tmp_path):
    config, path = golden
    curve = read_curve(path)
    curve["metrics"]["val_loss"][6] *= 1 + 1e-8
    write_json(tmp_path / "nudged.json", curve)
    report = failed(config, tmp_path / "nudged.json")
    expected = curve["metrics"]["val_loss"][6]
    assert f"first departure: epoch 7, val_loss: expected {expected!r}, got " in report
    assert (
        "epochs out of tolerance: 1 of 20" in report
        and "largest relative deviation: 1.0e-08 (epoch 7, val_loss)" in report
    )


def test_rounding_level_changes_pass_the_default_but_not_exact(golden, monkeypatch):
    config, path = golden
    prepare = run.prepare

    def one_ulp_up(*args, **kwargs):
        p = prepare(*args, **kwargs)
        p.train = (np.nextafter(p.train[0], np.inf), p.train[1])
        return p

    monkeypatch.setattr(run, "prepare", one_ulp_up)
    got = assert_curve_matches(config, path)
    assert got["metrics"] != read_curve(path)["metrics"]  # it did move, within the tolerance
    assert "FAILED" in failed(config, path, exact=True)


def test_the_golden_epoch_cap_and_early_stopping_are_honoured(tmp_path):
    config = tmp_path / "stops.yaml"
    config.write_text(TINY.replace("patience: 20", "patience: 2").replace("lr: 0.01", "lr: 0.3"))
    update(config, tmp_path / "g.json", epochs=40)
    g = read_curve(tmp_path / "g.json")
    assert g["epochs"] == 40 and g["config"]["train"]["epochs"] == 60
    assert g["stopped_early"] and g["epochs_run"] < 40 and g["best_epoch"] == g["epochs_run"] - 2
    result = check(config, tmp_path / "g.json", exact=True)
    assert result.ok and result.got["epochs_run"] == g["epochs_run"]


def test_a_missing_golden_fails_saying_how_to_create_it(tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    message = failed(config, tmp_path / "none.json")
    assert "no golden curve" in message and f"trainer curve update {config}" in message


def test_update_reports_how_the_golden_moved(golden, capsys):
    config, path = golden
    assert main(["curve", "update", str(config), "--golden", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {path}: 20 of the config's 60 epochs") and "unchanged, bit for bit" in out
    config.write_text(TINY.replace("lr: 0.01", "lr: 0.02"))
    assert main(["curve", "update", str(config), "--golden", str(path)]) == 0
    out = capsys.readouterr().out
    assert "config changed: train.lr: 0.01 -> 0.02" in out and "first change: epoch 1, train_loss" in out
    assert "beyond the default tolerance" in out and read_curve(path)["config"]["train"]["lr"] == 0.02


def test_update_that_fails_leaves_the_old_golden_intact(golden):
    config, path = golden
    before = path.read_bytes()
    config.write_text(TINY.replace("lr: 0.01", "lr: 1.0e+200, optimizer: sgd"))
    with pytest.raises(DivergenceError):
        update(config, path)
    assert path.read_bytes() == before and [p.name for p in path.parent.glob(".*.tmp")] == []


def test_update_several_configs_and_check_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("a", "b"):
        Path(f"{name}.yaml").write_text(TINY.replace("epochs: 60", "epochs: 8"))
    assert main(["curve", "update", "a.yaml", "b.yaml"]) == 0
    assert sorted(p.name for p in Path("tests/golden").iterdir()) == ["a.json", "b.json"]
    assert read_curve("tests/golden/a.json")["epochs"] == 8  # capped by the config's own epochs
    assert main(["curve", "check", "a.yaml", "b.yaml"]) == 0
    Path("c.yaml").write_text(TINY)
    assert main(["curve", "check", "a.yaml", "c.yaml"]) == 1
    assert "FAILED: no golden curve tests/golden/c.json" in capsys.readouterr().out


def test_compare_two_run_directories(tmp_path, capsys):
    cfg = config_from_dict(
        {"name": "t", "data": {"dataset": "iris"}, "train": {"epochs": 5, "batch_size": 16}}
    )
    trainer.train(cfg, tmp_path / "a")
    trainer.train(cfg, tmp_path / "b")
    assert main(["curve", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--exact"]) == 0
    cfg.train.lr *= 1.01
    trainer.train(cfg, tmp_path / "c")
    assert main(["curve", "compare", str(tmp_path / "a"), str(tmp_path / "c")]) == 1
    out = capsys.readouterr().out
    assert "note: the configs differ: train.lr: 0.001 -> 0.00101" in out and "first departure: epoch 1" in out


def test_the_report_names_the_platform_when_it_differs(golden, tmp_path):
    config, path = golden
    curve = read_curve(path)
    curve["platform"]["numpy"] = "1.26.4"
    curve["metrics"]["train_loss"][0] += 1e-3
    write_json(tmp_path / "other.json", curve)
    assert f'platform differs: numpy: "1.26.4" -> "{np.__version__}"' in failed(
        config, tmp_path / "other.json"
    )


def test_compare_counts_every_kind_of_difference():
    def curve(losses, best):
        return {
            "platform": {"dtype": "float64"},
            "epochs_run": len(losses),
            "best_epoch": best,
            "metrics": {"train_loss": losses, "lr": [0.1] * len(losses)},
        }

    a = curve([1.0, 0.5, 0.25, 0.125], 4)
    assert compare_curves(a, curve([1.0, 0.5, 0.25, 0.125], 4)).ok
    d = compare_curves(a, curve([1.0, 0.5 * (1 + 1e-9), 0.25 * (1 + 1e-6), 0.125], 4))
    assert (d.first.epoch, d.first.metric, d.bad_epochs) == (2, "train_loss", 2)
    assert (d.largest.epoch, math.isclose(d.largest.rel, 1e-6, rel_tol=1e-6)) == (3, True)
    assert compare_curves(a, curve([1.0, 0.5 * (1 + 1e-9), 0.25, 0.125], 4), rtol=1e-8).ok
    # the same values, but early stopping restored another epoch
    assert not compare_curves(a, curve([1.0, 0.5, 0.25, 0.125], 3)).ok
    short = compare_curves(a, curve([1.0, 0.5, 0.25], 3))
    assert not short.ok and short.epochs == (4, 3) and short.bad_epochs == 0
    zero = compare_curves(curve([0.0], 1), curve([1e-13], 1))
    assert zero.ok and zero.largest.rel == math.inf  # atol covers an expected 0
    assert not compare_curves(curve([0.0], 1), curve([-0.0], 1), exact=True).ok  # bitwise means bitwise


def test_a_key_the_golden_lacks_counts_only_when_moved_from_its_default():
    golden = {"train": {"lr": 0.01}}
    # shuffle at its default: a newer trainer's key, no change
    assert config_diff(golden, {"train": {"lr": 0.01, "shuffle": True}}) == []
    assert config_diff(golden, {"train": {"lr": 0.01, "shuffle": False}}) == [("train.shuffle", True, False)]
    assert config_diff({"train": {"lr": 0.01, "gone": 1}}, {"train": {"lr": 0.01}}) == [
        ("train.gone", 1, "<absent>")
    ]


def test_float32_defaults_are_looser(tmp_path):
    config = tmp_path / "f32.yaml"
    config.write_text(TINY.replace("hidden_size: 16", "hidden_size: 16, dtype: float32"))
    update(config, tmp_path / "g.json", epochs=5)
    d = compare_curves(
        read_curve(tmp_path / "g.json"),
        record_curve(
            config_from_dict(
                {**json.loads(json.dumps(read_curve(tmp_path / "g.json")["config"])), "name": "f32"}
            ),
            5,
        ),
    )
    assert (d.rtol, d.atol) == TOLERANCE["float32"] and d.ok


def test_without_plotting_a_failed_check_says_so_in_one_line(golden, tmp_path, monkeypatch):
    config, path = golden
    curve = read_curve(path)
    curve["metrics"]["train_loss"][3] *= 1.01
    write_json(tmp_path / "nudged.json", curve)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(AssertionError) as failed:
        assert_curve_matches(config, tmp_path / "nudged.json", plot=tmp_path / "overlay.png")
    assert str(failed.value).splitlines()[-1].startswith("  picture not drawn: matplotlib is not installed")
    assert not (tmp_path / "overlay.png").exists()


def test_the_help_states_the_default_tolerances(capsys):
    with pytest.raises(SystemExit):
        main(["curve", "check", "--help"])
    text = " ".join(capsys.readouterr().out.split())

    def short(x):
        return f"{x:.0e}".replace("e-0", "e-")  # 1e-3, 1e-10

    for dtype, (rtol, atol) in TOLERANCE.items():
        assert f"{short(rtol)} for {dtype}" in text and f"{short(atol)} for {dtype}" in text


def test_usage_and_file_errors_are_one_line_with_an_exit_code(tmp_path, capsys):
    assert main(["curve", "check", "a.yaml", "b.yaml", "--golden", "g.json"]) == 2
    (tmp_path / "bad.json").write_text("[1, 2")
    assert main(["curve", "compare", str(tmp_path / "bad.json"), str(tmp_path / "bad.json")]) == 1
    assert main(["curve", "check", str(tmp_path / "missing.yaml")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "--golden names one golden file" in err[0]
    assert "bad.json:1: malformed JSON" in err[1] and "no such config file" in err[2]


def test_update_replaces_an_unreadable_golden_and_says_so(golden):
    config, path = golden
    path.write_text("not json")
    assert "replaced an unreadable golden" in update(config, path)
    assert read_curve(path)["epochs"] == 50  # no old count to keep: the default cap


def test_compare_a_run_with_a_golden_of_fewer_epochs_says_the_schedule_spans_them(tmp_path):
    (tmp_path / "c.yaml").write_text("data: {dataset: iris}\ntrain: {epochs: 12, batch_size: 32}\n")
    r = cli("curve", "update", "c.yaml", "--golden", "g.json", "--epochs", "6", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert cli("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path).returncode == 0
    r = cli("curve", "compare", "g.json", "run", cwd=tmp_path)
    assert r.returncode == 1 and "first departure: epoch 2, train_loss" in r.stdout
    assert (
        "  note: the curves were trained for 6 and 12 epochs, and the cosine lr schedule spans a run's own "
        "epochs, so their lr differs from epoch 2 on; compare curves trained for as many epochs "
        "(`trainer curve check` trains a config for its golden's)"
    ) in r.stdout.splitlines()
    assert cli("curve", "check", "c.yaml", "--golden", "g.json", cwd=tmp_path).returncode == 0


def test_update_says_when_it_records_fewer_epochs_than_asked(tmp_path):
    (tmp_path / "c.yaml").write_text("data: {dataset: iris}\ntrain: {epochs: 4, batch_size: 64}\n")
    r = cli("curve", "update", "c.yaml", "--golden", "g.json", "--epochs", "500", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.splitlines()[:2] == [
        "wrote g.json: 4 of the config's 4 epochs (ran 4)",
        "  asked for 500 epochs, but the config trains 4 (train.epochs): recorded 4",
    ]
    assert read_curve(tmp_path / "g.json")["epochs"] == 4


def test_update_of_a_golden_that_gains_a_metric_says_the_rest_is_unchanged(golden, capsys):
    config, path = golden
    old = json.loads(path.read_text())
    del old["metrics"]["train_accuracy"]  # a golden written before the metric existed
    write_json(path, old)
    assert main(["curve", "update", str(config), "--golden", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "  metrics added: train_accuracy",
        "  every value the old golden holds is unchanged, bit for bit",
    ]
