"""Pictures of a run: loss curves, the test confusion matrix and 2-D decision regions, as PNG files;
and what every picture module here shares (the figure, the palette, saving, whether matplotlib is there).

matplotlib is the optional `plot` extra, so it is imported inside the functions that draw. They
draw on a bare `matplotlib.figure.Figure` printed by the Agg canvas: no display, no pyplot and no
global backend choice. Everything is read back from the run directory's files, so `trainer plot`
draws the same pictures as `trainer train` without retraining.
"""

import io
import math
from pathlib import Path

import numpy as np

from trainer.config.load import config_from_dict
from trainer.curves.tolerance import as_floats
from trainer.errors import pip_install
from trainer.evaluate import model_splits
from trainer.model.metrics import confusion_counts
from trainer.storage.files import atomic_write, make_dir
from trainer.storage.rundir import read_run

PICTURE_NAMES = ("curves", "confusion", "boundary")
PICTURES = tuple(f"{name}.png" for name in PICTURE_NAMES)  # what `trainer train` draws
PLOT_REQUIREMENT = "matplotlib>=3.6"  # the `plot` extra of pyproject.toml
# Okabe & Ito's palette: told apart with every common colour-vision deficiency, and in print
COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
DPI = 120
# what each line of curves.png is: the train values are running means over the epoch's steps,
# each step's batch seen at the weights before it stepped; the validation ones come after the epoch
CURVE_LABELS = {
    "train_loss": "train: objective (cross-entropy + L2), mean over the epoch's batches",
    "val_loss": "validation: cross-entropy after the epoch",
    "train_accuracy": "train: running (each batch before its step)",
    "val_accuracy": "validation: after the epoch",
}


def install_hint():
    """The command that installs matplotlib where this trainer runs."""
    return pip_install(PLOT_REQUIREMENT)


