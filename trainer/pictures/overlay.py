"""Golden vs now: the picture of a failed curve check. `trainer curve check` draws it beside the golden
(<stem>.failed.png) or at --plot; `trainer curve compare --plot`, the pytest plugin and
trainer.testing draw it too.

A column per metric: the losses and accuracies the curves record, and any other metric that departs.
The top row overlays both curves and shades what the check allows: the exact lane's tolerance,
golden ± (atol + rtol |golden|) (tolerance.py; at float64's defaults far thinner than a line), or
for the band lane each band's mean ± 1 std over its seeds. The bottom row shows the check's own
test on a log scale: the exact lane's |now - golden| against its tolerance (shaded below: within),
the band lane's Welch p per epoch against the Bonferroni threshold (shaded below: departs). A
dotted line marks each metric's first departing epoch, labelled.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.config.seed_spec import seeds_text
from trainer.curves.band import BandDiff
from trainer.curves.tolerance import allowed, as_floats, out_of_tolerance
from trainer.pictures.plots import COLORS, DPI, FORMATS, _figure, available, install_hint, save
from trainer.storage.curvefile import is_metric
from trainer.storage.files import make_dir

SHOWN = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")  # drawn wherever recorded
GOLDEN, NOW, MARK = COLORS[0], COLORS[5], "0.35"
LEGEND_WIDTH = 2.6  # inches beside the last column, for the legends


def with_picture(result, path, dpi=DPI):
    """A check's report (a curves.golden.CheckResult) with, when it failed, golden vs now drawn at
    `path` (at `dpi`) and a last line naming the picture, or saying why there is none."""
    line = draw_failure(result, path, dpi)
    return f"{result.report}\n  {line}" if line else result.report


def draw_failure(result, path, dpi=DPI):
    """Draw a failed check's picture at `path`; the line naming it, or saying why it is not drawn;
    '' when there is nothing to draw (the check passed, or the configs differ and nothing trained)."""
    if result.ok or result.got is None:
        return ""
    if not available():
        return f"picture not drawn: matplotlib is not installed (`{install_hint()}` draws it)"
    try:
        curve_overlay(
            result.expected["metrics"], result.got["metrics"], path, result.title, diff=result.diff, dpi=dpi
        )
    except Exception as e:  # a picture must never hide the report it illustrates
        return f"picture not drawn: {type(e).__name__}: {e}"
    return f"picture: {path}"


def curve_overlay(expected, got, path, title="", metrics=None, diff=None, dpi=DPI):
    """Draw a golden curve against a new one into `path` (PNG, or SVG or PDF by its suffix); return it.

    expected, got: per-epoch records (dicts with "epoch" and metric values, as in metrics.jsonl) or
    columns (metric -> list, epoch i + 1 at index i). metrics: the columns (default: SHOWN where
    both record them, and any other metric that departs). diff: how the check compared them (a
    tolerance.CurveDiff or band.BandDiff); without one, bitwise.
    """
    path = Path(path)
    fmt = path.suffix[1:].lower()
    make_dir(path.parent)
    save(overlay_figure(expected, got, title, metrics, diff), path, fmt if fmt in FORMATS else "png", dpi)
    return path


def overlay_figure(expected, got, title="", metrics=None, diff=None):
    """The Figure that curve_overlay writes."""
    expected, got = _columns_of(expected), _columns_of(got)
    lane = _Band(diff) if isinstance(diff, BandDiff) else _Tolerance.of(diff)
    curves = {m: (as_floats(expected[m]), as_floats(got[m])) for m in expected if m in got and is_metric(m)}
    departing = [m for m in curves if m not in SHOWN and lane.departing(m, *curves[m]).size]
    names = metrics or [m for m in SHOWN if m in curves] + departing or list(curves)
    if not names:
        raise ValueError("curve_overlay: the two curves have no metric in common")
    fig = _figure(4.0 * len(names) + 0.6 + LEGEND_WIDTH, 6.4)
    axes = fig.subplots(2, len(names), squeeze=False, sharex="col", height_ratios=[2, 1])
    for j, name in enumerate(names):
        e, g = (as_floats(c.get(name, [])) for c in (expected, got))
        _column(axes[0, j], axes[1, j], name, e, g, lane)
    for row in axes:  # one legend a row, of every panel's entries, beside the last: inside, it would
        # cover a curve or the label of a first departure
        named = {}
        for ax in row:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                named.setdefault(label, handle)
        if named:
            row[-1].legend(
                named.values(), named, loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize="small"
            )
    fig.suptitle(f"{title or 'golden vs now'}\n{lane.describe()}")
    return fig


def _columns_of(curve):
    """Records or columns -> columns (a dict of lists)."""
    if isinstance(curve, dict):
        return curve
    keys = dict.fromkeys(k for r in curve for k in r)  # first-seen order
    return {k: [r.get(k) for r in curve] for k in keys}


def _epochs(values):
    return np.arange(1, len(values) + 1)


def _column(top, bottom, name, e, g, lane):
    """One metric: both curves and what the check allows on top, its test below, the first departure
    marked."""
    from matplotlib.ticker import MaxNLocator

    lane.shade(top, name, e, g)
    top.plot(_epochs(e), e, color=GOLDEN, lw=3, alpha=0.55, label="golden (expected)")
    top.plot(_epochs(g), g, color=NOW, lw=1.2, ls="--", label="now (got)")
    bad = lane.departing(name, e, g)
    if bad.size:
        top.plot(bad, g[bad - 1], ls="", marker="o", ms=7, mfc="none", mec=NOW, label="now departs")
    bottom.set_title(lane.test(bottom, name, e, g), fontsize="small")
    first = lane.first(name, e, g)
    if first is not None:
        ended = f"one run ended after epoch {first - 1}"  # the tolerance lane: no value departs
        _mark(top, bottom, first, f"first departs: epoch {first}" if first in bad else ended)
    top.set(title=name, ylabel="accuracy" if "accuracy" in name else "loss" if "loss" in name else name)
    bottom.set(xlabel="epoch")
    for ax in (top, bottom):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)


def _mark(top, bottom, epoch, label):
    """A dotted line at the first departing epoch on both panels, labelled at the top of the curves'."""
    for ax in (top, bottom):
        ax.axvline(epoch, color=MARK, ls=":", lw=1.5)
    right = epoch > sum(top.get_xlim()) / 2  # the label stays inside the axes
    top.annotate(
        label,
        xy=(epoch, 1),
        xycoords=("data", "axes fraction"),
        xytext=(-4 if right else 4, -4),
        textcoords="offset points",
        ha="right" if right else "left",
        va="top",
        fontsize="small",
        color=MARK,
    )


