"""Pictures of a finished sweep, drawn from its results.json and sweep.json into its directory:

  sweep_<key>.png     the score against each swept key's values, on a log axis when they span a
                      factor of 100 or more; with more keys, the best trial at each value; error
                      bars: the std over the folds or seeds, when a trial has more than one score
  sweep_heatmap.png   a grid of two keys: each cell coloured by its score, the score written in it
                      (sweep_heatmap.py)
  sweep_curves.png    every trial's per-epoch curve, coloured by rank (sweep_curves.py)

Failed trials and trials at chance level are marked in each picture, never left out. As in plots.py,
matplotlib is imported lazily, Figures are bare and saved by plots.save, and `trainer plot
SWEEP_DIR` draws what `trainer sweep` drew, from the same files.
"""

import textwrap
from pathlib import Path

from trainer.pictures.plots import COLORS, DPI, _figure, save_pictures
from trainer.pictures.sweep_curves import curves_figure
from trainer.pictures.sweep_heatmap import heatmap_figure
from trainer.pictures.sweep_results import CHANCE, params_text, read_sweep, value_text


def plot_sweep(sweep_dir, out=None, fmt="png", dpi=DPI):
    """Draw the pictures of the finished sweep in `sweep_dir` into `out` (default: the sweep's
    directory) as `fmt` files (plots.FORMATS) at `dpi`; return the paths written."""
    out = Path(sweep_dir) if out is None else Path(out)
    figures = sweep_figures(read_sweep(sweep_dir))
    return save_pictures(figures, out, fmt, dpi, names=sweep_pictures(out, fmt))


def sweep_figures(results):
    """picture name -> Figure: one per swept key, the heat map of a two-key grid, the curves."""
    figures = {f"sweep_{key}": key_figure(results, key) for key in results.grid}
    if len(results.grid) == 2:
        figures["sweep_heatmap"] = heatmap_figure(results)
    if any(t.get("curve") for t in results.trials):  # none: every trial journaled without one
        figures["sweep_curves"] = curves_figure(results)
    return figures


def sweep_pictures(directory, fmt="png"):
    """The names of the sweep pictures (sweep_*.fmt) in `directory`: an earlier sweep's may be over
    other keys."""
    return [path.stem for path in Path(directory).glob(f"sweep_*.{fmt}")]


def _numeric(values):
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def key_figure(results, key):
    """The score against `key`'s values: with other keys, the best-ranked trial at each value (grey
    dots: every trial). Error bars when trials have a spread; chance and failed trials marked."""
    values = results.grid[key]
    numeric = _numeric(values)
    log = numeric and min(values) > 0 and max(values) >= 100 * min(values)
    x_of = {value_text(v): (v if numeric else i) for i, v in enumerate(values)}
    others = [k for k in results.grid if k != key]
    fig = _figure(8.6, 4.8)
    ax = fig.subplots()
    if others:
        _every_trial(ax, results.trials, key, x_of)
    best = [_best_at(results.trials, key, v) for v in values]
    shown = [(x_of[value_text(v)], t) for v, t in zip(values, best, strict=True) if t is not None]
    _draw_points(ax, shown, label="best trial at each value" if others else "trial")
    _mark_failed(ax, [x_of[value_text(t["params"][key])] for t in results.trials if t["error"] is not None])
    top = results.trials[0]
    ax.scatter(
        x_of[value_text(top["params"][key])],
        top["mean_val_score"],
        s=220,
        facecolors="none",
        edgecolors="black",
        lw=1.5,
        zorder=4,
        label=textwrap.fill(f"best: {params_text(top)}", 34, subsequent_indent="  "),
    )
    ax.set_xscale("log" if log else "linear")
    _value_ticks(ax, x_of, numeric)
    ax.set(xlabel=f"{key}{' (log scale)' if log else ''}", ylabel=results.score)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    how = f"at each value, the best trial over {', '.join(others)}" if others else "one trial per value"
    bars = f"; error bars: {results.spread}" if results.spread else ""
    fig.suptitle(
        f"{results.name}: {results.score.split(' (')[0]} against {key}\n{how}{bars}", fontsize="medium"
    )
    return fig


def _every_trial(ax, trials, key, x_of):
    """Each scored trial at its value of `key`: a grey dot, or a small hollow diamond at chance level."""
    for chance in (False, True):
        shown = [t for t in trials if t["error"] is None and t["chance"] == chance]
        if shown:
            ax.scatter(
                [x_of[value_text(t["params"][key])] for t in shown],
                [t["mean_val_score"] for t in shown],
                s=22 if chance else 14,
                marker="D" if chance else "o",
                facecolors="none" if chance else "0.6",
                edgecolors=CHANCE if chance else "0.6",
                zorder=1,
                label="every trial at chance level" if chance else "every trial",
            )


def _best_at(trials, key, value):
    """The best-ranked trial that scored with `key` at `value` (trials are best first), or None."""
    text = value_text(value)
    return next((t for t in trials if t["error"] is None and value_text(t["params"][key]) == text), None)


def _draw_points(ax, shown, label):
    """A line through (x, trial) pairs, each trial's score a dot (a hollow diamond at chance level)
    with its error bar when it has a spread."""
    shown = sorted(shown, key=lambda p: p[0])
    xs = [x for x, _ in shown]
    ys = [t["mean_val_score"] for _, t in shown]
    errors = [(t["std_val_score"] or 0.0) if len(t["val_scores"]) > 1 else 0.0 for _, t in shown]
    ax.plot(xs, ys, color=COLORS[0], zorder=2)
    ax.errorbar(xs, ys, yerr=errors, fmt="none", ecolor=COLORS[0], capsize=4, zorder=2)
    learned = [(x, t["mean_val_score"]) for x, t in shown if not t["chance"]]
    chance = [(x, t["mean_val_score"]) for x, t in shown if t["chance"]]
    if learned:
        ax.scatter(*zip(*learned, strict=True), s=40, color=COLORS[0], zorder=3, label=label)
    if chance:
        ax.scatter(
            *zip(*chance, strict=True),
            s=60,
            marker="D",
            facecolors="white",
            edgecolors=CHANCE,
            lw=1.8,
            zorder=3,
            label=f"{label}, at chance level",
        )


def _mark_failed(ax, xs):
    """A black cross at the foot of the axes for each failed trial's value (it has no score)."""
    if xs:
        ax.scatter(
            xs,
            [0.04] * len(xs),
            transform=ax.get_xaxis_transform(),  # x in data, y in axes units
            marker="X",
            s=70,
            color="black",
            zorder=3,
            label=f"failed, no score ({len(xs)} trial{'s' if len(xs) > 1 else ''})",
        )


def _value_ticks(ax, x_of, numeric):
    """A tick at each grid value and none between them (a log axis's minor ticks would crowd them),
    and room beside the first and last value."""
    from matplotlib.ticker import NullLocator

    xs = list(x_of.values())
    ax.set_xticks(xs, labels=list(x_of))
    ax.xaxis.set_minor_locator(NullLocator())
    if not numeric:
        ax.set_xlim(-0.5, len(xs) - 0.5)
    elif ax.get_xscale() == "log":  # 5% of the span as room at each end (set_xticks leaves none)
        room = (max(xs) / min(xs)) ** 0.05 if len(xs) > 1 else 3.0
        ax.set_xlim(min(xs) / room, max(xs) * room)
    else:
        room = 0.05 * (max(xs) - min(xs)) if len(xs) > 1 else max(abs(xs[0]), 1.0)
        ax.set_xlim(min(xs) - room, max(xs) + room)
