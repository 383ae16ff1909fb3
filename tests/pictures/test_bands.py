"""The picture of a seed group: per metric the mean over seeds, a +-1 std band and a paler min-max
band, each metric named in words in its panel's legend with what the line and the shades are."""

import numpy as np

from trainer.pictures.bands import RANGE, STD, band_figure

LEGEND_END = ["line: the mean over the seeds", "±1 std", "min to max"]


def histories(seeds, val=True):
    """One synthetic metrics.jsonl per seed: 6 epochs, the values shifted by the seed."""
    out = []
    for s in seeds:
        records = []
        for e in range(1, 7):
            r = {"epoch": e, "train_loss": 1 / e + 0.01 * s, "train_accuracy": 0.5 + 0.05 * e - 0.01 * s}
            if val:
                r |= {"val_loss": 1.2 / e + 0.02 * s, "val_accuracy": 0.45 + 0.05 * e + 0.01 * s}
            records.append(r)
        out.append(records)
    return out


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_each_panel_names_its_metrics_and_what_the_line_and_shades_are():
    fig = band_figure(histories([0, 1, 2]), "moons: bands")
    loss, accuracy = fig.axes
    assert (loss.get_title(), accuracy.get_title()) == ("loss", "accuracy")
    assert legend_texts(loss) == [
        "train: objective (cross-entropy + L2)",
        "validation: cross-entropy",
        *LEGEND_END,
    ]
    assert legend_texts(accuracy) == [
        "train: running (each batch before its step)",
        "validation: after the epoch",
        *LEGEND_END,
    ]
    # the train accuracy's mean and its two bands, the std band the darker
    values = np.array([[r["train_accuracy"] for r in h] for h in histories([0, 1, 2])])  # (seeds, epochs)
    assert np.allclose(accuracy.get_lines()[0].get_ydata(), values.mean(axis=0))
    wide, narrow = accuracy.collections[:2]
    assert (wide.get_alpha(), narrow.get_alpha()) == (RANGE, STD) and RANGE < STD
    low, high = narrow.get_paths()[0].vertices[:, 1].min(), narrow.get_paths()[0].vertices[:, 1].max()
    std = values.std(axis=0, ddof=1)
    assert np.isclose(low, (values.mean(axis=0) - std).min()) and np.isclose(
        high, (values.mean(axis=0) + std).max()
    )


def test_a_group_without_a_validation_split_shows_its_training_accuracy():
    fig = band_figure(histories([0, 1], val=False), "iris: bands")
    loss, accuracy = fig.axes
    assert legend_texts(loss)[0] == "train: objective (cross-entropy + L2)" and len(loss.get_lines()) == 1
    assert legend_texts(accuracy)[0] == "train: running (each batch before its step)"