@dataclass
class _Tolerance:
    """The exact lane, and `curve compare`: |now - golden| <= atol + rtol |golden|, or bitwise."""

    rtol: float = 0.0
    atol: float = 0.0
    exact: bool = True

    @classmethod
    def of(cls, diff):
        return cls() if diff is None else cls(diff.rtol, diff.atol, diff.exact)

    def describe(self):
        if self.exact:
            return "bitwise: any change of a value departs"
        return f"a value passes when |now − golden| ≤ {self.atol:g} + {self.rtol:g}·|golden| (shaded)"

    def departing(self, name, e, g):
        """The epochs (1-based) where now departs, while both curves run."""
        n = min(len(e), len(g))
        return np.flatnonzero(out_of_tolerance(e[:n], g[:n], self.rtol, self.atol, self.exact)) + 1

    def first(self, name, e, g):
        bad = self.departing(name, e, g)
        if bad.size:
            return int(bad[0])
        return min(len(e), len(g)) + 1 if len(e) != len(g) else None  # the shorter run ended there

    def shade(self, ax, name, e, g):
        """Golden ± tolerance: at float64's defaults thinner than the line, and said so."""
        if not self.exact:
            tol = allowed(e, self.rtol, self.atol)
            thin = np.nanmax(tol, initial=0) < 0.002 * _span(e, g)
            label = "golden ± tolerance" + (" (thinner than the line)" if thin else "")
            ax.fill_between(_epochs(e), e - tol, e + tol, color=GOLDEN, alpha=0.3, lw=0, label=label)

    def test(self, ax, name, e, g):
        """|now - golden| per epoch against the tolerance, on a log scale; the panel's title."""
        n = min(len(e), len(g))
        x, diff, tol = _epochs(e)[:n], np.abs(g[:n] - e[:n]), allowed(e[:n], self.rtol, self.atol)
        seen = np.isfinite(diff) & (diff > 0)
        if seen.any():  # no value where now equals golden: the line breaks there instead of bridging it
            shown = np.where(seen, diff, np.nan)
            ax.plot(x, shown, color=NOW, marker=".", ms=6 if n <= 50 else 3, label="|now − golden|")
        levels = np.concatenate([diff[seen], [] if self.exact else tol[np.isfinite(tol) & (tol > 0)]])
        if levels.size:
            _log_axis_of_whole_decades(ax, levels)
            if not self.exact:
                ax.plot(x, tol, color=GOLDEN, lw=1, label="tolerance")
                floor = ax.get_ylim()[0]
                ax.fill_between(x, floor, tol, color=GOLDEN, alpha=0.15, lw=0, label="within tolerance")
        else:
            ax.set_yticks([])  # bitwise equal: nothing to draw on a log scale
        ax.set(ylabel="|now − golden|")
        bad = self.departing(name, e, g)
        if bad.size:
            word = "differs" if self.exact else "out of tolerance"
            return f"{word} at {bad.size} of {n} epochs, first at epoch {bad[0]}"
        ends = f" while both run; {len(e)} vs {len(g)} epochs" if len(e) != len(g) else ""
        return ("identical" if self.exact else "within tolerance") + ends


