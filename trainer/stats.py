"""Statistics over seeds: a summary of a sample, confidence intervals of a mean and of a difference,
per-epoch bands of curves with the interval of each epoch's mean, and the band test of two groups
of curves.

Pure functions of numbers: lists and arrays in, dicts and arrays out. Every confidence interval
is Student's t (scipy.stats.t): mean +- t(0.975, df) * standard error. With few seeds the t
quantile is wide on purpose (n=2: 12.71 standard errors; n=5: 2.78; n=10: 2.26); one value has
no spread and so no interval (None). A sample whose values are all equal has a zero-width
interval: no variation was seen, which is not certainty.
"""

import math

import numpy as np

CONFIDENCE = 0.95
CI_METHOD = "Student's t, 95%"


def flatten_numbers(summary, prefix=""):
    """{dotted key: number} of every int or float in a nested dict; booleans, text and None left out."""
    found = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            found.update(flatten_numbers(value, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            found[name] = value
    return found


def _t(df, confidence=CONFIDENCE):
    """The two-sided Student's t quantile for df degrees of freedom."""
    from scipy.stats import t  # scipy comes with scikit-learn; slow to import, so only here

    return float(t.ppf(0.5 + confidence / 2, df))


def describe(values, confidence=CONFIDENCE):
    """n, mean, std (ddof 1), min, median, max and the t interval of the mean of a sample.

    std and the interval are None for one value: a single run has no spread."""
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise ValueError("no values to describe")
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: an infinite spread, written as null
        mean = float(x.mean())
        std = float(x.std(ddof=1)) if n > 1 else None
    low, high = t_interval(mean, std, n, confidence)
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "min": float(x.min()),
        "median": float(np.median(x)),
        "max": float(x.max()),
        "ci_low": low,
        "ci_high": high,
    }


def t_interval(mean, std, n, confidence=CONFIDENCE):
    """(low, high): the Student's t interval of a mean of n values with sample std; (None, None) for n < 2."""
    if n < 2 or std is None:
        return None, None
    half = _t(n - 1, confidence) * std / math.sqrt(n)
    return mean - half, mean + half


def paired_difference(a, b, confidence=CONFIDENCE):
    """b - a seed by seed: the mean difference, its t interval, and in how many seeds b is above,
    below or equal to a (a and b in the same seed order)."""
    d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    stats = describe(d, confidence)
    return {
        "method": f"paired over {len(d)} seeds, {CI_METHOD}",
        "difference": stats["mean"],
        "ci_low": stats["ci_low"],
        "ci_high": stats["ci_high"],
        "above": int((d > 0).sum()),
        "below": int((d < 0).sum()),
        "equal": int((d == 0).sum()),
    }


def welch_difference(a, b, confidence=CONFIDENCE):
    """mean(b) - mean(a) of two independent samples, with Welch's t interval.

    When one side holds a single value its spread is unknown: the other side's std stands for
    both (the interval of a new draw against a mean, with that side's degrees of freedom).
    With one value on each side there is no interval."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = len(a), len(b)
    diff = float(b.mean() - a.mean())
    result = {"difference": diff, "ci_low": None, "ci_high": None}
    if na < 2 and nb < 2:
        return {**result, "method": "one value on each side: no spread, no interval"}
    if na < 2 or nb < 2:
        s = float((a if na > 1 else b).std(ddof=1))
        se, df = s * math.sqrt(1 / na + 1 / nb), max(na, nb) - 1
        method = f"one side is a single run: the other side's std for both, {CI_METHOD}"
    else:
        va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1)) if se > 0 else na + nb - 2
        method = f"Welch (unpaired), {CI_METHOD}"
    half = _t(df, confidence) * se
    return {**result, "ci_low": diff - half, "ci_high": diff + half, "method": method}


def bands(curves):
    """Per-epoch n, mean, std (ddof 1; None where n < 2), min and max of curves of any lengths.

    curves: one list of per-epoch values per seed (None = not finite); a seed that stopped early
    counts at the epochs it ran."""
    length = max((len(c) for c in curves), default=0)
    table = np.full((len(curves), length), np.nan)
    for i, c in enumerate(curves):
        table[i, : len(c)] = [np.nan if v is None else v for v in c]
    out = {k: [] for k in ("n", "mean", "std", "min", "max")}
    for column in table.T:
        x = column[~np.isnan(column)]
        n = len(x)
        out["n"].append(n)
        out["mean"].append(float(x.mean()) if n else None)
        out["std"].append(float(x.std(ddof=1)) if n > 1 else None)
        out["min"].append(float(x.min()) if n else None)
        out["max"].append(float(x.max()) if n else None)
    return out


def band_intervals(band, confidence=CONFIDENCE):
    """(low, high): per epoch of a bands() record, the t interval of the mean; None where n < 2."""
    pairs = [
        t_interval(m, s, n, confidence) for m, s, n in zip(band["mean"], band["std"], band["n"], strict=True)
    ]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def band_test(expected, got, tolerance):
    """Is each epoch's mean of `got` the mean of `expected`, within the seeds' noise?

    expected, got: bands() of one metric. At each epoch where both hold at least two seeds the
    difference of the means is tested by Welch's t; a difference within `tolerance(mean)` (the
    exact lane's rounding tolerance) passes outright, and one beyond it with no spread on either
    side (a metric the seeds do not move, such as lr) fails outright. Returns one (epoch, p, t)
    per epoch tested; the caller corrects alpha for the number of tests (Bonferroni).
    """
    from scipy.stats import t as student

    tests = []
    n = min(len(expected["n"]), len(got["n"]))
    for j in range(n):
        ne, ng = expected["n"][j], got["n"][j]
        if ne < 2 or ng < 2:
            continue
        me, mg = expected["mean"][j], got["mean"][j]
        diff = mg - me
        if abs(diff) <= tolerance(me):
            tests.append((j + 1, 1.0, 0.0))
            continue
        ve, vg = expected["std"][j] ** 2 / ne, got["std"][j] ** 2 / ng
        se = math.sqrt(ve + vg)
        if se == 0:
            tests.append((j + 1, 0.0, math.copysign(math.inf, diff)))
            continue
        df = (ve + vg) ** 2 / (ve**2 / (ne - 1) + vg**2 / (ng - 1))
        t = diff / se
        tests.append((j + 1, float(2 * student.sf(abs(t), df)), t))
    return tests
