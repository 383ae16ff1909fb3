"""Band goldens: a golden's per-epoch mean, std, min and max of every metric over seeds, and the
band check that asks whether new curves are statistically the same process.

The band sits in the golden curve file beside the exact curve, under "band":
  seeds       the seeds trained (each the config with only its seed changed)
  epochs_run  per seed
  metrics     {metric: {"n", "mean", "std", "min", "max"}: one value per epoch} (stats.bands)

The check retrains the band's seeds (or others) for the golden's epochs and tests each metric at
each epoch: Welch's t on the two means, the golden's seeds against the new ones, unpaired. A
pairing by seed would hold a change to its own spread, which for a rounding-level change is
nearly zero, and flag it; the question is whether the process moved by more than the seeds move
it. A difference within the exact lane's tolerance passes outright, and a metric the seeds do not
move (lr) then compares like the exact lane. The tests are many (metrics x epochs) and strongly
correlated; Bonferroni holds the chance of any false alarm to at most alpha whatever the
correlation (Holm rejects anything exactly when Bonferroni does, so it would change no verdict).
"""

from dataclasses import dataclass, field, replace

from trainer import stats
from trainer.config.seed_spec import parse_seeds, seeds_text
from trainer.curves.tolerance import tolerance
from trainer.errors import ConfigError, TrainerError

ALPHA = 0.01  # the chance that a check of an unchanged process fails, at most (Bonferroni)
MIN_SEEDS = 2  # a band needs a spread


@dataclass
class BandTest:
    metric: str
    epoch: int  # 1-based
    p: float
    t: float
    expected: tuple  # golden (mean, std, n) at that epoch
    got: tuple  # new (mean, std, n)


@dataclass
class BandDiff:
    alpha: float
    seeds: tuple  # (golden's seeds, new seeds)
    tests: int  # metric-epochs tested
    flagged: list  # BandTests with p < alpha / tests, in epoch then metric order
    smallest: BandTest | None  # the test with the smallest p
    tested: list = field(default_factory=list)  # every BandTest, in metric then epoch order
    bands: tuple = (None, None)  # (golden band, new band) as band_of gives them

    @property
    def ok(self):
        return not self.flagged

    @property
    def threshold(self):
        return self.alpha / max(self.tests, 1)


def check_seeds(seeds):
    """seeds, or a one-line ConfigError when there are too few for a band."""
    if len(seeds) < MIN_SEEDS:
        raise ConfigError(
            f"--seeds {seeds_text(seeds)}: a band needs at least {MIN_SEEDS} seeds to have a spread; "
            "e.g. --seeds 10"
        )
    return seeds


def record_band(cfg, seeds, epochs, record):
    """(band, {seed: curve}): `record(cfg, epochs)` (golden.record_curve) for cfg at each seed."""
    curves = {s: record(replace(cfg, seed=s), epochs) for s in check_seeds(seeds)}
    return band_of(curves), curves


def band_of(curves):
    """The band of {seed: curve}: per metric and epoch, n, mean, std, min and max over the seeds."""
    names = list(dict.fromkeys(m for c in curves.values() for m in c["metrics"]))
    return {
        "seeds": list(curves),
        "epochs_run": [c["epochs_run"] for c in curves.values()],
        "metrics": {m: stats.bands([c["metrics"].get(m, []) for c in curves.values()]) for m in names},
    }


def band_in(curve, path, hint):
    """The band of a golden curve; a one-line error (hint: the command that records one) when it
    holds none or a broken one."""
    band = curve.get("band")
    if band is None:
        raise TrainerError(f"{path}: an exact golden, with no band to check against; record one with: {hint}")
    seeds = band.get("seeds") if isinstance(band, dict) else None
    if not isinstance(seeds, list) or len(seeds) < MIN_SEEDS or not isinstance(band.get("metrics"), dict):
        raise TrainerError(f"{path}: the band holds no seeds or no metrics; record it again with --seeds")
    return band


def band_seeds(band, spec, base):
    """The seeds a check trains: the band's own, or those of a --seeds spec."""
    return check_seeds(parse_seeds(spec, base)) if spec is not None else band["seeds"]


def compare_bands(expected, got, dtype, alpha=ALPHA, rtol=None, atol=None):
    """Test every metric of `expected` at every epoch against `got` (bands); a BandDiff."""
    rtol, atol = tolerance(dtype, rtol, atol)
    tests = []
    for metric, e in expected["metrics"].items():
        g = got["metrics"].get(metric)
        if g is None:
            continue
        for epoch, p, t in stats.band_test(e, g, lambda m: atol + rtol * abs(m)):
            j = epoch - 1
            tests.append(
                BandTest(
                    metric,
                    epoch,
                    p,
                    t,
                    (e["mean"][j], e["std"][j], e["n"][j]),
                    (g["mean"][j], g["std"][j], g["n"][j]),
                )
            )
    threshold = alpha / max(len(tests), 1)
    flagged = sorted((t for t in tests if t.p < threshold), key=lambda t: t.epoch)
    smallest = min(tests, key=lambda t: t.p, default=None)
    seeds = (tuple(expected["seeds"]), tuple(got["seeds"]))
    return BandDiff(alpha, seeds, len(tests), flagged, smallest, tests, (expected, got))


def band_report(diff, golden, label):
    """One line when the band holds; else the first flagged epoch, the strongest, and counts."""
    seeds = f"golden seeds {seeds_text(list(diff.seeds[0]))}, now {seeds_text(list(diff.seeds[1]))}"
    how = (
        f"Welch's t per epoch, alpha {diff.alpha:g} over {diff.tests} tests "
        f"(Bonferroni: p < {diff.threshold:.1e})"
    )
    if diff.ok:
        s = diff.smallest
        where = f"; smallest p {s.p:.2g} ({_at(s)})" if s else ""
        return f"ok: {label} behaves as the band of {golden} ({seeds}; {how}){where}"
    per_metric = {}
    for t in diff.flagged:
        per_metric[t.metric] = per_metric.get(t.metric, 0) + 1
    return "\n".join(
        [
            f"FAILED: {label} departs from the band of {golden} ({seeds}; {how})",
            f"  first departure: {_detail(diff.flagged[0])}",
            f"  strongest: {_detail(diff.smallest)}",
            "  flagged: "
            + ", ".join(f"{m} at {k} epochs" for m, k in per_metric.items())
            + f" of {diff.tests} tests",
        ]
    )


def _at(t):
    return f"epoch {t.epoch}, {t.metric}"


def _detail(t):
    def side(mean, std, n):
        return f"{mean:.6g} ± {std:.2g} (n={n})"

    return f"{_at(t)}: golden {side(*t.expected)}, now {side(*t.got)}; t = {t.t:.3g}, p = {t.p:.2g}"


def mean_curve(band):
    """The band's per-epoch means as a curve's metrics (for the golden-vs-new picture)."""
    return {"metrics": {m: b["mean"] for m, b in band["metrics"].items()}}
