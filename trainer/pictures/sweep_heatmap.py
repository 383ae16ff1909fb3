"""sweep_heatmap.png: a sweep over two keys as a grid of cells, each coloured by its trial's score
with the score written in it; the best cell outlined, chance-level cells hatched, failed ones grey."""

import numpy as np

from trainer.pictures.plots import _figure
from trainer.pictures.sweep_results import CHANCE, params_text, value_text


def heatmap_figure(results):
    """A two-key grid: the first key across, the second up; each cell the score of its trial."""
    from matplotlib import colormaps
    from matplotlib.patches import Rectangle

    (kx, xv), (ky, yv) = results.grid.items()
    cell = {}
    for t in results.trials:  # best first: a value given twice (0.1,1e-1) keeps its best trial
        cell.setdefault((value_text(t["params"][kx]), value_text(t["params"][ky])), t)
    trials = np.array([[cell.get((value_text(x), value_text(y))) for x in xv] for y in yv], dtype=object)
    scores = np.array(
        [[np.nan if t is None or t["error"] else t["mean_val_score"] for t in row] for row in trials]
    )
    fig = _figure(2.6 + 1.1 * len(xv), 3.0 + 0.75 * len(yv))
    # the grid, and below it a strip for the legend, which would otherwise cover cells
    grid = fig.add_gridspec(2, 1, height_ratios=[2.0 + 0.75 * len(yv), 1.0])
    ax, strip = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    strip.axis("off")
    cmap = colormaps["viridis"].with_extremes(bad="0.88")  # a failed trial's cell: light grey
    image = ax.imshow(scores, cmap=cmap, origin="lower", aspect="auto")
    fig.colorbar(image, ax=ax, label=results.score, shrink=0.9)
    _label_cells(ax, trials, scores, results.spread)
    best = results.trials[0]
    i, j = next(ij for ij, t in np.ndenumerate(trials) if t is best)
    ax.add_patch(Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False, edgecolor="red", lw=2.5))
    ax.set_xticks(range(len(xv)), labels=[value_text(v) for v in xv])
    ax.set_yticks(range(len(yv)), labels=[value_text(v) for v in yv])
    ax.set(xlabel=kx, ylabel=ky)
    strip.legend(handles=_handles(trials, best), loc="center", fontsize="small", frameon=False)
    cells = f"\neach cell: the mean, and below it {results.spread}" if results.spread else ""
    ax.set_title(f"{results.name}: {results.score.split(' (')[0]} of each trial{cells}", fontsize="medium")
    return fig


def _label_cells(ax, trials, scores, spread):
    """Each cell's score (its spread, "chance", or "failed") in ink that shows on its colour; the
    cells of trials at chance level hatched."""
    from matplotlib.patches import Rectangle

    lo, hi = np.nanmin(scores), np.nanmax(scores)
    for (i, j), t in np.ndenumerate(trials):
        chance = t is not None and t["chance"]
        ax.text(
            j,
            i,
            _cell_text(t, spread),
            ha="center",
            va="center",
            fontsize="small",
            color="black" if chance else _ink(scores[i, j], lo, hi),
            # on a hatched cell, the text on a pale patch of its own, so the stripes do not cross it
            bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="none", alpha=0.85) if chance else None,
        )
        if chance:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//", edgecolor=CHANCE, lw=0))


def _handles(trials, best):
    """Legend entries: the best cell's outline, and the marks of chance and failed cells if any."""
    from matplotlib.patches import Patch

    handles = [Patch(fill=False, edgecolor="red", lw=2.5, label=f"best: {params_text(best)}")]
    if any(t is not None and t["chance"] for t in trials.flat):
        handles.append(
            Patch(fill=False, hatch="//", edgecolor=CHANCE, label="at chance level (learned nothing)")
        )
    if any(t is not None and t["error"] for t in trials.flat):
        handles.append(Patch(color="0.88", label="failed (no score)"))
    return handles


def _cell_text(t, spread):
    """What a cell says: its trial's score, its spread over folds or seeds, and whether it is at chance."""
    if t is None:
        return "not run"
    if t["error"] is not None:
        return "failed"
    text = f"{t['mean_val_score']:.3f}"
    if spread and len(t["val_scores"]) > 1:
        text += f"\n±{t['std_val_score']:.3f}"
    return text + ("\nchance" if t["chance"] else "")


def _ink(score, lo, hi):
    """Black on viridis's bright end, white on its dark end and black on a failed cell's grey."""
    if np.isnan(score):
        return "black"
    return "black" if hi == lo or (score - lo) / (hi - lo) > 0.55 else "white"
