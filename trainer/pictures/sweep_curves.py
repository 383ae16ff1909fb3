"""sweep_curves.png: every trial of a sweep, its per-epoch curve coloured by rank, the best named.

A trial's curve is what its fits recorded each epoch (results.json's "curve": the mean over its
folds and seeds): validation loss and accuracy when the fits held out validation rows, else the
training objective, the one number per epoch a fold without validation rows has.
"""

import numpy as np

from trainer.curves.tolerance import as_floats
from trainer.pictures.plots import _figure, _log_scale_if_wide
from trainer.pictures.sweep_results import params_text

# what a curve's metric is: a panel's title and y label
METRICS = {
    "val_loss": ("validation loss", "cross-entropy"),
    "train_loss": ("training objective (the folds hold out no validation rows)", "cross-entropy + L2"),
    "val_accuracy": ("validation accuracy", "accuracy"),
}


def curves_figure(results):
    """A panel per metric the curves hold: one line per trial, dark for the best ranks, the best
    thick and named, trials at chance level dashed; failed trials (no curve) named in the legend."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.ticker import MaxNLocator

    drawn = [t for t in results.trials if t.get("curve")]
    metrics = [m for m in METRICS if m in drawn[0]["curve"]]
    fig = _figure(5.6 * len(metrics) + 1.6, 5.4)
    # a row of panels, and below them a strip for the legend: it names the best and failed trials
    # at length, and inside a panel it would cover the curves
    grid = fig.add_gridspec(2, len(metrics), height_ratios=[6, 1])
    axes = [fig.add_subplot(grid[0, j]) for j in range(len(metrics))]
    strip = fig.add_subplot(grid[1, :])
    strip.axis("off")
    last = max(t["rank"] for t in results.trials)
    # a colour per rank, from viridis short of its pale yellow end (it would hardly show on white)
    cmap = ListedColormap(colormaps["viridis"](np.linspace(0.0, 0.85, 256)))
    norm = BoundaryNorm(np.arange(0.5, last + 1), cmap.N)
    best = results.trials[0]
    over = results.score.partition(" (")[2].rstrip(")")  # "mean over 5 folds", or ""
    for ax, metric in zip(axes, metrics, strict=True):
        for t in reversed(drawn):  # the best drawn last, on top
            values = as_floats(t["curve"][metric])
            ax.plot(
                range(1, len(values) + 1),
                values,
                color=cmap(norm(t["rank"])),
                lw=2.6 if t is best else 1.1,
                ls="--" if t["chance"] else "-",
                alpha=1.0 if t is best else 0.8,
            )
        title, unit = METRICS[metric]
        ax.set(title=title, xlabel="epoch", ylabel=f"{unit}, {over}" if over else unit)
        if metric != "val_accuracy":
            _loss_axis(ax, drawn, metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    bar = fig.colorbar(ScalarMappable(norm, cmap), ax=axes, label="rank (1 = best)", shrink=0.9)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    strip.legend(
        handles=_handles(results, best, cmap(norm(1))), loc="center", fontsize="small", frameon=False
    )
    fig.suptitle(f"{results.name}: every trial's curve per epoch, coloured by rank")
    return fig


def _loss_axis(ax, drawn, metric):
    """Cut the loss axis at 3 times the highest loss of a trial that learned when a trial at chance
    level blew up far past it (its line leaves the top); then a log axis if what shows spans 10x."""
    every = _finite([t for t in drawn], metric)
    learned = _finite([t for t in drawn if not t["chance"]], metric)
    shown, top = every, None
    if learned.size and every.max() > 10 * learned.max():
        top = 3 * learned.max()
        shown = every[every <= top]
        ax.set_title(f"{ax.get_title()}\n(axis cut at {top:.3g}: the lines leaving the top go far higher)")
    _log_scale_if_wide(ax, shown)
    if top is not None:  # after the scale: room below the lowest value, a share of the span or a factor
        log = ax.get_yscale() == "log"
        ax.set_ylim(shown.min() / 1.15 if log else shown.min() - 0.05 * (top - shown.min()), top)
    if ax.get_yscale() == "log" and shown.max() > 1e4 * shown.min():
        from matplotlib.ticker import LogFormatterSciNotation

        ax.yaxis.set_major_formatter(LogFormatterSciNotation())  # 10^6, not 1e+06 beside 100000


def _finite(trials, metric):
    values = np.concatenate([as_floats(t["curve"][metric]) for t in trials] or [np.empty(0)])
    return values[np.isfinite(values)]


def _handles(results, best, color):
    """Legend entries: the best trial, and the marks of chance and failed trials when there are any."""
    from matplotlib.lines import Line2D

    def trials(n):
        return f"{n} trial{'s' if n > 1 else ''}"

    handles = [Line2D([], [], color=color, lw=2.6, label=f"best (rank 1): {params_text(best)}")]
    chance = sum(t["chance"] for t in results.trials)
    if chance:
        handles.append(
            Line2D([], [], color="0.4", ls="--", label=f"dashed: at chance level ({trials(chance)})")
        )
    failed = [t for t in results.trials if t["error"] is not None]
    if failed:
        names = "; ".join(params_text(t) for t in failed[:3]) + ("; ..." if len(failed) > 3 else "")
        handles.append(
            Line2D(
                [],
                [],
                color="black",
                ls="",
                marker="X",
                label=f"failed, no curve ({trials(len(failed))}): {names}",
            )
        )
    return handles
