"""The picture of `trainer compare A B --plot FILE`: both sides per metric on shared axes (a group's
per-epoch mean with its 95% t interval shaded, a run's curve), and for groups over the same seeds
B - A per seed with "B ahead in k of n seeds"; the format from FILE's suffix or --format, the size
from --dpi; without matplotlib one warning line and the table."""

import json
import math
import sys

import numpy as np
import pytest
from conftest import cli, pixels, png_size
from scipy.stats import t as student

CONFIG = """\
name: tiny
data: {dataset: moons, params: {n_samples: 200}, val_size: 0.2}
model: {hidden_size: 8}
train: {epochs: 5, batch_size: 32, lr: 0.01}
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Groups a and b (lr 0.01 and 0.03) over seeds 0-2, and c over seeds 5-6; the directory."""
    root = tmp_path_factory.mktemp("versus")
    (root / "tiny.yaml").write_text(CONFIG)
    for out, flags in (("a", []), ("b", ["--set", "train.lr=0.03"]), ("c", ["--seeds", "5,6"])):
        seeds = [] if "--seeds" in flags else ["--seeds", "0-2"]
        done = cli("train", "tiny.yaml", *seeds, *flags, "--out", out, "-q", "--no-plots", cwd=root)
        assert done.returncode == 0, done.stderr
    return root


