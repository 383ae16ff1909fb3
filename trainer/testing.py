"""Test helpers for users' own suites: regression-test a config's loss curve against its golden.

from trainer.testing import assert_curve_matches

def test_moons_curve():
    assert_curve_matches("configs/moons.yaml", "tests/golden/moons.json")
"""

from trainer.curves.golden import MissingGolden, check, failed_path
from trainer.pictures.overlay import with_picture


def assert_curve_matches(config, golden=None, rtol=None, atol=None, exact=False, plot=None):
    """Train `config` and assert its loss curve matches the golden curve, epoch by epoch.

    config: a YAML config path (or a trainer Config). golden: the golden curve file, default
    tests/golden/<config stem>.json, written by `trainer curve update CONFIG`. The config is trained
    in memory for the epochs the golden records, deterministically, and every per-epoch metric
    (train_loss, val_loss, val_accuracy, lr, ...) is compared: |got - golden| <= atol + rtol * |golden|,
    with defaults by dtype (float64: rtol 1e-10, atol 1e-12; float32: rtol 1e-3, atol 1e-5), or
    bitwise when exact=True. plot: where to draw golden vs now on a mismatch when plotting is
    available (default beside the golden, <stem>.failed.png; False for none). Relative paths are
    taken from the current directory, as open() takes them; in pytest, the `loss_curve` fixture
    (trainer.pytest_plugin) takes them from pytest's rootdir instead, wherever pytest runs from.

    Raises AssertionError with the report of `trainer curve check` (first departing epoch and
    metric, expected vs got, largest relative deviation, epochs out of tolerance; or the config
    keys that differ from the golden's), also when the golden does not exist yet. Returns the new
    curve (a dict, as in curve.json) when it matches.
    """
    __tracebackhide__ = True  # pytest shows the caller's line and the report, not this helper
    try:
        result = check(config, golden, rtol=rtol, atol=atol, exact=exact)
    except MissingGolden as e:
        raise AssertionError(str(e)) from None
    if not result.ok:
        raise AssertionError(
            result.report if plot is False else with_picture(result, plot or failed_path(config, golden))
        )
    return result.got
