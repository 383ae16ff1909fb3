"""Pictures of a run: real PNGs from `trainer train` and `trainer plot`, what each figure draws,
raw feature units, the 64-feature case, and training without matplotlib."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import HISTORY, cli
from matplotlib.collections import PathCollection
from matplotlib.image import imread

from trainer.cli import main
from trainer.config.load import config_from_dict
from trainer.data.prepare import prepare
from trainer.data.preprocess import standardize
from trainer.evaluate import evaluate, model_splits
from trainer.model.metrics import confusion_counts
from trainer.pictures import plots
from trainer.pictures.sparkline import BARS
from trainer.storage.curvefile import is_metric
from trainer.storage.modelfile import load_model

ROOT = Path(__file__).resolve().parents[2]
MOONS = """\
name: tiny_moons
seed: 3
data: {dataset: moons, params: {n_samples: 200, noise: 0.25}}
model: {hidden_size: 16}
train: {epochs: 40, batch_size: 32, lr: 0.05, patience: 4}
"""
DIGITS = """\
name: tiny_digits
data: {dataset: digits}
model: {hidden_size: 8}
train: {epochs: 2, batch_size: 256, lr: 0.01}
"""


def train_cli(tmp, text, out, *flags):
    cfg = tmp / f"{out}.yaml"
    cfg.write_text(text)
    return main(["train", str(cfg), "--out", str(tmp / out), *flags])


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    """A small moons run trained by the CLI with pictures on; (run dir, its stdout)."""
    tmp = tmp_path_factory.mktemp("moons")
    capture = _Capture()
    with capture:
        assert train_cli(tmp, MOONS, "run") == 0
    return tmp / "run", capture.text


class _Capture:
    """stdout of a block, for a module-scoped fixture (capsys is per test)."""

    def __enter__(self):
        import io

        self.old, sys.stdout = sys.stdout, io.StringIO()

    def __exit__(self, *exc):
        self.text, sys.stdout = sys.stdout.getvalue(), self.old


def assert_real_png(path, min_side=400):
    image = imread(path)  # (H, W, 4) floats in [0, 1]
    assert image.shape[0] >= min_side and image.shape[1] >= min_side
    rgb = (image[..., :3] * 255).round().astype(np.int64)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert len(colours) > 50 and image[..., :3].std() > 0.05, f"{path.name} looks blank"


def curve(run_dir):
    """metrics.jsonl without the wall-clock field."""
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k == "epoch" or is_metric(k)} for r in records]


# ---------------------------------------------------------------- trainer train / trainer plot


def test_train_writes_three_real_pictures_and_a_loss_sparkline(moons_run):
    run_dir, out = moons_run
    for name in plots.PICTURES:
        assert_real_png(run_dir / name)
    assert "  pictures  curves.png, confusion.png, boundary.png" in out
    spark = next(line for line in out.splitlines() if line.startswith("  objective"))
    bars = spark.split()[1]
    assert set(bars) <= set(BARS) and 2 <= len(bars) <= 40
    assert bars[0] == BARS[-1]  # the first epoch has the highest training loss


def test_plot_redraws_the_same_pictures_from_the_run_files(moons_run, capsys):
    run_dir, _ = moons_run
    before = {name: imread(run_dir / name) for name in plots.PICTURES}
    for name in plots.PICTURES:
        (run_dir / name).unlink()
    assert main(["plot", str(run_dir)]) == 0
    assert capsys.readouterr().out.split() == [str(run_dir / name) for name in plots.PICTURES]
    for name in plots.PICTURES:
        assert np.array_equal(imread(run_dir / name), before[name]), name


def test_plot_draws_svg_pdf_or_png_at_a_dpi_into_another_directory(moons_run, tmp_path):
    run_dir, _ = moons_run
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    for fmt, start in (("svg", b"<?xml"), ("pdf", b"%PDF-")):
        paths = [tmp_path / fmt / f"{name}.{fmt}" for name in plots.PICTURE_NAMES]
        drawn = []
        for _ in range(2):
            r = cli("plot", run_dir, "--out", tmp_path / fmt, "--format", fmt, cwd=tmp_path)
            assert r.returncode == 0 and r.stdout.split() == [str(p) for p in paths], r.stderr
            assert all(p.read_bytes().startswith(start) and p.stat().st_size > 5000 for p in paths)
            drawn.append([p.read_bytes() for p in paths])
        assert drawn[0] == drawn[1]  # no date or random id inside: the same run draws the same bytes
    r = cli("plot", run_dir, "--out", tmp_path / "png", "--dpi", "60", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for name in plots.PICTURES:  # half of the 120 dpi that `trainer train` draws at
        small, full = imread(tmp_path / "png" / name).shape, imread(run_dir / name).shape
        assert abs(2 * small[0] - full[0]) <= 2 and abs(2 * small[1] - full[1]) <= 2, name
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before  # the run directory untouched


def test_a_run_without_a_val_split_records_and_draws_its_train_accuracy(tmp_path):
    r = cli(
        "train", ROOT / "configs/iris.yaml", "--set", "train.epochs=4", "--out", "run", "-q", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    assert all("val_loss" not in rec and 0 <= rec["train_accuracy"] <= 1 for rec in records)
    curve = json.loads((tmp_path / "run/curve.json").read_text())["metrics"]
    assert curve["train_accuracy"] == [rec["train_accuracy"] for rec in records]
    # two panels side by side, loss and accuracy: 11 inches at 120 dpi (one panel alone is 6.4)
    assert imread(tmp_path / "run/curves.png").shape[1] == 11 * 120


def test_a_64_feature_run_has_curves_and_confusion_but_no_boundary(tmp_path, capsys):
    assert train_cli(tmp_path, DIGITS, "run") == 0
    assert "  pictures  curves.png, confusion.png\n" in capsys.readouterr().out
    assert_real_png(tmp_path / "run" / "curves.png")
    assert_real_png(tmp_path / "run" / "confusion.png")
    assert not (tmp_path / "run" / "boundary.png").exists()


def test_overwriting_a_run_leaves_none_of_its_pictures(tmp_path, capsys):
    assert train_cli(tmp_path, MOONS, "run", "-q") == 0
    assert train_cli(tmp_path, DIGITS, "run", "-q", "--overwrite") == 0  # 64 features: no boundary
    assert sorted(p.name for p in (tmp_path / "run").glob("*.png")) == ["confusion.png", "curves.png"]
    assert train_cli(tmp_path, DIGITS, "run", "-q", "--overwrite", "--no-plots") == 0
    assert not list((tmp_path / "run").glob("*.png"))


def test_no_plots_skips_the_pictures_and_trains_the_same_curve(moons_run, tmp_path, capsys):
    assert train_cli(tmp_path, MOONS, "run", "--no-plots") == 0
    assert "pictures" not in capsys.readouterr().out
    assert not any((tmp_path / "run" / name).exists() for name in plots.PICTURES)
    assert curve(tmp_path / "run") == curve(moons_run[0])


BLOCKED = """\
import sys

