"""Pictures of a sweep: real files from `trainer sweep` and `trainer plot SWEEP_DIR`, what each figure
draws (read back from the Figure objects), failed and chance-level trials marked, --no-plots, and a
sweep without matplotlib."""

import json
import shutil
import sys

import pytest
from conftest import cli
from matplotlib.collections import LineCollection
from matplotlib.image import imread

from trainer.pictures import sweep_plots
from trainer.pictures.sweep_curves import curves_figure
from trainer.pictures.sweep_results import SweepResults, read_sweep
from trainer.sweeps.trial import mean_curve

TINY = """\
name: tiny
data:
  dataset: moons
  params: {n_samples: 200, noise: 0.3}
  val_size: 0.1
train: {epochs: 8, batch_size: 32, early_stopping: true, patience: 5}
"""
# with sgd, lr 0.1 learns, 30 ends at chance level and 1e9 diverges (fails), at both sizes
GRID = ("--grid", "train.lr=0.1,30,1e9", "--grid", "model.hidden_size=4,16", "--set", "train.optimizer=sgd")
PICTURES = ["sweep_train.lr.png", "sweep_model.hidden_size.png", "sweep_heatmap.png", "sweep_curves.png"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A two-key sweep with learned, chance-level and failed trials: (its directory, stdout)."""
    tmp = tmp_path_factory.mktemp("sweep")
    (tmp / "tiny.yaml").write_text(TINY)
    r = cli("sweep", "tiny.yaml", *GRID, "--out", "out", cwd=tmp)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return tmp / "out", r.stdout


@pytest.fixture(scope="module")
def folds(tmp_path_factory):
    """A one-key sweep scored over 2 folds: its directory."""
    tmp = tmp_path_factory.mktemp("folds")
    (tmp / "tiny.yaml").write_text(TINY)
    args = ("--grid", "train.lr=0.01,0.1,1", "--set", "train.epochs=4", "--cv", "2", "--out", "out", "-q")
    r = cli("sweep", "tiny.yaml", *args, cwd=tmp)
    assert r.returncode == 0, r.stderr
    return tmp / "out"


def trials(out):
    return json.loads((out / "results.json").read_text())["trials"]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def offsets(ax, label):
    """The (x, y) points of the scatter labelled `label`."""
    (points,) = [c for c in ax.collections if c.get_label() == label]
    return points.get_offsets().tolist()


def test_a_sweep_writes_its_pictures_as_pngs_of_the_size_its_dpi_gives(swept):
    out, stdout = swept
    assert f"pictures {', '.join(PICTURES)}" in stdout.splitlines()
    inches = {"sweep_train.lr.png": (4.8, 8.6), "sweep_curves.png": (5.4, 12.8)}  # (height, width)
    for name in PICTURES:
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        image = imread(out / name)
        assert image[..., :3].std() > 0.05, f"{name} looks blank"
        if name in inches:
            assert image.shape[:2] == tuple(round(120 * side) for side in inches[name]), name


def test_each_key_is_drawn_against_its_values_the_failed_and_chance_trials_marked(swept):
    figures = sweep_plots.sweep_figures(read_sweep(swept[0]))
    (lr,) = figures["sweep_train.lr"].axes
    assert lr.get_xscale() == "log" and lr.get_xlabel() == "train.lr (log scale)"  # 0.1 to 1e9
    assert lr.get_ylabel() == "validation accuracy"
    assert [t.get_text() for t in lr.get_xticklabels()] == ["0.1", "30", "1e+09"]
    assert (
        "at each value, the best trial over model.hidden_size"
        in figures["sweep_train.lr"]._suptitle.get_text()
    )
    best, chance = trials(swept[0])[0], trials(swept[0])[2]
    assert offsets(lr, "best trial at each value") == [[0.1, best["mean_val_score"]]]
    assert offsets(lr, "best trial at each value, at chance level") == [[30.0, chance["mean_val_score"]]]
    assert [x for x, _ in offsets(lr, "failed, no score (2 trials)")] == [1e9, 1e9]
    assert len(offsets(lr, "every trial")) == 2 and len(offsets(lr, "every trial at chance level")) == 2
    assert "best: train.lr=0.1\n  model.hidden_size=16" in legend_texts(lr)
    (size,) = figures["sweep_model.hidden_size"].axes
    assert size.get_xscale() == "linear" and size.get_xlabel() == "model.hidden_size"
    assert [t.get_text() for t in size.get_xticklabels()] == ["4", "16"]
    score = {t["params"]["model.hidden_size"]: t["mean_val_score"] for t in trials(swept[0])[::-1]}
    assert offsets(size, "best trial at each value") == [[4, score[4]], [16, score[16]]]  # lr 0.1's


def test_a_two_key_grid_has_a_heat_map_of_every_cell_labelled(swept):
    fig = sweep_plots.sweep_figures(read_sweep(swept[0]))["sweep_heatmap"]
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("train.lr", "model.hidden_size")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "30", "1e+09"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["4", "16"]
    by_params = {(t["params"]["train.lr"], t["params"]["model.hidden_size"]): t for t in trials(swept[0])}
    expected = [
        [f"{by_params[(lr, size)]['mean_val_score']:.3f}" for lr in (0.1, 30.0)] + ["failed"]
        for size in (4, 16)
    ]
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 6 and [t.split("\n")[0] for t in texts] == [c for row in expected for c in row]
    assert sum(t.endswith("\nchance") for t in texts) == 2  # lr 30 at both sizes
    scores = ax.get_images()[0].get_array()
    assert scores.shape == (2, 3) and scores.mask[:, 2].all() and not scores.mask[:, :2].any()
    legend = fig.axes[1].get_legend()  # the strip below the grid
    assert [t.get_text() for t in legend.get_texts()] == [
        "best: train.lr=0.1 model.hidden_size=16",
        "at chance level (learned nothing)",
        "failed (no score)",
    ]


def test_the_curves_are_every_trials_own_coloured_by_rank_the_best_named(swept, tmp_path):
    out = swept[0]
    fig = sweep_plots.sweep_figures(read_sweep(out))["sweep_curves"]
    loss, accuracy = fig.axes[:2]
    assert accuracy.get_title() == "validation accuracy"
    # lr 30's losses blew up: the axis is cut, so that the others' curves show
    assert loss.get_title().startswith("validation loss\n(axis cut at ")
    drawn = [t for t in trials(out) if t["curve"]]  # the failed ones have none
    assert len(drawn) == 4 and len(loss.get_lines()) == len(accuracy.get_lines()) == 4
    best = loss.get_lines()[-1]  # the best is drawn last, on top, thickest
    assert best.get_linewidth() == max(line.get_linewidth() for line in loss.get_lines())
    assert list(best.get_ydata()) == drawn[0]["curve"]["val_loss"]
    assert sum(line.get_linestyle() == "--" for line in loss.get_lines()) == 2  # at chance level
    assert legend_texts(fig.axes[2]) == [
        "best (rank 1): train.lr=0.1 model.hidden_size=16",
        "dashed: at chance level (2 trials)",
        "failed, no curve (2 trials): train.lr=1e+09 model.hidden_size=4; "
        "train.lr=1e+09 model.hidden_size=16",
    ]
    # a trial scored on its validation split is `trainer train`'s own run: the same curve
    r = cli("train", out / "best.yaml", "--out", tmp_path / "best", "-q", "--no-plots")
    assert r.returncode == 0, r.stderr
    records = [json.loads(line) for line in (tmp_path / "best/metrics.jsonl").read_text().splitlines()]
    assert drawn[0]["curve"] == {m: [rec[m] for rec in records] for m in ("val_loss", "val_accuracy")}


def test_a_cut_loss_axis_on_a_log_scale_starts_below_the_lowest_loss_shown():
    def trial(rank, chance, val_loss):
        return {
            "rank": rank,
            "chance": chance,
            "error": None,
            "params": {"train.lr": 10.0**rank},
            "curve": {"val_loss": val_loss, "val_accuracy": [0.5] * len(val_loss)},
        }

    learned = trial(1, False, [1.0, 0.2, 0.09])  # spans over 10x: a log axis
    blown = trial(2, True, [0.7, 500.0, 800.0])  # far past 10x the learned's highest: the axis is cut at 3
    results = SweepResults("tiny", {"train.lr": [10.0, 100.0]}, [learned, blown], None, None)
    loss = curves_figure(results).axes[0]
    assert loss.get_yscale() == "log" and loss.get_title().startswith("validation loss\n(axis cut at 3:")
    low, high = loss.get_ylim()
    assert 0 < low < 0.09 and high == 3.0  # a log axis cannot start at or below 0


def test_a_cross_validated_sweep_has_error_bars_of_the_std_over_folds(folds):
    figures = sweep_plots.sweep_figures(read_sweep(folds))
    assert sorted(figures) == ["sweep_curves", "sweep_train.lr"]  # one key: no heat map
    (ax,) = figures["sweep_train.lr"].axes
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "cross-validated accuracy (mean over 2 folds)"
    assert "error bars: ±1 std over the 2 folds" in figures["sweep_train.lr"]._suptitle.get_text()
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    by_lr = {t["params"]["train.lr"]: t for t in trials(folds)}
    spans = dict(sorted((seg[0][0], seg[1][1] - seg[0][1]) for seg in bars.get_segments()))
    assert list(spans) == [0.01, 0.1, 1.0]
    assert list(spans.values()) == pytest.approx([2 * by_lr[lr]["std_val_score"] for lr in spans])
    assert figures["sweep_curves"].axes[0].get_ylabel() == "cross-entropy, mean over 2 folds"


def test_mean_curve_averages_each_epoch_over_the_fits_that_ran_it():
    fits = [{"val_loss": [1.0, 0.5, 0.25]}, {"val_loss": [3.0, None]}]  # the second stopped early
    assert mean_curve(fits) == {"val_loss": [2.0, 0.5, 0.25]}
    assert mean_curve([*fits, None]) is None  # a job journaled without a curve


def test_plot_redraws_a_sweep_as_svg_or_at_another_dpi(folds, tmp_path):
    before = {p.name: p.read_bytes() for p in folds.iterdir()}
    r = cli("plot", folds, "--out", tmp_path / "svg", "--format", "svg")
    assert r.returncode == 0, r.stderr
    svgs = [tmp_path / "svg/sweep_train.lr.svg", tmp_path / "svg/sweep_curves.svg"]
    assert r.stdout.split() == [str(p) for p in svgs]
    assert all(p.read_bytes().startswith(b"<?xml") and b"<svg" in p.read_bytes() for p in svgs)
    r = cli("plot", folds, "--out", tmp_path / "small", "--dpi", "60")
    assert r.returncode == 0, r.stderr
    assert imread(tmp_path / "small/sweep_train.lr.png").shape[:2] == (288, 516)  # half of 120 dpi's
    assert {p.name: p.read_bytes() for p in folds.iterdir()} == before  # the sweep itself untouched


def test_plot_of_an_unfinished_sweep_says_how_to_go_on(swept, tmp_path):
    shutil.copytree(swept[0], tmp_path / "out")
    (tmp_path / "out/results.json").unlink()
    r = cli("plot", "out", cwd=tmp_path)
    assert (r.returncode, r.stderr) == (
        1,
        "trainer: error: out: the sweep has not finished (no results.json); go on with it: "
        "trainer sweep --resume out\n",
    )


def sweep(tmp, *args):
    (tmp / "tiny.yaml").write_text(TINY)
    return cli("sweep", "tiny.yaml", "--grid", "train.lr=0.1,1", "--set", "train.epochs=2", *args, cwd=tmp)


def test_no_plots_draws_none_and_an_overwritten_sweeps_pictures_go(swept, tmp_path):
    shutil.copytree(swept[0], tmp_path / "out")  # a two-key sweep's four pictures
    r = sweep(tmp_path, "--out", "out", "--overwrite", "-q")  # one key: no heat map any more
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("sweep_*")) == [
        "sweep_curves.png",
        "sweep_train.lr.png",
    ]
    r = sweep(tmp_path, "--out", "out", "--overwrite", "--no-plots")
    assert r.returncode == 0 and "pictures" not in r.stdout
    assert not list((tmp_path / "out").glob("sweep_*"))


def test_a_sweep_without_matplotlib_succeeds_with_one_hint(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # from here `import matplotlib` raises ImportError
    r = sweep(tmp_path, "--out", "out")
    assert r.returncode == 0 and "pictures" not in r.stdout
    (line,) = r.stderr.splitlines()
    assert line.startswith("trainer: no pictures: matplotlib is not installed; ") and "pip install" in line
    assert (tmp_path / "out/results.json").exists() and not list((tmp_path / "out").glob("sweep_*"))


def test_a_failed_picture_is_one_warning_and_the_sweep_succeeds(tmp_path, monkeypatch):
    def broken(out, **kwargs):
        raise RuntimeError("no room on the canvas")

    monkeypatch.setattr(sweep_plots, "plot_sweep", broken)
    r = sweep(tmp_path, "--out", "out", "-q")
    assert (r.returncode, r.stdout) == (0, "out\n")
    assert (
        r.stderr
        == "trainer: warning: no pictures: no room on the canvas; `trainer --debug plot out` shows why\n"
    )


def test_a_resumed_sweep_draws_its_pictures(folds, tmp_path):
    shutil.copytree(folds, tmp_path / "out")
    drawn = ["sweep_train.lr.png", "sweep_curves.png"]
    for name in ["results.json", "results.csv", "best.yaml", *drawn]:  # broken before its results
        (tmp_path / "out" / name).unlink()
    r = cli("sweep", "--resume", "out", cwd=tmp_path)  # every trial is in the journal: none runs again
    assert r.returncode == 0, r.stderr
    assert f"pictures {', '.join(drawn)}" in r.stdout.splitlines()
    assert all(imread(tmp_path / "out" / name).shape == imread(folds / name).shape for name in drawn)
