"""The drift guard: is each input feature's mean over new rows within its training distribution?

Each encoded feature (a number's value, or a category's share of the rows) is first clipped to its
1st and 99th training percentiles, so that a few honest outliers cannot move its mean far (a
winsorized mean; a category's code is not clipped). A feature drifts when that mean over n new rows
lies more than MIN_SHIFT of its (clipped) training standard deviations from its (clipped) training
mean, and more than MIN_Z standard errors (sd / sqrt(n)) from it. The first rule asks for a shift
large enough to matter; the second for one that chance would not give: with honest rows the
mean's error is about sd / sqrt(n), so n rows flag a shift of at least max(MIN_SHIFT, MIN_Z /
sqrt(n)) sds: 1.8 sds at MIN_ROWS (20) rows, 1 sd at 64 rows, 0.5 sd from 256 rows. Fewer than
MIN_ROWS rows are not judged: a handful of honest rows of a sparse or skewed feature can look far.
Columns in another order, other units, or another population move most of their values past the
percentiles. Features constant in training (sd 0 once clipped, e.g. a pixel that is almost always
0) are not judged. `scripts/drift_table.py` measures how often it warns on honest rows and on
moved columns.
"""

from dataclasses import dataclass

import numpy as np

MIN_SHIFT = 0.5  # training standard deviations
MIN_Z = 8.0  # standard errors of the mean over the new rows
MIN_ROWS = 20  # fewer new rows are not judged: a few rows of sparse or skewed features may look far
SHOWN = 5  # features named in the message before "and N more"


@dataclass
class Finding:
    feature: str
    category: bool  # a category's one-hot code: its mean is the category's share of the rows
    mean: float  # over the new rows, as they are
    low: float  # the training 1st percentile (a category: its training share)
    high: float  # the training 99th percentile (a category: its training share)
    shift: float  # of the clipped mean, in training sds


class DriftCheck:
    """Sums of a model's encoded features over the rows it sees; `findings` judges their means."""

    def __init__(self, prep):
        self.prep = prep
        D = None if prep.feature_mean is None else len(prep.feature_mean)
        self.sums = None if D is None else np.zeros(D)  # of the clipped values
        self.raw = None if D is None else np.zeros(D)  # of the values as they are
        self.n = 0

    def add(self, encoded):
        """Count rows (n, D): the encoded features before scaling (Preprocessing.encoded)."""
        if self.sums is not None and len(encoded):
            self.sums += np.clip(encoded, self.prep.feature_low, self.prep.feature_high).sum(axis=0)
            self.raw += encoded.sum(axis=0)
            self.n += len(encoded)

    def not_judged(self):
        """Why the rows seen cannot be judged, or None when they can."""
        if self.sums is None:
            return "the model file has no training reference (written by an older trainer)"
        if self.n < MIN_ROWS:
            return f"{self.n} rows, fewer than the {MIN_ROWS} it needs"
        return None

    def findings(self):
        """The drifted features, the largest shift first; [] when the rows cannot be judged."""
        if self.not_judged():
            return []
        mean = self.sums / self.n
        ref, sd = self.prep.feature_mean, self.prep.feature_std
        judged = sd > 0
        shift = np.zeros_like(mean)
        shift[judged] = (mean[judged] - ref[judged]) / sd[judged]
        drifted = judged & (np.abs(shift) > MIN_SHIFT) & (np.abs(shift) * np.sqrt(self.n) > MIN_Z)
        names, raw = self.prep.schema.feature_names, self.raw / self.n
        coded = np.zeros(len(names), bool)
        for part in self.prep.schema.positions()[1]:
            coded[part] = True
        low = np.where(coded, ref, self.prep.feature_low)
        high = np.where(coded, ref, self.prep.feature_high)
        order = sorted(np.flatnonzero(drifted), key=lambda j: -abs(shift[j]))
        return [
            Finding(names[j], bool(coded[j]), float(raw[j]), float(low[j]), float(high[j]), float(shift[j]))
            for j in order
        ]


def _shown(d):
    """One finding as the message says it."""
    if d.category:
        return f"'{d.feature}' in {d.mean:.0%} of the rows, in {d.low:.0%} in training ({d.shift:+.1f} sd)"
    return (
        f"'{d.feature}' mean {d.mean:.4g}, where 98% of the training values lay in [{d.low:.4g}, "
        f"{d.high:.4g}] ({d.shift:+.1f} sd)"
    )


def drift_message(findings, n, source):
    """One line naming the drifted features and by how much."""
    shown = ", ".join(_shown(d) for d in findings[:SHOWN])
    more = f" and {len(findings) - SHOWN} more" if len(findings) > SHOWN else ""
    return (
        f"{source}: {len(findings)} feature(s) far from their training distribution over {n} rows: "
        f"{shown}{more}; are the columns in the model's order and units? (drift: a mean over {MIN_SHIFT:g} "
        f"training sd and {MIN_Z:g} standard errors away)"
    )
