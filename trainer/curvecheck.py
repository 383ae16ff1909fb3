"""Golden loss curves: compare two curves epoch by epoch, check a config against its golden, update it.

A value passes when |got - expected| <= atol + rtol * |expected| (relative to the golden), or,
with exact=True, when its float64 bits are equal. The default tolerance depends on the dtype
(TOLERANCE); scripts/curve_tolerance.py measures what it must absorb and what it must catch.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.config import Config, config_from_dict, load_config
from trainer.configdiff import diff_keys, flatten
from trainer.curvereport import config_report, curve_report, movement_report
from trainer.curves import canonical_config, read_curve, train_curve
from trainer.errors import TrainerError
from trainer.files import make_dir, write_json

GOLDEN_DIR = Path("tests/golden")  # default home of goldens, relative to the working directory
GOLDEN_EPOCHS = 50  # a new golden records at most this many epochs, so checking it stays fast
# dtype -> (rtol, atol), from scripts/curve_tolerance.py (50 and 200 epochs): rounding-level changes
# (1 ulp of the data, BLAS threads or kernels) move float64 curves by <= 2.4e-14 relative and float32
# ones by <= 9.1e-5; a 1e-6 relative gradient perturbation moves float64 curves by >= 1e-7 and a 1%
# change of lr moves either by >= 1.7e-2. float64: 4,000x above rounding, 1,000x below the gradient
# perturbation; float32: 11x above rounding, 17x below the lr change (README, "Tolerance").
TOLERANCE = {"float64": (1e-10, 1e-12), "float32": (1e-3, 1e-5)}


class MissingGolden(TrainerError):
    """A config has no golden curve yet."""


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


def _values(curve, metric):
    return np.array([np.nan if v is None else v for v in curve["metrics"][metric]], dtype=np.float64)


def compare_curves(expected, got, rtol=None, atol=None, exact=False):
    """Compare two curves (dicts as read_curve returns) epoch by epoch; a CurveDiff."""
    rtol, atol = tolerance(expected["platform"].get("dtype"), rtol, atol)
    names = [m for m in expected["metrics"] if m in got["metrics"]]
    only = (tuple(m for m in expected["metrics"] if m not in got["metrics"]),
            tuple(m for m in got["metrics"] if m not in expected["metrics"]))
    n = min(len(next(iter(c["metrics"].values()), [])) for c in (expected, got))
    e = np.array([_values(expected, m)[:n] for m in names]).reshape(len(names), n)  # (metrics, epochs)
    g = np.array([_values(got, m)[:n] for m in names]).reshape(len(names), n)
    both_nan = np.isnan(e) & np.isnan(g)
    if exact:
        bad = e.view(np.uint64) != g.view(np.uint64)
    else:
        bad = ~(np.abs(g - e) <= atol + rtol * np.abs(e)) & ~both_nan
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
    return CurveDiff(rtol, atol, exact, (expected.get("epochs_run"), got.get("epochs_run")),
                     (expected.get("best_epoch"), got.get("best_epoch")), only, n,
                     int(bad_epochs.sum()), first, largest)


def config_diff(golden, current):
    """The keys where two canonical configs differ (diff_keys).

    A key the golden lacks (added to trainer after the golden was made) counts only when the
    current config moves it from its default.
    """
    return diff_keys(golden, current, flatten(canonical_config(config_from_dict({}))))


def platform_diff(expected, got):
    """The keys where two curves' platform descriptions differ (diff_keys)."""
    return diff_keys(expected.get("platform", {}), got.get("platform", {}))


@dataclass
class CheckResult:
    ok: bool
    report: str
    expected: dict | None  # the golden curve
    got: dict | None  # the new curve; None when the configs differ and nothing was trained


def default_golden(config):
    """tests/golden/<config file stem>.json (or <name>.json for a Config object)."""
    stem = config.name if isinstance(config, Config) else Path(config).stem
    return GOLDEN_DIR / f"{stem}.json"


def _config(config):
    return config if isinstance(config, Config) else load_config(config)


