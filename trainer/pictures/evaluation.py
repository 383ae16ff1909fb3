"""Pictures of an evaluation (`trainer evaluate --plot DIR`, drawn again by `trainer plot DIR`).

confusion         the confusion matrix twice: counts, and each row as shares of its true class
roc               two classes: the ROC curve of the positive class (the model's second), its area
                  (AUC), the chance diagonal and the model's own predictions as a point
precision_recall  two classes: the precision-recall curve, its average precision, the chance line
                  (precision = the share of positive rows) and the model's own predictions

Everything is read from the evaluation's directory (storage.evaldir); the curves and their areas
are scikit-learn's (model.metrics.binary_curves) on the stored scores.
"""

from pathlib import Path

import numpy as np

from trainer.model.metrics import binary_curves
from trainer.pictures.plots import COLORS, DPI, _figure, confusion_panel, confusion_side, save_pictures
from trainer.storage.evaldir import read_evaluation, write_evaluation

EVALUATION_PICTURES = ("confusion", "roc", "precision_recall")
CURVE_SIZE = (5.6, 5.4)  # inches, of roc; precision_recall is taller by its legend below the axes
LEGEND_BELOW = 0.7  # inches


def save_evaluation(directory, record, scores=None):
    """Write an evaluation's files into `directory` (storage.evaldir): record, and with the Scores of
    two classes, scores.npz and (rows of both classes there) the areas under their curves in
    evaluation.json. Whether the evaluation has ROC and precision-recall curves."""
    y = score = None
    if scores is not None:
        y, score = scores.y, scores.proba[:, 1]
    curves = has_curves(record["report"]["classes"], y)
    if curves:
        areas = binary_curves(y, score)
        record = record | {
            "positive_class": record["report"]["classes"][1],
            "roc_auc": areas["roc_auc"],
            "average_precision": areas["average_precision"],
        }
    write_evaluation(directory, record, y, score)
    return curves


def plot_evaluation(directory, out=None, fmt="png", dpi=DPI):
    """Draw the pictures of the evaluation in `directory` into `out` (default: the same directory)
    as `fmt` files at `dpi`; return the paths written."""
    directory = Path(directory)
    out = directory if out is None else Path(out)
    record, y, score = read_evaluation(directory)
    # an earlier evaluation's curves go, when this one has none
    return save_pictures(evaluation_figures(record, y, score), out, fmt, dpi, EVALUATION_PICTURES)


def evaluation_figures(record, y=None, score=None):
    """name -> Figure: the confusion matrix, and the ROC and precision-recall curves when there are
    two classes' scores with rows of both."""
    report = record["report"]
    classes = report["classes"]
    counts = np.asarray(report["confusion_matrix"], dtype=np.int64)
    where = f"{record['name']} on {record['source']}"
    figures = {"confusion": confusion_pair_figure(counts, classes, where)}
    if has_curves(classes, y):
        curves = binary_curves(y, score)
        negative, positive = (f"class {c}" for c in classes)
        figures["roc"] = roc_figure(curves, counts, negative, positive, where)
        figures["precision_recall"] = precision_recall_figure(curves, counts, positive, where)
    return figures


def has_curves(classes, y):
    """Whether an evaluation has ROC and precision-recall curves: two classes, rows of each."""
    return len(classes) == 2 and y is not None and len(np.unique(y)) == 2


def confusion_pair_figure(counts, classes, where):
    """Counts beside row-normalised shares (each row sums to 1): the second shows each class's
    recall on its diagonal, whatever the classes' sizes."""
    side = confusion_side(len(classes))
    fig = _figure(2 * side + 2.6, side + 0.5)
    left, right = fig.subplots(1, 2)
    confusion_panel(left, counts, classes, "rows")
    support = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # a class without rows: a row of NaN
        shares = np.where(support > 0, counts / support, np.nan)
    confusion_panel(right, shares, classes, "rows", shares=True)
    left.set_title("counts")
    right.set_title("row-normalised: share of each true class (recall on the diagonal)")
    n, hits = int(counts.sum()), int(np.trace(counts))
    fig.suptitle(
        f"{where}: confusion matrix\n{hits} of {n} rows classified right (accuracy {hits / max(n, 1):.4f})"
    )
    return fig


def _rate(hits, total):
    return hits / total if total else np.nan


def roc_figure(curves, counts, negative, positive, where):
    """True positive rate against false positive rate over every threshold, with its AUC."""
    fig = _figure(*CURVE_SIZE)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="chance (AUC 0.5)")
    ax.plot(
        curves["fpr"], curves["tpr"], color=COLORS[0], lw=2, label=f"ROC curve (AUC {curves['roc_auc']:.4f})"
    )
    fpr, tpr = _rate(counts[0, 1], counts[0].sum()), _rate(counts[1, 1], counts[1].sum())
    ax.plot(
        fpr, tpr, "o", color=COLORS[5], ms=8, label=f"the model's predictions: FPR {fpr:.3f}, TPR {tpr:.3f}"
    )
    ax.set(
        xlabel=f"false positive rate (share of {negative} predicted {positive})",
        ylabel=f"true positive rate (recall of {positive})",
    )
    _square(ax)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(f"{where}: ROC curve\n{_positives(positive, counts)}")
    return fig


def precision_recall_figure(curves, counts, positive, where):
    """Precision against recall over every threshold, with its average precision; chance is a
    flat line at the share of positive rows."""
    fig = _figure(CURVE_SIZE[0], CURVE_SIZE[1] + LEGEND_BELOW)
    ax = fig.subplots()
    base = curves["prevalence"]
    ax.axhline(
        base, color="0.5", ls="--", lw=1, label=f"chance (precision {base:.3f}: the share of {positive})"
    )
    ax.plot(
        curves["recall"],
        curves["precision"],
        color=COLORS[0],
        lw=2,
        drawstyle="steps-post",
        label=f"precision-recall curve (AP {curves['average_precision']:.4f})",
    )
    recall, precision = _rate(counts[1, 1], counts[1].sum()), _rate(counts[1, 1], counts[:, 1].sum())
    if not np.isnan(precision):  # the model predicted the positive class at least once
        ax.plot(
            recall,
            precision,
            "o",
            color=COLORS[5],
            ms=8,
            label=f"the model's predictions: recall {recall:.3f}, precision {precision:.3f}",
        )
    ax.set(xlabel=f"recall of {positive}", ylabel=f"precision of {positive}")
    _square(ax)
    # below the axes: no corner is sure to be empty (the chance line runs at any height)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize="small")
    ax.set_title(f"{where}: precision-recall curve\n{_positives(positive, counts)}")
    return fig


def _positives(positive, counts):
    """The line under a curve's title: which class is positive, and how many rows it has."""
    return f"positive: {positive}, {int(counts[1].sum())} of {int(counts.sum())} rows"


def _square(ax):
    """Both axes from 0 to 1 with a little room, a grid, equal scales."""
    ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), aspect="equal")
    ax.grid(alpha=0.3)
