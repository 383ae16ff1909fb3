"""Two loss curves compared epoch by epoch, within a tolerance or bit for bit.

A value passes when |got - expected| <= atol + rtol * |expected| (relative to the expected curve),
or, with exact=True, when its float64 bits are equal. The default tolerance depends on the dtype
(TOLERANCE); scripts/curve_tolerance.py measures what it must absorb and what it must catch.
"""

from dataclasses import dataclass

import numpy as np

# dtype -> (rtol, atol): orders of magnitude above what rounding-level changes (1 ulp of the data,
# BLAS threads or kernels, numpy SIMD) move a curve, and below what a 1e-6 relative gradient
# perturbation (float64) or a 1% change of lr moves it; scripts/curve_tolerance.py measures both
# (docs/tolerance.md). float32 rounding grows with the epochs: a long float32 golden needs a looser rtol
TOLERANCE = {"float64": (1e-10, 1e-12), "float32": (1e-3, 1e-5)}


@dataclass
class Deviation:
    epoch: int  # 1-based
    metric: str
    expected: float
    got: float
    rel: float  # |got - expected| / |expected|


@dataclass
class CurveDiff:
    """How a curve departs from the expected one, within a tolerance."""

    rtol: float
    atol: float
    exact: bool
    epochs: tuple  # (expected, got) epochs run
    best_epoch: tuple  # (expected, got)
    only: tuple  # (metrics only expected has, metrics only got has)
    compared: int  # epochs compared (the shorter run)
    bad_epochs: int  # compared epochs with a metric out of tolerance
    first: Deviation | None  # the first value out of tolerance, in epoch then metric order
    largest: Deviation | None  # the largest relative deviation anywhere

    @property
    def ok(self):
        same_run = self.epochs[0] == self.epochs[1] and self.best_epoch[0] == self.best_epoch[1]
        return same_run and not self.bad_epochs and not any(self.only)


def tolerance(dtype, rtol=None, atol=None):
    """(rtol, atol): the given ones, else the defaults for dtype."""
    default_rtol, default_atol = TOLERANCE.get(str(dtype), TOLERANCE["float64"])
    return (default_rtol if rtol is None else rtol), (default_atol if atol is None else atol)


def allowed(expected, rtol, atol):
    """The largest |got - expected| that passes, per value: atol + rtol * |expected|."""
    return atol + rtol * np.abs(expected)


def out_of_tolerance(e, g, rtol, atol, exact=False):
    """Where g departs from e (float64 arrays of one shape): beyond allowed(e), or with exact=True
    any change of the float64 bits. NaN in both is equal."""
    if exact:
        return np.ascontiguousarray(e).view(np.uint64) != np.ascontiguousarray(g).view(np.uint64)
    return ~(np.abs(g - e) <= allowed(e, rtol, atol)) & ~(np.isnan(e) & np.isnan(g))


def as_floats(values):
    """Per-epoch values as read from JSON -> a float64 array; null (a non-finite value) -> NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def compare_curves(expected, got, rtol=None, atol=None, exact=False):
    """Compare two curves (dicts as read_curve returns) epoch by epoch; a CurveDiff."""
    rtol, atol = tolerance(expected["platform"].get("dtype"), rtol, atol)
    names = [m for m in expected["metrics"] if m in got["metrics"]]
    only = (
        tuple(m for m in expected["metrics"] if m not in got["metrics"]),
        tuple(m for m in got["metrics"] if m not in expected["metrics"]),
    )
    n = min(len(next(iter(c["metrics"].values()), [])) for c in (expected, got))
    # e, g: (metrics, epochs)
    e = np.array([as_floats(expected["metrics"][m][:n]) for m in names]).reshape(len(names), n)
    g = np.array([as_floats(got["metrics"][m][:n]) for m in names]).reshape(len(names), n)
    both_nan = np.isnan(e) & np.isnan(g)
    bad = out_of_tolerance(e, g, rtol, atol, exact)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(e == g, 0.0, np.abs(g - e) / np.abs(e))
    rel[both_nan] = 0.0
    rel[np.isnan(rel)] = np.inf

    def at(i, j):
        return Deviation(j + 1, names[i], float(e[i, j]), float(g[i, j]), float(rel[i, j]))

    bad_epochs = bad.any(axis=0)
    first = None
    if bad_epochs.any():
        j = int(np.argmax(bad_epochs))
        first = at(int(np.argmax(bad[:, j])), j)
    largest = at(*np.unravel_index(np.argmax(rel), rel.shape)) if rel.size else None
    return CurveDiff(
        rtol,
        atol,
        exact,
        (expected.get("epochs_run"), got.get("epochs_run")),
        (expected.get("best_epoch"), got.get("best_epoch")),
        only,
        n,
        int(bad_epochs.sum()),
        first,
        largest,
    )