def check(config, golden=None, rtol=None, atol=None, exact=False, plot=None):
    """Train `config` (a path or Config) for its golden's epochs and compare; a CheckResult.

    The golden defaults to tests/golden/<config stem>.json. When the golden was made from another
    config the result names the keys that differ and nothing is trained. On a mismatch an overlay
    picture goes to `plot` (default: beside the golden; False: none) when plotting is available.
    """
    cfg, golden = _config(config), Path(golden) if golden else default_golden(config)
    if not golden.exists():
        raise MissingGolden(f"no golden curve {golden} for {_label(config)}; create it with: {_hint(config, golden)}")
    expected = read_curve(golden)
    diff = config_diff(expected["config"], canonical_config(cfg))
    if diff:
        return CheckResult(False, config_report(diff, golden, _label(config), _hint(config, golden)), expected, None)
    got = train_curve(cfg, expected["epochs"])
    cmp = compare_curves(expected, got, rtol, atol, exact)
    report = curve_report(cmp, str(golden), _label(config), platform_diff(expected, got))
    if not cmp.ok and plot is not False:
        path = Path(plot) if plot else golden.with_name(f"{golden.stem}.overlay.png")
        note = overlay(expected, got, path, f"{cfg.name}: golden vs now")
        report += f"\n  {note}" if note else ""
    return CheckResult(cmp.ok, report, expected, got)


def _label(config):
    return f"config '{config.name}'" if isinstance(config, Config) else str(config)


def _hint(config, golden):
    """The command that writes this golden."""
    if isinstance(config, Config):
        return f"trainer.curvecheck.update(config, '{golden}')"
    return f"trainer curve update {config}" + ("" if golden == default_golden(config) else f" --golden {golden}")


def overlay(expected, got, path, title):
    """Golden vs new curve as a picture, if trainer.plots.curve_overlay (issue 8) and matplotlib exist.

    Returns a line for the report, or None when plotting is not available (skipped silently).
    """
    try:
        from trainer.plots import curve_overlay

        curve_overlay(expected["metrics"], got["metrics"], path, title)
    except ImportError:
        return None
    except Exception as e:  # a picture must never hide the report it illustrates
        return f"overlay not written: {type(e).__name__}: {e}"
    return f"overlay: {path}"


def update(config, golden=None, epochs=None):
    """Write or refresh the golden of `config` atomically; a text saying how it moved.

    epochs: how many to record (at most train.epochs); default the old golden's count, or
    GOLDEN_EPOCHS for a new golden.
    """
    golden = Path(golden) if golden else default_golden(config)
    cfg = _config(config)
    old, note = _old_golden(golden)
    n = min(epochs or (old["epochs"] if old else GOLDEN_EPOCHS), cfg.train.epochs)
    got = train_curve(cfg, n)
    make_dir(golden.parent)
    write_json(golden, got)
    if old is None:
        return movement_report(golden, got, cfg.train.epochs, note)
    return movement_report(golden, got, cfg.train.epochs, note, exact=compare_curves(old, got, exact=True),
                           tolerant=compare_curves(old, got), config=config_diff(old["config"], got["config"]),
                           platform=platform_diff(old, got))


def _old_golden(path):
    """(the golden at path or None, a note when there is one that cannot be read)."""
    if not Path(path).exists():
        return None, ""
    try:
        return read_curve(path), ""
    except TrainerError as e:
        return None, f"replaced an unreadable golden ({e})"


def compare_files(a, b, rtol=None, atol=None, exact=False, plot=None):
    """Compare two curve files or run directories; a CheckResult (configs that differ are noted)."""
    expected, got = read_curve(a), read_curve(b)
    cmp = compare_curves(expected, got, rtol, atol, exact)
    report = curve_report(cmp, str(a), str(b), platform_diff(expected, got),
                          config_diff(expected["config"], got["config"]))
    if not cmp.ok and plot:
        note = overlay(expected, got, Path(plot), f"{a} vs {b}")
        report += f"\n  {note}" if note else ""
    return CheckResult(cmp.ok, report, expected, got)
