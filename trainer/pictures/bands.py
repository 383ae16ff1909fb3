"""The picture of a seed group: per epoch, the mean over seeds with a std band and a paler min-max band.

Drawn from the seeds' metrics.jsonl files, like every picture here read back from the run's files.
"""

from pathlib import Path

import numpy as np

from trainer.curves.tolerance import as_floats
from trainer.errors import TrainerError
from trainer.groups.seed_group import GROUP_FILE, seed_dir
from trainer.pictures.plots import COLORS, DPI, _figure, _log_scale_if_wide, save
from trainer.stats import bands
from trainer.storage.files import make_dir, read_json, read_jsonl

# panel -> the metrics it shows, each with its colour and its name in the legend (as curves.png names them)
PANELS = {
    "loss": (
        ("train_loss", COLORS[0], "train: objective (cross-entropy + L2)"),
        ("val_loss", COLORS[1], "validation: cross-entropy"),
    ),
    "accuracy": (
        ("train_accuracy", COLORS[2], "train: running (each batch before its step)"),
        ("val_accuracy", COLORS[3], "validation: after the epoch"),
    ),
}
STD, RANGE = 0.3, 0.12  # the opacity of the +-1 std band and of the paler min-max band


def plot_group(group_dir, out=None, fmt="png", dpi=DPI):
    """Draw curves.<fmt> at `dpi` for the seed group in `group_dir` from its seeds' metrics.jsonl
    files, into `out` (default: the group's directory); a list of the path written."""
    group_dir = Path(group_dir)
    out = group_dir if out is None else Path(out)
    group = read_json(group_dir / GROUP_FILE, "seed group file")
    if not isinstance(group, dict) or not isinstance(group.get("seeds"), list):
        raise TrainerError(f"{group_dir / GROUP_FILE}: not a seed group file (no list of seeds)")
    histories = [
        read_jsonl(seed_dir(group_dir, s) / "metrics.jsonl")
        for s in group["seeds"]
        if (seed_dir(group_dir, s) / "metrics.jsonl").exists()
    ]
    histories = [h for h in histories if h]
    if not histories:
        raise TrainerError(f"{group_dir}: no seed of the group has recorded an epoch yet")
    title = f"{group.get('name')}: per epoch, the mean over {len(histories)} seeds, ±1 std and min to max"
    make_dir(out)
    save(band_figure(histories, title), out / f"curves.{fmt}", fmt, dpi)
    return [out / f"curves.{fmt}"]


def band_figure(histories, title):
    """One panel per entry of PANELS that the histories hold: mean line, +-std band, min-max band;
    the legend names each metric and which band is which."""
    from matplotlib.ticker import MaxNLocator

    shown = {p: [m for m in ms if m[0] in histories[0][0]] for p, ms in PANELS.items()}
    shown = {p: ms for p, ms in shown.items() if ms}
    fig = _figure(5.5 * len(shown) + 0.5, 4.4)
    for ax, (panel, metrics) in zip(
        fig.subplots(1, len(shown), squeeze=False)[0], shown.items(), strict=True
    ):
        for metric, color, label in metrics:
            b = bands([[r.get(metric) for r in h] for h in histories])
            epochs = np.arange(1, len(b["n"]) + 1)
            mean, std = as_floats(b["mean"]), np.nan_to_num(as_floats(b["std"]))
            ax.fill_between(epochs, as_floats(b["min"]), as_floats(b["max"]), color=color, alpha=RANGE, lw=0)
            ax.fill_between(epochs, mean - std, mean + std, color=color, alpha=STD, lw=0)
            ax.plot(epochs, mean, color=color, label=label)
        ax.set(title=panel, xlabel="epoch", ylabel=panel)
        if panel == "loss":
            _log_scale_if_wide(ax)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(handles=[*ax.get_lines(), *_band_handles()], loc="best", fontsize="small")
    fig.suptitle(title)
    return fig


def _band_handles():
    """Legend entries saying what a line and each shade is, in grey: they hold for every colour."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    mean = Line2D([], [], color="0.3", label="line: the mean over the seeds")
    return [
        mean,
        *(Patch(color="0.3", alpha=a, lw=0, label=w) for a, w in ((STD, "±1 std"), (RANGE, "min to max"))),
    ]