@dataclass
class _Band:
    """The band lane: Welch's t per epoch on the two bands' means, flagged below alpha / tests."""

    diff: BandDiff

    def describe(self):
        d = self.diff
        seeds = f"golden seeds {seeds_text(list(d.seeds[0]))}, now {seeds_text(list(d.seeds[1]))}"
        rule = f"Welch's p < {d.alpha:g} / {d.tests} tests = {d.threshold:.1e}"
        return f"band lane ({seeds}): an epoch departs where {rule}"

    def departing(self, name, e, g):
        return np.array([t.epoch for t in self.diff.flagged if t.metric == name], dtype=int)  # by epoch

    def first(self, name, e, g):
        bad = self.departing(name, e, g)
        return int(bad[0]) if bad.size else None

    def shade(self, ax, name, e, g):
        """Each band's mean ± 1 std over its seeds."""
        for band, color, who in zip(self.diff.bands, (GOLDEN, NOW), ("golden", "now"), strict=True):
            b = band["metrics"].get(name) if band else None
            if b is not None:
                mean, std = as_floats(b["mean"]), np.nan_to_num(as_floats(b["std"]))
                label = f"{who} band: mean ± 1 std of {len(band['seeds'])} seeds"
                ax.fill_between(
                    _epochs(mean), mean - std, mean + std, color=color, alpha=0.2, lw=0, label=label
                )

    def test(self, ax, name, e, g):
        """Welch's p per epoch tested against the threshold, on a log scale; the panel's title."""
        tests, threshold = [t for t in self.diff.tested if t.metric == name], self.diff.threshold
        p = np.array([t.p for t in tests])
        floor = 10.0 ** math.floor(math.log10(min([threshold, *p[p > 0]]) / 10))  # p = 0 is drawn here
        ax.plot([t.epoch for t in tests], np.maximum(p, floor), color=NOW, marker=".", label="Welch's p")
        ax.set_yscale("log")
        ax.set_ylim(floor, 2)
        ax.axhline(threshold, color=NOW, lw=1)
        ax.axhspan(floor, threshold, color=NOW, alpha=0.12, lw=0, label="departs: p below the threshold")
        ax.set(ylabel="Welch's p")
        bad = self.departing(name, e, g)
        if bad.size:
            return f"departs at {bad.size} of {len(tests)} epochs tested, first at epoch {bad[0]}"
        return f"within the band at all {len(tests)} epochs tested"


def _span(*curves):
    """max - min of the finite values of the curves; 0 when there are none."""
    ys = np.concatenate(curves)
    ys = ys[np.isfinite(ys)]
    return float(np.ptp(ys)) if ys.size else 0.0


def _log_axis_of_whole_decades(ax, ys):
    """A log y axis from the decade below the smallest of the positive ys to the decade above the
    largest: differences that are equal but for rounding (0.01 +- 1e-17, one accuracy sample)
    would otherwise span a sliver of a decade, every tick of it labelled 10^-2."""
    # 0.9 and 1.1: a point on a decade (0.01) stays off the edge of the axes
    lo, hi = math.floor(math.log10(0.9 * ys.min())), math.ceil(math.log10(1.1 * ys.max()))
    ax.set_yscale("log")
    ax.set_ylim(10.0**lo, 10.0**hi)
