"""The picture of `trainer compare A B --plot FILE`: both sides' curves per epoch on shared axes and,
when both are groups over the same seeds, B - A seed by seed.

A panel per metric that both sides record (train and val loss in a row, train and val accuracy in
the next), A and B in each, read back from their metrics.jsonl files. A seed group is drawn as its
per-epoch mean over the seeds compare counts (diverged ones left out) with the 95% Student's t
interval of that mean shaded (stats.band_intervals); a single run as its curve. When the
comparison is paired (comparison.is_paired) a column more shows, per seed, B - A of the final loss
and accuracy (the test split's, else the validation's, else the training's), their mean with its
interval, and in the title in how many seeds B is ahead: the numbers of compare's table.
"""

from pathlib import Path

import numpy as np

from trainer import stats
from trainer.curves.tolerance import as_floats
from trainer.groups.comparison import direction, paired_values
from trainer.groups.seed_group import seed_dir
from trainer.pictures.plots import COLORS, DPI, _figure, _log_scale_if_wide, save
from trainer.storage.files import make_dir, read_jsonl

ROWS = {"loss": ("train_loss", "val_loss"), "accuracy": ("train_accuracy", "val_accuracy")}
SIDES = (("A", COLORS[0], "-"), ("B", COLORS[5], "--"))  # letter, colour, line style
SPLITS = ("test", "val", "train")  # whose final metrics the paired column shows: the first recorded


def plot_comparison(a, b, result, path, fmt="png", dpi=DPI):
    """Draw sides a and b (comparison.Side) with their compare_sides() result into `path`; return it."""
    make_dir(Path(path).parent)
    save(comparison_figure(a, b, result), path, fmt, dpi)
    return path


def comparison_figure(a, b, result):
    """The Figure plot_comparison writes: a row per ROWS entry, a column per metric, and when
    paired a last column of B - A per seed."""
    curves = [_per_metric(side) for side in (a, b)]  # per side: metric -> one list per seed
    rows = {r: [m for m in ms if m in curves[0] and m in curves[1]] for r, ms in ROWS.items()}
    finals = _finals(result) if result["paired"] else {}
    layout = _layout({r: ms for r, ms in rows.items() if ms}, finals)
    legend = 1.7 if finals else 0.0  # room for the differences' legends, beside their panels
    fig = _figure(4.3 * len(layout[0]) + 0.4 + legend, 3.5 * len(layout) + 0.9)
    axes = fig.subplot_mosaic(layout)
    metrics = [m for ms in rows.values() for m in ms]
    for metric in metrics:
        _metric_panel(axes[metric], metric, [c[metric] for c in curves], result)
    for key in finals.values():
        _differences(axes[key], key, a, b, result["metrics"][key])
    axes[metrics[0]].legend(loc="best", fontsize="small")
    fig.suptitle(_title(result))
    return fig


def _layout(rows, finals):
    """subplot_mosaic's layout: a row of metric panels per row of ROWS, the final metric's
    differences at its end when paired; one metric a row and nothing beside it: one row."""
    width = max(len(ms) for ms in rows.values())
    if width == 1 and not finals:
        return [[m for ms in rows.values() for m in ms]]
    end = (lambda r: [finals.get(r, ".")]) if finals else (lambda r: [])
    return [[*ms, *["."] * (width - len(ms)), *end(r)] for r, ms in rows.items()]