def available():
    """True when matplotlib can be imported (the `plot` extra is installed)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_run(run_dir, out=None, fmt="png", dpi=DPI, splits=None):
    """Draw the pictures of a finished run into `out` (default: the run directory) as `fmt` files
    (FORMATS) at `dpi`; return the paths written.

    curves always; confusion when the run has a test split; boundary when the data has two numeric
    inputs. splits: the run's raw Splits, when the caller has them in memory (the run just
    trained); else they are recreated from the model's config (the same seed gives the same rows).
    The points are shown in raw feature units, and the model's own preprocessing maps them.
    """
    run_dir = Path(run_dir)
    out = run_dir if out is None else Path(out)
    model, history, summary = read_run(run_dir)
    cfg = config_from_dict(model.config)
    splits = model_splits(model) if splits is None else splits
    train, test = splits.train, splits.test
    score = f"test accuracy {summary['test']['accuracy']:.3f}" if "test" in summary else "no test split"
    best = summary["best_epoch"] if cfg.train.early_stopping else None

    def title(what):
        return f"{cfg.name}: {what} ({score})"

    figures = {"curves": curves_figure(history, title("training curves"), best)}
    if test is not None:
        counts = confusion_counts(test.y, model.predict(test, unknown="ignore"), model.n_classes)
        figures["confusion"] = confusion_figure(counts, model.classes, title("confusion matrix"))
    if model.n_features == 2 and not model.schema.categorical:
        figures["boundary"] = boundary_figure(model, train, test, title("decision regions"))
    return save_pictures(figures, out, fmt, dpi)


def save_pictures(figures, out, fmt="png", dpi=DPI, names=PICTURE_NAMES):
    """Save each name -> Figure as out/<name>.<fmt> at `dpi`, delete the pictures of `names` not
    drawn this time (an earlier drawing's), and return the paths written."""
    out = Path(out)
    make_dir(out)
    for name, fig in figures.items():
        save(fig, out / f"{name}.{fmt}", fmt, dpi)
    remove_pictures(out, keep=figures, fmt=fmt, names=names)
    return [out / f"{name}.{fmt}" for name in figures]


def remove_pictures(directory, keep=(), fmt="png", names=PICTURE_NAMES):
    """Delete the `fmt` pictures of `names` in `directory` not named in `keep`: an earlier
    drawing's, left by `--overwrite` or an earlier `plot --out` into the same directory."""
    for name in names:
        if name not in keep:
            (Path(directory) / f"{name}.{fmt}").unlink(missing_ok=True)


# format -> metadata that would differ from one drawing to the next (a date): left out, so the
# same run draws the same bytes
FORMATS = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def save(fig, path, fmt="png", dpi=DPI):
    """Print a Figure as `fmt` (FORMATS) through a bare canvas at `dpi` and write it atomically."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    with matplotlib.rc_context({"svg.hashsalt": "trainer"}):  # SVG ids from a fixed salt, not a random one
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=FORMATS[fmt])
    atomic_write(path, buf.getvalue())


def _column(records, key):
    """records[i][key] as floats; missing or null (a non-finite value in JSON) -> NaN."""
    return as_floats([r.get(key) for r in records])


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def curves_figure(history, title, best_epoch=None):
    """Loss per epoch (train and validation) beside accuracy per epoch (train, and validation when
    there is a split for it); a dotted line at the best epoch. Every line is labelled."""
    from matplotlib.ticker import MaxNLocator

    epochs = _column(history, "epoch")
    has_val = "val_loss" in history[0]
    accuracies = [k for k in ("train_accuracy", "val_accuracy") if k in history[0]]  # older runs: none
    fig = _figure(11, 4.4) if accuracies else _figure(6.4, 4.4)
    axes = fig.subplots(1, 2 if accuracies else 1, squeeze=False)[0]
    style = dict(marker="o" if len(epochs) <= 25 else None, ms=4)  # few epochs: show each one
    loss = axes[0]
    loss.plot(
        epochs, _column(history, "train_loss"), color=COLORS[0], label=CURVE_LABELS["train_loss"], **style
    )
    if has_val:
        loss.plot(
            epochs,
            _column(history, "val_loss"),
            color=COLORS[1],
            ls="--",
            label=CURVE_LABELS["val_loss"],
            **style,
        )
    loss.set(title="loss", xlabel="epoch", ylabel="loss")
    _log_scale_if_wide(loss)  # after set(ylabel=...): it adds "(log scale)"
    if accuracies:
        acc = axes[1]
        for key, color, ls in zip(accuracies, (COLORS[2], COLORS[3]), ("-", "--"), strict=False):
            acc.plot(epochs, _column(history, key), color=color, ls=ls, label=CURVE_LABELS[key], **style)
        acc.set(title="accuracy", xlabel="epoch", ylabel="accuracy")
    for ax in axes:
        if best_epoch:
            ax.axvline(
                best_epoch, color="0.35", ls=":", lw=1.5, label=f"best epoch {best_epoch} (weights restored)"
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    fig.suptitle(title)
    return fig


def _log_scale_if_wide(ax, ys=None):
    """A log y axis when the plotted values (or `ys`, those shown) span over a factor of 10, so the
    late epochs stay readable."""
    ys = np.concatenate([line.get_ydata() for line in ax.get_lines()]) if ys is None else np.asarray(ys)
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if len(ys) and ys.max() > 10 * ys.min():
        from matplotlib.ticker import FuncFormatter

        few_decades = ys.max() < 100 * ys.min()  # room to label 0.2 and 0.5 between 0.1 and 1
        ax.set_yscale("log")
        ax.set_ylabel(f"{ax.get_ylabel()} (log scale)")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # 0.1, not 10^-1
        ax.yaxis.set_minor_formatter(
            FuncFormatter(lambda v, _: f"{v:g}" if few_decades and _mantissa(v) in (2, 5) else "")
        )


def _mantissa(v):
    """The leading digit of a positive number: 2 for 0.2, 20 and 2e-5."""
    return round(v / 10 ** math.floor(math.log10(v)))


def confusion_figure(counts, classes, title):
    """Counts of the test split, true class down, predicted class across, each cell labelled."""
    side = confusion_side(len(classes))
    fig = _figure(side + 1.2, side)
    ax = fig.subplots()
    confusion_panel(ax, counts, classes, "test rows")
    n, right = counts.sum(), np.trace(counts)
    ax.set_title(f"{title}\n{right} of {n} test rows classified right")
    return fig


def confusion_side(n_classes):
    """The height in inches of a confusion panel of n classes: room for a number in every cell."""
    return min(4.0 + 0.35 * n_classes, 14.0)


def confusion_panel(ax, values, classes, what, shares=False):
    """A (C, C) matrix drawn as cells, true class down, predicted class across, each cell labelled
    with its value, and a colour bar saying what the values are (`what`: the rows counted).

    Counts on a square-root colour scale, so that a few mistakes still show against a diagonal of
    hundreds; with `shares`, each row's shares of its true class's rows (0 to 1, two decimals; a
    class without rows has none, its cells marked "-")."""
    from matplotlib.colors import Normalize, PowerNorm

    C = len(classes)
    if shares:
        norm, bar = Normalize(0, 1), f"share of the true class's {what}"
    else:
        norm, bar = PowerNorm(0.5, vmin=0, vmax=max(values.max(), 1)), f"{what} (square-root colour scale)"
    image = ax.imshow(np.ma.masked_invalid(values), cmap="Blues", norm=norm)
    ax.figure.colorbar(image, ax=ax, label=bar, shrink=0.85)
    names = [str(c) for c in classes]
    turn = max(map(len, names)) * C > 40  # long names side by side would overlap
    ax.set_xticks(range(C), labels=names, rotation=45 if turn else 0, ha="right" if turn else "center")
    ax.set_yticks(range(C), labels=names)
    ax.set(xlabel="predicted class", ylabel="true class")
    if C > 30:  # more cells than that are too small to hold a number
        return
    for (i, j), v in np.ndenumerate(values):
        dark = not np.isnan(v) and norm(v) > 0.5  # past the middle of the colour scale
        ax.text(
            j,
            i,
            _cell_text(v, shares),
            ha="center",
            va="center",
            fontsize="small" if C > 10 else "medium",
            color="white" if dark else "black" if v > 0 else "0.7",  # NaN > 0 is False
        )


def _cell_text(v, shares):
    """A confusion cell's label: a count, a share to two decimals, "0" for none, "-" for no rows at all.

    A share that two decimals would round to 0 or 1 without being either says so: "<0.01", ">0.99"."""
    if np.isnan(v):
        return "-"
    if v == 0:
        return "0"
    if not shares:
        return str(v)
    if v < 0.005:
        return "<0.01"
    return ">0.99" if 0.995 <= v < 1 else f"{v:.2f}"


def class_colors(n):
    """n colours: Okabe & Ito's first, then tab20's for more classes."""
    if n <= len(COLORS):
        return list(COLORS[:n])
    from matplotlib import colormaps

    return [colormaps["tab20"](i % 20) for i in range(n)]


def boundary_figure(model, train, test=None, title="", resolution=200):
    """Decision regions of a 2-feature model over raw feature units, shaded by confidence, with the points.

    `train` and `test` are raw Tables (test may be None); rows with a missing value are not drawn. The
    model's preprocessing maps the grid as it maps any raw row.
    """
    train, test = (None if t is None else t.take(~np.isnan(t.X).any(axis=1)) for t in (train, test))
    X = train.X if test is None else np.vstack([train.X, test.X])
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.where(hi > lo, 0.06 * (hi - lo), 1.0)
    xs, ys = (np.linspace(lo[j] - pad[j], hi[j] + pad[j], resolution) for j in range(2))
    grid = np.column_stack([a.ravel() for a in np.meshgrid(xs, ys)])  # (R*R, 2), x varies fastest
    proba = model.predict_proba(grid).astype(np.float64).reshape(resolution, resolution, -1)  # (R, R, C)
    colors = class_colors(model.n_classes)
    fig = _figure(7.6, 5.6)
    ax = fig.subplots()
    extent = (xs[0], xs[-1], ys[0], ys[-1])
    ax.imshow(
        _region_image(proba, colors), origin="lower", extent=extent, aspect="auto", interpolation="bilinear"
    )
    for k in range(model.n_classes):  # class k's border: where p_k equals the largest other probability
        ax.contour(
            xs,
            ys,
            proba[..., k] - np.delete(proba, k, axis=2).max(axis=2),
            levels=[0.0],
            colors="0.2",
            linewidths=1.0,
        )
    for k, color in enumerate(colors):
        ax.scatter(
            *train.X[train.y == k].T, s=14, color=color, edgecolors="white", linewidths=0.3, alpha=0.85
        )
        if test is not None:
            ax.scatter(
                *test.X[test.y == k].T, s=34, marker="^", color=color, edgecolors="black", linewidths=0.7
            )
    # the legend stands outside the axes: it never covers a point
    ax.legend(
        handles=_boundary_handles(model.classes, colors, test is not None),
        title="class",
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
    )
    ax.set(
        xlim=extent[:2],
        ylim=extent[2:],
        xlabel=model.feature_names[0],
        ylabel=model.feature_names[1],
        title=f"{title}\nin raw feature units; paler = less sure",
    )
    return fig


def _region_image(proba, colors):
    """(R, R, 3) RGB: the predicted class's colour, paler where the model is less sure."""
    from matplotlib.colors import to_rgb

    C = proba.shape[2]
    rgb = np.array([to_rgb(c) for c in colors])  # (C, 3)
    sure = (proba.max(axis=2) - 1 / C) / (1 - 1 / C)  # (R, R): 0 at a tie of all classes, 1 when certain
    strength = (0.12 + 0.33 * sure)[..., None]  # a tint, so the points on top stay visible
    return 1 - strength * (1 - rgb[proba.argmax(axis=2)])


def _boundary_handles(classes, colors, has_test):
    """Legend entries: a swatch per class, then the point markers and the boundary line."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], ls="", marker="s", ms=9, color=c, label=str(name))
        for name, c in zip(classes, colors, strict=True)
    ]
    handles.append(Line2D([], [], ls="", marker="o", ms=5, color="0.5", mec="white", label="train point"))
    if has_test:
        handles.append(Line2D([], [], ls="", marker="^", ms=7, color="0.5", mec="black", label="test point"))
    return handles + [Line2D([], [], color="0.2", lw=1.0, label="decision boundary")]
