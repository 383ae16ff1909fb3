"""Statistics over seeds, each held to scipy.stats or to a small example worked by hand."""

import math

import numpy as np
import pytest
from scipy import stats as sp

from trainer import stats

A = [0.9667, 0.9333, 1.0, 0.9667, 0.9]
B = [0.9333, 0.9, 0.9667, 0.9, 0.8667]


def test_describe_matches_numpy_and_scipys_t_interval():
    d = stats.describe(A)
    assert d["n"] == 5 and d["mean"] == pytest.approx(np.mean(A), abs=0, rel=1e-15)
    assert d["std"] == pytest.approx(np.std(A, ddof=1), rel=1e-14)
    assert (d["min"], d["median"], d["max"]) == (0.9, 0.9667, 1.0)
    low, high = sp.t.interval(0.95, df=4, loc=np.mean(A), scale=sp.sem(A))
    assert d["ci_low"] == pytest.approx(low, rel=1e-12) and d["ci_high"] == pytest.approx(high, rel=1e-12)


def test_describe_by_hand_two_values():
    # mean 2, std sqrt(2), t(0.975, 1) = 12.7062: half-width 12.7062 * sqrt(2) / sqrt(2)
    d = stats.describe([1.0, 3.0])
    assert d["std"] == pytest.approx(math.sqrt(2))
    assert d["ci_low"] == pytest.approx(2 - 12.7062047, rel=1e-7)
    assert d["ci_high"] == pytest.approx(2 + 12.7062047, rel=1e-7)


def test_one_value_has_no_spread_and_no_interval_and_equal_values_a_zero_width_one():
    one = {"n": 1, "mean": 0.5, "std": None, "min": 0.5, "median": 0.5, "max": 0.5}
    assert stats.describe([0.5]) == {**one, "ci_low": None, "ci_high": None}
    d = stats.describe([0.5, 0.5, 0.5])
    assert d["std"] == 0.0 and d["ci_low"] == d["ci_high"] == 0.5
    with pytest.raises(ValueError):
        stats.describe([])


def test_paired_difference_is_scipys_paired_t_and_counts_the_seeds():
    p = stats.paired_difference(A, B)
    ci = sp.ttest_rel(B, A).confidence_interval(0.95)
    assert p["difference"] == pytest.approx(np.mean(np.subtract(B, A)), rel=1e-12)
    assert (p["ci_low"], p["ci_high"]) == (
        pytest.approx(ci.low, rel=1e-10),
        pytest.approx(ci.high, rel=1e-10),
    )
    assert (p["above"], p["below"], p["equal"]) == (0, 5, 0)
    same = stats.paired_difference(A, A)
    assert (same["difference"], same["ci_low"], same["ci_high"], same["equal"]) == (0, 0, 0, 5)


def test_welch_difference_is_scipys_welch_interval():
    w = stats.welch_difference(A, B[:4])
    ci = sp.ttest_ind(B[:4], A, equal_var=False).confidence_interval(0.95)
    assert w["difference"] == pytest.approx(np.mean(B[:4]) - np.mean(A), rel=1e-12)
    assert w["ci_low"] == pytest.approx(ci.low, rel=1e-10) and w["ci_high"] == pytest.approx(
        ci.high, rel=1e-10
    )
    assert w["method"].startswith("Welch")


def test_a_single_run_against_a_group_borrows_the_groups_spread():
    w = stats.welch_difference(A, [0.8])
    s = np.std(A, ddof=1)
    half = sp.t.ppf(0.975, 4) * s * math.sqrt(1 / 5 + 1)  # a new draw against a mean of 5
    assert w["ci_high"] - w["ci_low"] == pytest.approx(2 * half, rel=1e-12)
    both_single = stats.welch_difference([0.9], [0.8])
    assert both_single["ci_low"] is None and both_single["difference"] == pytest.approx(-0.1)


def test_flatten_numbers_keeps_numbers_and_dots_the_keys():
    summary = {
        "name": "x",
        "train": {"accuracy": 1, "loss": 0.5},
        "stopped_early": False,
        "x": None,
        "y": math.inf,
    }
    assert stats.flatten_numbers(summary) == {"train.accuracy": 1, "train.loss": 0.5}


def test_bands_of_curves_of_different_lengths_by_hand():
    b = stats.bands([[1.0, 2.0, 3.0], [3.0, 4.0], [2.0, None, 5.0]])
    assert b["n"] == [3, 2, 2]
    assert b["mean"] == [2.0, 3.0, 4.0]
    assert b["std"][0] == 1.0 and b["std"][1] == pytest.approx(math.sqrt(2))
    assert b["min"] == [1.0, 2.0, 3.0] and b["max"] == [3.0, 4.0, 5.0]
    assert stats.bands([[1.0], [2.0, 7.0]])["std"][1] is None  # one seed reached epoch 2


def test_band_test_is_welchs_test_per_epoch():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0, 1, (8, 3)), rng.normal(0.5, 2, (6, 3))
    tests = stats.band_test(stats.bands(x.tolist()), stats.bands(y.tolist()), lambda m: 0.0)
    for (epoch, p, t), j in zip(tests, range(3), strict=True):
        ref = sp.ttest_ind(y[:, j], x[:, j], equal_var=False)
        assert (
            epoch == j + 1 and p == pytest.approx(ref.pvalue, rel=1e-10) and t == pytest.approx(ref.statistic)
        )


def test_band_test_passes_rounding_and_fails_a_moved_metric_without_spread():
    same = stats.bands([[0.1, 0.01], [0.1, 0.01]])
    nudged = stats.bands([[0.1 * (1 + 1e-13), 0.01], [0.1 * (1 + 1e-13), 0.01]])
    moved = stats.bands([[0.11, 0.01], [0.11, 0.01]])
    tol = lambda m: 1e-12 + 1e-10 * abs(m)  # noqa: E731
    assert [p for _, p, _ in stats.band_test(same, nudged, tol)] == [1.0, 1.0]
    assert [p for _, p, _ in stats.band_test(same, moved, tol)] == [0.0, 1.0]