def metrics(run_dir, key):
    return [json.loads(line)[key] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def panels(figure):
    return {ax.get_title(): ax for ax in figure.axes}


def curve(ax, side):
    """The y values of side's ("A" or "B") line in a metric panel."""
    (line,) = [line for line in ax.get_lines() if line.get_label().startswith(f"{side}: ")]
    return line.get_ydata()


def shaded(ax, side):
    """{epoch: (low, high)} of side's shaded interval in a metric panel, read from its polygon."""
    (region,) = [c for c in ax.collections if c.get_label() == f"{side}: 95% CI of the mean"]
    ys = {}
    for x, y in region.get_paths()[0].vertices:
        ys.setdefault(round(x), set()).add(y)
    return {e: (min(v), max(v)) for e, v in ys.items()}


def test_paired_groups_draw_means_intervals_and_b_ahead_in_k_of_n(runs, drawn):
    done = cli("compare", "a", "b", "--plot", "ab.png", cwd=runs)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "picture  ab.png"
    (figure,) = drawn
    assert png_size(runs / "ab.png") == pixels(figure, 120) == (1800, 948)  # 3 columns and legends, 2 rows
    shown = panels(figure)
    for metric in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        ax = shown[metric]
        assert (ax.get_xlabel(), len(ax.get_lines()), len(ax.collections)) == ("epoch", 2, 2), metric
        seeds = np.array([metrics(runs / "a" / f"seed-{s}", metric) for s in range(3)])  # (seeds, epochs)
        mean, half = seeds.mean(axis=0), student.ppf(0.975, 2) * seeds.std(axis=0, ddof=1) / math.sqrt(3)
        assert np.allclose(curve(ax, "A"), mean, rtol=1e-12)
        top = 1 if "accuracy" in metric else np.inf  # the interval is clipped to what the metric can be
        expected = np.column_stack([np.clip(mean - half, 0, top), np.clip(mean + half, 0, top)])
        bounds = shaded(ax, "A")
        assert np.allclose([bounds[e] for e in range(1, 6)], expected, rtol=1e-12), metric
    assert shown["val_loss"].get_ylabel() == "cross-entropy"
    assert shown["train_loss"].get_ylabel() == "objective (cross-entropy + L2)"  # what the steps minimise
    legend = [t.get_text() for t in shown["train_loss"].get_legend().get_texts()]
    assert legend == [
        "A: a (tiny, mean of 3 seeds)",
        "A: 95% CI of the mean",
        "B: b (tiny, mean of 3 seeds)",
        "B: 95% CI of the mean",
    ]
    table = json.loads(cli("compare", "a", "b", "--json", cwd=runs).stdout)["metrics"]
    for key, ahead in (("test.loss", "below"), ("test.accuracy", "above")):
        m = table[key]
        title = next(t for t in shown if t.startswith(f"final {key},"))
        equal = f" ({m['equal']} equal)" if m["equal"] else ""
        assert title == f"final {key}, B − A per seed\nB ahead in {m[ahead]} of 3 seeds{equal}"
        ax = shown[title]
        heights = sorted(bar.get_height() for bars in ax.containers for bar in bars)
        a = [json.loads((runs / f"a/seed-{s}/summary.json").read_text())["test"] for s in range(3)]
        b = [json.loads((runs / f"b/seed-{s}/summary.json").read_text())["test"] for s in range(3)]
        d = [y[key[5:]] - x[key[5:]] for x, y in zip(a, b, strict=True)]
        assert np.allclose(heights, sorted(v for v in d if v != 0), rtol=1e-12)
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"] and ax.get_xlabel() == "seed"
        figure.canvas.draw()  # the legend stands beside the bars, not over them
        assert ax.get_legend().get_window_extent().x0 > ax.get_window_extent().x1


def test_svg_by_suffix_and_png_by_format_at_a_dpi(runs):
    done = cli("compare", "a", "b", "--plot", "pics/ab.svg", cwd=runs)
    assert done.returncode == 0, done.stderr
    svg = (runs / "pics/ab.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    for text in ("A: a (tiny, mean of 3 seeds)", "B: b (tiny, mean of 3 seeds)", "val_accuracy"):
        assert f"<!-- {text} -->" in svg, text  # matplotlib writes each text as a comment before its glyphs
    assert "B ahead in " in svg and " of 3 seeds" in svg
    done = cli("compare", "a", "b", "--plot", "small", "--format", "png", "--dpi", "60", "--json", cwd=runs)
    assert done.returncode == 0 and json.loads(done.stdout)["picture"] == "small.png"
    assert png_size(runs / "small.png") == (900, 474)  # half of 120 dpi's 1800 x 948


def test_two_runs_draw_curves_without_bands_or_differences(runs, drawn):
    done = cli("compare", "a/seed-0", "b/seed-0", "--plot", "runs.png", cwd=runs)
    assert done.returncode == 0, done.stderr
    shown = panels(drawn[0])
    assert list(shown) == ["train_loss", "val_loss", "train_accuracy", "val_accuracy"]
    for metric, ax in shown.items():
        assert len(ax.get_lines()) == 2 and len(ax.collections) == 0, metric
        assert np.array_equal(curve(ax, "B"), metrics(runs / "b/seed-0", metric))
    legend = [t.get_text() for t in shown["train_loss"].get_legend().get_texts()]
    assert legend == ["A: a/seed-0 (tiny, seed 0)", "B: b/seed-0 (tiny, seed 0)"]
    assert drawn[0].texts[0].get_text() == "A vs B: two runs, per-epoch curves"


def test_unpaired_sides_have_no_difference_column(runs, drawn):
    for a, b in (("a/seed-1", "b"), ("a", "c")):
        assert cli("compare", a, b, "--plot", "u.png", cwd=runs).returncode == 0
    (run_vs_group, other_seeds) = (panels(f) for f in drawn)
    assert not any(t.startswith("final") for t in [*run_vs_group, *other_seeds])
    ax = run_vs_group["val_loss"]
    assert [c.get_label() for c in ax.collections] == ["B: 95% CI of the mean"]
    assert [c.get_label() for c in other_seeds["val_loss"].collections] == [
        "A: 95% CI of the mean",
        "B: 95% CI of the mean",
    ]
    assert drawn[1].texts[0].get_text().endswith("\nunpaired: the groups ran other seeds")


def test_bad_picture_options_are_one_line_errors(runs):
    for flags, message in (
        (["--format", "svg"], "--format is used only with --plot FILE"),
        (["--dpi", "60"], "--dpi is used only with --plot FILE"),
        (["--plot", "x.jpg"], "--plot x.jpg: pictures are drawn as png, svg, pdf; end FILE in one of them"),
        (["--plot", "x.png", "--format", "pdf"], "--plot x.png ends in .png but --format is pdf"),
    ):
        done = cli("compare", "a", "b", *flags, cwd=runs)
        assert done.returncode == 2 and done.stdout == "", flags
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_without_matplotlib_the_table_and_one_warning(runs, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    done = cli("compare", "a", "b", "--plot", "none.png", cwd=runs)
    assert done.returncode == 0 and "B ahead in" in done.stdout and "picture" not in done.stdout
    assert done.stderr.count("\n") == 1 and "no picture: matplotlib is not installed" in done.stderr
    assert not (runs / "none.png").exists()
