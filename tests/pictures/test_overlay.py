"""The picture of a failed curve check, golden vs now: drawn by `trainer curve check` beside the golden
(or at --plot, as PNG or SVG), named in the report, with the tolerance or the bands shaded and the
first departing epoch marked; said in one line without matplotlib; skipped with --no-plots."""

import json
import sys

import numpy as np
import pytest
from conftest import HISTORY, cli, pixels, png_size

from trainer.pictures import overlay

TINY = """\
name: tiny
seed: 2
data: {dataset: moons, params: {n_samples: 300}, val_size: 0.2}
model: {hidden_size: 16}
train: {epochs: 8, batch_size: 32, lr: 0.01}
"""


@pytest.fixture
def golden(tmp_path):
    """tiny.yaml and its golden g.json (written by `trainer curve update`); the directory."""
    (tmp_path / "tiny.yaml").write_text(TINY)
    done = cli("curve", "update", "tiny.yaml", "--golden", "g.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path


def nudged(directory, source, name, change):
    """A copy of golden `source` with change(curve) applied, written as `name`."""
    curve = json.loads((directory / source).read_text())
    change(curve)
    (directory / name).write_text(json.dumps(curve))
    return name


def val_loss_up_at_epoch_5(curve):
    curve["metrics"]["val_loss"][4] *= 1.01


def panels(figure):
    """{title: (top axes, bottom axes)} of an overlay: a column per metric."""
    n = len(figure.axes) // 2
    return {figure.axes[j].get_title(): (figure.axes[j], figure.axes[n + j]) for j in range(n)}


def labelled(ax, prefix):
    """The artists (lines and shaded regions) of ax whose label starts with prefix."""
    return [a for a in [*ax.get_lines(), *ax.collections, *ax.patches] if a.get_label().startswith(prefix)]


def marks(ax):
    """The x of each dotted vertical line (a marked epoch) in ax."""
    return [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"]


def test_a_failed_check_draws_golden_vs_now_beside_the_golden(golden, drawn):
    bad = nudged(golden, "g.json", "bad.json", val_loss_up_at_epoch_5)
    done = cli("curve", "check", "tiny.yaml", "--golden", bad, cwd=golden)
    assert done.returncode == 1 and done.stdout.startswith("FAILED:")
    assert done.stdout.splitlines()[-1] == "  picture: bad.failed.png"
    (figure,) = drawn
    shown = panels(figure)
    assert list(shown) == ["train_loss", "val_loss", "train_accuracy", "val_accuracy"]  # lr does not depart
    assert png_size(golden / "bad.failed.png") == pixels(figure, 120) == (2304, 768)
    assert figure.texts[0].get_text().startswith("tiny: golden bad.json vs now\n")
    top, bottom = shown["val_loss"]
    curves = [line.get_label() for line in top.get_lines() if len(line.get_xdata()) == 8]
    assert curves == ["golden (expected)", "now (got)"]
    assert (top.get_ylabel(), bottom.get_xlabel(), bottom.get_ylabel()) == ("loss", "epoch", "|now − golden|")
    assert len(labelled(top, "golden ± tolerance")) == 1 and len(labelled(bottom, "within tolerance")) == 1
    (ring,) = labelled(top, "now departs")
    assert list(ring.get_xdata()) == [5]
    assert marks(top) == marks(bottom) == [5]
    assert [t.get_text() for t in top.texts] == ["first departs: epoch 5"] and top.texts[0].xy[0] == 5
    assert bottom.get_title() == "out of tolerance at 1 of 8 epochs, first at epoch 5"
    top, bottom = shown["train_loss"]
    assert marks(top) == [] and list(top.texts) == [] and bottom.get_title() == "within tolerance"
    # a legend a row, beside the last column, naming what any panel of the row draws
    assert [ax.get_legend() is not None for ax in figure.axes] == [False] * 3 + [True] + [False] * 3 + [True]
    assert legend_texts(figure.axes[3]) == [
        "golden ± tolerance (thinner than the line)",
        "golden (expected)",
        "now (got)",
        "now departs",  # of val_loss's panel: train_loss's, the first, has none
    ]
    assert legend_texts(figure.axes[7]) == ["tolerance", "within tolerance", "|now − golden|"]
    figure.canvas.draw()
    beside = figure.axes[3].get_legend().get_window_extent()
    assert beside.x0 > figure.axes[3].get_window_extent().x1


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_the_difference_line_breaks_where_now_equals_golden_and_dpi_sets_the_size(golden, drawn):
    def two_apart(curve):
        for epoch in (2, 6):
            curve["metrics"]["val_loss"][epoch - 1] *= 1.01

    bad = nudged(golden, "g.json", "bad.json", two_apart)
    done = cli("curve", "check", "tiny.yaml", "--golden", bad, "--dpi", "60", cwd=golden)
    assert done.returncode == 1 and done.stdout.splitlines()[-1] == "  picture: bad.failed.png"
    assert png_size(golden / "bad.failed.png") == pixels(drawn[0], 60) == (1152, 384)  # half of 120 dpi's
    (line,) = labelled(panels(drawn[0])["val_loss"][1], "|now − golden|")
    drawn_at = np.flatnonzero(np.isfinite(line.get_ydata())) + 1
    assert list(drawn_at) == [2, 6]  # no line across epochs 3-5, where now is the golden
    done = cli("curve", "compare", "g.json", bad, "--plot", "c.png", "--dpi", "30", cwd=golden)
    assert done.returncode == 1 and png_size(golden / "c.png") == (576, 192)
    done = cli("curve", "compare", "g.json", bad, "--dpi", "30", cwd=golden)
    assert done.returncode == 2 and done.stderr.endswith("--dpi is used only with --plot FILE\n")


def test_the_band_lane_shades_both_bands_and_marks_the_first_flagged_epoch(golden, drawn):
    done = cli("curve", "update", "tiny.yaml", "--golden", "band.json", "--seeds", "3", cwd=golden)
    assert done.returncode == 0, done.stderr

    def moved_from_epoch_4(curve):
        band = curve["band"]["metrics"]["val_loss"]
        for j in range(3, 8):
            band["mean"][j] += 30 * band["std"][j]

    bad = nudged(golden, "band.json", "bad.json", moved_from_epoch_4)
    done = cli("curve", "check", "tiny.yaml", "--golden", bad, "--band", "--plot", "band.png", cwd=golden)
    assert done.returncode == 1 and "first departure: epoch 4, val_loss" in done.stdout
    assert done.stdout.splitlines()[-1] == "  picture: band.png"
    (figure,) = drawn
    assert png_size(golden / "band.png") == pixels(figure, 120)
    top, bottom = panels(figure)["val_loss"]
    shades = [a.get_label() for a in top.collections]
    assert shades == ["golden band: mean ± 1 std of 3 seeds", "now band: mean ± 1 std of 3 seeds"]
    assert marks(top) == [4] and [t.get_text() for t in top.texts] == ["first departs: epoch 4"]
    assert list(labelled(top, "now departs")[0].get_xdata()) == [4, 5, 6, 7, 8]
    (threshold,) = [y for line in bottom.get_lines() if len(set(y := line.get_ydata())) == 1]
    assert threshold[0] == pytest.approx(0.01 / 40)  # alpha over 5 metrics x 8 epochs
    assert len(labelled(bottom, "departs: p below the threshold")) == 1
    assert bottom.get_title() == "departs at 5 of 8 epochs tested, first at epoch 4"
    assert "band lane (golden seeds 2-4, now 2-4)" in figure.texts[0].get_text()


def test_the_picture_is_svg_by_its_suffix_and_names_what_it_shows(golden):
    bad = nudged(golden, "g.json", "bad.json", val_loss_up_at_epoch_5)
    done = cli("curve", "check", "tiny.yaml", "--golden", bad, "--plot", "out/bad.svg", cwd=golden)
    assert done.returncode == 1 and done.stdout.splitlines()[-1] == "  picture: out/bad.svg"
    svg = (golden / "out/bad.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    for text in ("first departs: epoch 5", "golden ± tolerance (thinner than the line)", "val_accuracy"):
        assert f"<!-- {text} -->" in svg, text  # matplotlib writes each text as a comment before its glyphs
    assert not (golden / "bad.failed.png").exists()
    for flags, message in (
        (["--plot", "x.jpg"], "--plot x.jpg: pictures are drawn as png, svg, pdf"),
        (
            ["--plot", "x.png", "--no-plots"],
            "--plot is for the picture of a failure and --no-plots draws none",
        ),
        (["--dpi", "60", "--no-plots"], "--dpi is for the picture of a failure and --no-plots draws none"),
        (["tiny.yaml", "--plot", "x.png"], "--plot names one picture file; give a single CONFIG with it"),
    ):
        done = cli("curve", "check", "tiny.yaml", *flags, cwd=golden)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr


def test_without_matplotlib_the_report_says_so_and_the_exit_code_is_unchanged(golden, monkeypatch):
    bad = nudged(golden, "g.json", "bad.json", val_loss_up_at_epoch_5)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    done = cli("curve", "check", "tiny.yaml", "--golden", bad, cwd=golden)
    assert done.returncode == 1 and done.stdout.startswith("FAILED:")
    last = done.stdout.splitlines()[-1]
    assert last.startswith("  picture not drawn: matplotlib is not installed (`") and "matplotlib>=" in last
    assert not (golden / "bad.failed.png").exists()
    assert cli("curve", "check", "tiny.yaml", "--golden", "g.json", cwd=golden).stdout.startswith("ok:")


def test_no_plots_skips_the_picture_and_a_pass_removes_an_earlier_failures(golden):
    bad = nudged(golden, "g.json", "bad.json", val_loss_up_at_epoch_5)
    done = cli("curve", "check", "tiny.yaml", "--golden", bad, "--no-plots", cwd=golden)
    assert done.returncode == 1 and "picture" not in done.stdout
    assert not (golden / "bad.failed.png").exists()
    assert cli("curve", "check", "tiny.yaml", "--golden", bad, cwd=golden).returncode == 1
    assert (golden / "bad.failed.png").exists()
    (golden / "bad.json").write_text((golden / "g.json").read_text())  # the golden refreshed
    done = cli("curve", "check", "tiny.yaml", "--golden", bad, cwd=golden)
    assert done.returncode == 0 and done.stdout.splitlines()[1:] == [
        "  removed bad.failed.png, the picture of an earlier failure"
    ]
    assert not (golden / "bad.failed.png").exists()


def test_curve_compare_draws_the_tolerance_it_used(golden, drawn):
    bad = nudged(golden, "g.json", "bad.json", val_loss_up_at_epoch_5)
    done = cli("curve", "compare", "g.json", bad, "--rtol", "1e-3", "--plot", "c.png", cwd=golden)
    assert done.returncode == 1 and done.stdout.splitlines()[-1] == "  picture: c.png"
    top, bottom = panels(drawn[0])["val_loss"]
    assert labelled(top, "golden ± tolerance")[0].get_label() == "golden ± tolerance"  # 1e-3: visible
    assert "≤ 1e-12 + 0.001·|golden|" in drawn[0].texts[0].get_text()


# ------------------------------------------------------------------ the figure alone


def test_without_a_diff_the_overlay_is_bitwise_and_marks_each_metrics_first_difference():
    got = [dict(r) for r in HISTORY]
    got[11]["val_loss"] += 1e-9
    got[20]["lr"] = 0.2  # a metric beyond the four gets a column when it departs
    shown = panels(overlay.overlay_figure(HISTORY, got, "check failed"))
    assert list(shown) == ["train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr"]
    notes = {name: bottom.get_title() for name, (_, bottom) in shown.items()}
    assert notes == {
        "train_loss": "identical",
        "val_loss": "differs at 1 of 30 epochs, first at epoch 12",
        "train_accuracy": "identical",
        "val_accuracy": "identical",
        "lr": "differs at 1 of 30 epochs, first at epoch 21",
    }
    assert marks(shown["val_loss"][0]) == [12] and marks(shown["lr"][1]) == [21]
    assert labelled(shown["val_loss"][0], "golden ± tolerance") == []  # bitwise: no tolerance to shade


@pytest.mark.parametrize(
    "diffs",
    [
        [0.009999999999999953, 0.010000000000000009, 0.0100000000001],  # one val sample, up to rounding
        [0.01, 0.01, 0.01],
        [0.01, 0.02, 0.03],
        [1e-16, 1e-3, 0.5],
    ],
)
def test_overlay_difference_ticks_name_distinct_values(diffs):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    golden = [0.25, 0.25, 0.25]
    got = [g + d for g, d in zip(golden, diffs, strict=True)]
    fig = overlay.overlay_figure({"val_accuracy": golden}, {"val_accuracy": got})
    FigureCanvasAgg(fig).draw()
    bottom = fig.axes[1]
    lo, hi = bottom.get_ylim()
    shown = np.abs(np.subtract(got, golden))
    assert lo < shown.min() <= shown.max() < hi  # every point shows, none on the edge
    ticks = [
        (t.get_position()[1], t.get_text())
        for minor in (False, True)
        for t in bottom.get_yticklabels(minor=minor)
        if t.get_text() and lo <= t.get_position()[1] <= hi
    ]
    labels = [text for _, text in ticks]
    assert len(labels) >= 2 and len(set(labels)) == len(labels), ticks


def test_overlay_takes_columns_and_shows_a_shorter_curve(tmp_path):
    columns = {"train_loss": [r["train_loss"] for r in HISTORY]}
    fig = overlay.overlay_figure(columns, {"train_loss": columns["train_loss"][:20]})
    assert fig.axes[1].get_title() == "identical while both run; 30 vs 20 epochs"
    assert marks(fig.axes[0]) == [21] and fig.axes[0].texts[0].get_text() == "one run ended after epoch 20"
    assert labelled(fig.axes[0], "now departs") == []
    with pytest.raises(ValueError, match="no metric in common"):
        overlay.overlay_figure({"a": [1.0]}, {"b": [1.0]})
    path = overlay.curve_overlay(
        columns, {"train_loss": columns["train_loss"][:20]}, tmp_path / "o.png", dpi=60
    )
    assert png_size(path) == pixels(fig, 60)