def _metric_panel(ax, metric, sides, result):
    """One metric's panel: A and B on shared axes."""
    from matplotlib.ticker import MaxNLocator

    loss = "loss" in metric
    _curves(ax, sides, (result["a"], result["b"]), (0, np.inf if loss else 1))
    ylabel = {"train_loss": "objective (cross-entropy + L2)"}.get(
        metric, "cross-entropy" if loss else "accuracy"
    )
    ax.set(title=metric, xlabel="epoch", ylabel=ylabel)
    if loss:
        _log_scale_if_wide(ax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def _per_metric(side):
    """metric -> per seed (a run: its one) the list of per-epoch values, from metrics.jsonl."""
    dirs = [seed_dir(side.path, s) for s in side.seeds] if side.group else [side.path]
    histories = [read_jsonl(d / "metrics.jsonl") for d in dirs]
    names = [m for row in ROWS.values() for m in row if all(m in h[0] for h in histories if h)]
    return {m: [[r.get(m) for r in h] for h in histories] for m in names}


def _curves(ax, sides, records, limits):
    """Each side's curve: a group's per-epoch mean with the 95% interval of the mean (clipped to
    the metric's `limits`: with few seeds it can reach past them), a run's values."""
    for (letter, color, ls), seeds, record in zip(SIDES, sides, records, strict=True):
        band = stats.bands(seeds)
        epochs = np.arange(1, len(band["mean"]) + 1)
        ax.plot(epochs, as_floats(band["mean"]), color=color, ls=ls, label=_label(letter, record))
        if len(seeds) > 1:
            low, high = (np.clip(as_floats(v), *limits) for v in stats.band_intervals(band))
            ax.fill_between(
                epochs, low, high, color=color, alpha=0.22, lw=0, label=f"{letter}: 95% CI of the mean"
            )


def _label(letter, record):
    """'A: runs/base (iris, mean of 3 seeds)': the side as compare's header names it."""
    n = len(record["seeds"])
    what = f"mean of {n} seeds" if n > 1 else f"seed {record['seeds'][0]}"
    return f"{letter}: {record['path']} ({record['name']}, {what})"


def _finals(result):
    """{"loss": key, "accuracy": key}: the final metrics the paired column shows (SPLITS' first)."""
    found = {}
    for row in ROWS:
        keys = [f"{split}.{row}" for split in SPLITS if f"{split}.{row}" in result["metrics"]]
        if keys:
            found[row] = keys[0]
    return found


def _differences(ax, key, a, b, m):
    """B - A of metric `key` per seed as bars (B's colour where B is ahead, A's where A is), their
    mean and its interval; the title says in how many seeds B is ahead."""
    va, vb = paired_values(a, b, key)
    d, better = np.subtract(vb, va), direction(key)
    x = np.arange(len(d))
    for where, (letter, color, _) in ((d * better > 0, SIDES[1]), (d * better < 0, SIDES[0])):
        if where.any():
            ax.bar(x[where], d[where], color=color, alpha=0.8, label=f"{letter} ahead")
    if (d == 0).any():
        ax.plot(x[d == 0], d[d == 0], ls="", marker="o", color="0.5", label="equal")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.axhline(m["difference"], color="0.15", ls="--", lw=1.2, label=f"mean {m['difference']:+.3g}")
    if m["ci_low"] is not None:
        ax.axhspan(m["ci_low"], m["ci_high"], color="0.5", alpha=0.18, lw=0, label="95% CI of the mean")
    ahead = m["above"] if better > 0 else m["below"]
    equal = f" ({m['equal']} equal)" if m["equal"] else ""
    ax.set_title(f"final {key}, B − A per seed\nB ahead in {ahead} of {len(d)} seeds{equal}")
    ax.set_xticks(x, labels=[str(s) for s in a.seeds])
    sign = ">" if better > 0 else "<"
    ax.set(xlabel="seed", ylabel=f"B − A ({sign} 0: B better)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")  # beside: bars stay in view


def _title(result):
    a, b = result["a"], result["b"]
    if not a["group"] and not b["group"]:
        return "A vs B: two runs, per-epoch curves"
    text = "A vs B: per epoch, a seed group's mean over its seeds with the 95% Student's t interval shaded"
    if result["paired"]:
        return text + "\nright: B − A seed by seed (paired: both groups ran the same seeds)"
    return text + ("\nunpaired: the groups ran other seeds" if a["group"] and b["group"] else "")