class NoMatplotlib:
    def find_spec(self, name, path=None, target=None):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"{name} is blocked by the test")

sys.meta_path.insert(0, NoMatplotlib())
from trainer.cli import main
code = main(sys.argv[1:])
assert not any(m.startswith("matplotlib") for m in sys.modules)
sys.exit(code)
"""


def test_training_without_matplotlib_succeeds_prints_one_hint_and_the_same_curve(moons_run, tmp_path):
    (tmp_path / "c.yaml").write_text(MOONS)
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED, "train", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    hint = [line for line in proc.stderr.splitlines() if plots.install_hint() in line]
    assert len(hint) == 1 and proc.stderr.strip() == hint[0]
    assert "  test      accuracy" in proc.stdout and "pictures" not in proc.stdout
    assert not any((tmp_path / "run" / name).exists() for name in plots.PICTURES)
    assert curve(tmp_path / "run") == curve(moons_run[0])
    a, b = load_model(tmp_path / "run" / "model.npz"), load_model(moons_run[0] / "model.npz")
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_a_failed_picture_does_not_fail_the_saved_run(tmp_path, monkeypatch, capsys):
    def broken(run_dir, **kwargs):
        raise RuntimeError("no room on the canvas")

    monkeypatch.setattr(plots, "plot_run", broken)
    assert train_cli(tmp_path, MOONS, "run") == 0
    err = capsys.readouterr().err
    assert err.startswith("trainer: warning: no pictures: no room on the canvas;") and err.count("\n") == 1
    assert (tmp_path / "run" / "summary.json").exists()
    with pytest.raises(RuntimeError):
        main(["--debug", "train", str(tmp_path / "run.yaml"), "--out", str(tmp_path / "again")])


def test_plot_without_matplotlib_is_a_one_line_error(moons_run, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # from here `import matplotlib` raises ImportError
    assert main(["plot", str(moons_run[0])]) == 1
    assert (
        capsys.readouterr().err
        == f"trainer: error: trainer plot needs matplotlib: {sys.executable} -m pip install "
        "'matplotlib>=3.6'\n"
    )


def test_plot_errors_name_the_problem(tmp_path, moons_run, capsys):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "metrics.jsonl").write_text('{"epoch": 1}\n')
    (tmp_path / "bad").mkdir()
    for name in ("model.npz", "summary.json"):
        (tmp_path / "bad" / name).write_bytes((moons_run[0] / name).read_bytes())
    (tmp_path / "bad" / "metrics.jsonl").write_text('{"epoch": 1}\n[1, 2]\n')
    cases = {
        tmp_path / "nope": "no such directory; `trainer plot` draws a seed group",
        tmp_path / "half": "incomplete run: no model.npz, summary.json",
        tmp_path / "bad": "metrics.jsonl:2: not a JSON object",
    }
    for run_dir, message in cases.items():
        assert main(["plot", str(run_dir)]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"trainer: error: {run_dir}") and message in err and err.count("\n") == 1


def test_plot_refuses_a_csv_changed_since_training(tmp_path, capsys):
    rows = [f"{x % 7},{x % 5 * 0.5},{'ab'[x % 2]}" for x in range(40)]
    (tmp_path / "d.csv").write_text("f1,f2,label\n" + "\n".join(rows) + "\n")
    config = "data: {dataset: csv, path: d.csv}\ntrain: {epochs: 2}\n"
    assert train_cli(tmp_path, config, "run", "-q") == 0
    assert (tmp_path / "run" / "boundary.png").exists()
    (tmp_path / "d.csv").write_text("f1,f2,label\n" + "\n".join("1" + row for row in rows) + "\n")  # f1 += 10
    assert main(["plot", str(tmp_path / "run")]) == 1
    assert "d.csv: the data changed since this model was trained" in capsys.readouterr().err


# ---------------------------------------------------------------- what the figures draw


def test_model_splits_are_the_training_splits_before_scaling(moons_run):
    model = load_model(moons_run[0] / "model.npz")
    cfg = config_from_dict(model.config)
    splits = model_splits(model)
    train, test = splits.train, splits.test
    data = prepare(cfg.data, np.random.default_rng(cfg.seed), cfg.model.dtype)
    for raw, ready in ((train, data.train), (test, data.test)):
        assert np.array_equal(standardize(raw.X, model.prep.scaler_mean, model.prep.scaler_scale), ready[0])
        assert np.array_equal(raw.y, ready[1])
    assert np.abs(train.X).max() > 1.5 and abs(train.X.mean(axis=0)[0]) > 0.2  # raw moons, not standardised


def test_confusion_counts_match_evaluate_and_the_cells_show_them(moons_run):
    model = load_model(moons_run[0] / "model.npz")
    test = model_splits(model).test
    counts = np.zeros((2, 2), dtype=np.int64)
    np.add.at(counts, (test.y, model.predict(test)), 1)  # row = true class, column = predicted
    assert counts.tolist() == evaluate(model)["confusion_matrix"]
    assert np.array_equal(confusion_counts(test.y, model.predict(test), 2), counts)  # what plot_run draws
    fig = plots.confusion_figure(counts, ["cat", "dog"], "t")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == [str(n) for n in counts.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")


def test_curves_draw_each_metric_per_epoch_and_mark_the_best_epoch():
    fig = plots.curves_figure(HISTORY, "moons: training curves (test accuracy 0.950)", best_epoch=9)
    loss, acc = fig.axes
    lines = {line.get_label(): line for ax in (loss, acc) for line in ax.get_lines()}
    epochs = [r["epoch"] for r in HISTORY]
    for ax, keys in ((loss, ("train_loss", "val_loss")), (acc, ("train_accuracy", "val_accuracy"))):
        for key in keys:
            line = lines[plots.CURVE_LABELS[key]]
            assert line.axes is ax and list(line.get_xdata()) == epochs
            assert list(line.get_ydata()) == [r[key] for r in HISTORY]
    assert "L2" in plots.CURVE_LABELS["train_loss"] and "running" in plots.CURVE_LABELS["train_accuracy"]
    legends = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in (loss, acc)]
    assert legends[0][:2] == [plots.CURVE_LABELS["train_loss"], plots.CURVE_LABELS["val_loss"]]
    assert legends[1][:2] == [plots.CURVE_LABELS["train_accuracy"], plots.CURVE_LABELS["val_accuracy"]]
    best = [ln for ax in (loss, acc) for ln in ax.get_lines() if ln.get_label().startswith("best epoch 9")]
    assert len(best) == 2 and all(list(ln.get_xdata()) == [9, 9] for ln in best)
    assert fig._suptitle.get_text() == "moons: training curves (test accuracy 0.950)"
    assert loss.get_yscale() == "log"  # the loss spans more than a factor of 10


def test_curves_without_a_val_split_show_the_labelled_objective_and_train_accuracy():
    history = [{k: v for k, v in r.items() if not k.startswith("val")} for r in HISTORY[:3]]
    loss, acc = plots.curves_figure(history, "t").axes
    assert [ln.get_label() for ln in loss.get_lines()] == [plots.CURVE_LABELS["train_loss"]]
    assert [t.get_text() for t in loss.get_legend().get_texts()] == [plots.CURVE_LABELS["train_loss"]]
    assert [ln.get_label() for ln in acc.get_lines()] == [plots.CURVE_LABELS["train_accuracy"]]
    assert list(acc.get_lines()[0].get_ydata()) == [r["train_accuracy"] for r in history]
    assert loss.get_yscale() == "linear" and (loss.get_ylabel(), acc.get_ylabel()) == ("loss", "accuracy")


def test_curves_of_a_run_recorded_before_train_accuracy_have_the_loss_panel_only():
    history = [{k: v for k, v in r.items() if "accuracy" not in k and k != "val_loss"} for r in HISTORY[:3]]
    fig = plots.curves_figure(history, "t")
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 1


def test_boundary_is_drawn_over_raw_units_with_train_and_test_points(moons_run):
    model = load_model(moons_run[0] / "model.npz")
    splits = model_splits(model)
    train, test = splits.train, splits.test
    ax = plots.boundary_figure(model, train, test, "t").axes[0]
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    shown = np.vstack([c.get_offsets() for c in scatters])
    assert np.array_equal(np.sort(shown, axis=0), np.sort(np.vstack([train.X, test.X]), axis=0))
    everything = np.vstack([train.X, test.X])
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < everything[:, 0].min() < everything[:, 0].max() < x1 and y0 < everything[:, 1].min()
    assert everything[:, 1].max() < y1 < everything[:, 1].max() + 0.2 * np.ptp(everything[:, 1])
    assert [ax.get_xlabel(), ax.get_ylabel()] == model.feature_names
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["0", "1", "train point", "test point", "decision boundary"]


def test_boundary_regions_follow_the_models_predictions(moons_run):
    model = load_model(moons_run[0] / "model.npz")
    train = model_splits(model).train
    image = plots.boundary_figure(model, train, None, "t", resolution=50).axes[0].images[0]
    (x0, x1, y0, y1), rgb = image.get_extent(), image.get_array()[..., :3]  # (50, 50, 3), row 0 at y0
    gx, gy = np.meshgrid(np.linspace(x0, x1, 50), np.linspace(y0, y1, 50))
    pred = model.predict(np.column_stack([gx.ravel(), gy.ravel()])).reshape(50, 50)
    blue_minus_red = rgb[..., 2] - rgb[..., 0]  # class 0 is blue (#0072B2), class 1 orange (#E69F00)
    assert (pred == 0).any() and (pred == 1).any()
    assert np.all((blue_minus_red > 0) == (pred == 0))


def test_drawing_touches_no_global_pyplot_state():
    plots.curves_figure(HISTORY, "t")
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()


def test_help_lists_plot_and_no_plots(capsys):
    for argv, option in ((["--help"], "plot"), (["train", "--help"], "--no-plots")):
        with pytest.raises(SystemExit):
            main(argv)
        assert option in capsys.readouterr().out
