"""Golden loss curves: check a config against its golden, update it, compare two curve files.

How two curves are compared (tolerance, --exact) is tolerance.py; the words of the reports are
report.py; the picture of a failed check is drawn by its caller (pictures.overlay.with_picture).
"""

from dataclasses import dataclass, replace
from pathlib import Path

from trainer.config.diff import diff_keys, flatten
from trainer.config.load import Config, config_from_dict, load_config
from trainer.config.seed_spec import parse_seeds, seeds_text
from trainer.curves import band as bands
from trainer.curves.report import config_report, curve_report, movement_report, schedule_note
from trainer.curves.tolerance import compare_curves
from trainer.errors import TrainerError
from trainer.runs.run import train_in_memory
from trainer.storage.curvefile import canonical_config, make_curve, read_curve
from trainer.storage.files import make_dir, write_json

GOLDEN_DIR = Path("tests/golden")  # default home of goldens, relative to the working directory
GOLDEN_EPOCHS = 50  # a new golden records at most this many epochs, so checking it stays fast


class MissingGolden(TrainerError):
    """A config has no golden curve yet."""


def record_curve(cfg, epochs=None):
    """Train cfg in memory (no files, no progress bar) for `epochs` (default train.epochs); its curve.

    The config recorded is cfg itself; only the training is cut to `epochs`, exactly as
    `--set train.epochs=N` would (a schedule then spans N epochs; early stopping is unchanged).
    """
    trained = cfg if epochs is None else replace(cfg, train=replace(cfg.train, epochs=epochs))
    _, state = train_in_memory(trained)
    return make_curve(cfg, state, trained.train.epochs)


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
    title: str = ""  # what a picture of the two curves is called
    diff: object = None  # how they were compared: a tolerance.CurveDiff or a band.BandDiff


def default_golden(config):
    """tests/golden/<config file stem>.json (or <name>.json for a Config object)."""
    stem = config.name if isinstance(config, Config) else Path(config).stem
    return GOLDEN_DIR / f"{stem}.json"


def _config(config):
    return config if isinstance(config, Config) else load_config(config)


def check(config, golden=None, rtol=None, atol=None, exact=False):
    """Train `config` (a path or Config) for its golden's epochs and compare; a CheckResult.

    The golden defaults to tests/golden/<config stem>.json. When the golden was made from another
    config the result names the keys that differ and nothing is trained.
    """
    cfg, golden, expected, refused = _golden_for(config, golden)
    if refused:
        return refused
    got = record_curve(cfg, expected["epochs"])
    cmp = compare_curves(expected, got, rtol, atol, exact)
    report = curve_report(cmp, str(golden), _label(config), platform_diff(expected, got))
    return CheckResult(cmp.ok, report, expected, got, f"{cfg.name}: golden {golden} vs now", cmp)


def check_band(config, golden=None, seeds=None, alpha=bands.ALPHA, rtol=None, atol=None):
    """Retrain the seeds of the golden's band (or those of the --seeds spec `seeds`) and test
    whether the new curves are the same process (band.py); a CheckResult whose curves are the
    two bands' per-epoch means. A golden without a band is a one-line TrainerError."""
    cfg, golden, expected, refused = _golden_for(config, golden)
    band = bands.band_in(expected, golden, _hint(config, golden, "--seeds 10"))
    if refused:
        return refused
    got, _ = bands.record_band(cfg, bands.band_seeds(band, seeds, cfg.seed), expected["epochs"], record_curve)
    diff = bands.compare_bands(band, got, expected["platform"].get("dtype"), alpha, rtol, atol)
    report = bands.band_report(diff, golden, _label(config))
    title = f"{cfg.name}: the band of golden {golden} vs now"
    return CheckResult(diff.ok, report, bands.mean_curve(band), bands.mean_curve(got), title, diff)


def _golden_for(config, golden):
    """(cfg, golden path, golden curve, a failed CheckResult when the golden's config differs, else None)."""
    cfg, golden = _config(config), Path(golden) if golden else default_golden(config)
    if not golden.exists():
        raise MissingGolden(
            f"no golden curve {golden} for {_label(config)}; create it with: {_hint(config, golden)}"
        )
    expected = read_curve(golden)
    diff = config_diff(expected["config"], canonical_config(cfg))
    if diff:
        report = config_report(diff, golden, _label(config), _hint(config, golden))
        return cfg, golden, expected, CheckResult(False, report, expected, None)
    return cfg, golden, expected, None


def failed_path(config, golden=None):
    """Where a failed check draws golden vs now by default: beside the golden, <stem>.failed.png."""
    golden = Path(golden) if golden else default_golden(config)
    return golden.with_name(f"{golden.stem}.failed.png")


def _label(config):
    return f"config '{config.name}'" if isinstance(config, Config) else str(config)


def _hint(config, golden, seeds=""):
    """The command that writes this golden (seeds: "--seeds N" for one with a band)."""
    if isinstance(config, Config):
        band = f", seeds={seeds.split()[1]!r}" if seeds else ""
        return f"trainer.curves.golden.update(config, '{golden}'{band})"
    return (
        f"trainer curve update {config}"
        + ("" if golden == default_golden(config) else f" --golden {golden}")
        + (f" {seeds}" if seeds else "")
    )


def update(config, golden=None, epochs=None, seeds=None):
    """Write or refresh the golden of `config` atomically; a text saying how it moved.

    epochs: how many to record (at most train.epochs); default the old golden's count, or
    GOLDEN_EPOCHS for a new golden. seeds: a --seeds spec; the golden then also holds the band of
    those seeds (band.py). A refresh without seeds keeps the old golden's band seeds, if any.
    """
    golden = Path(golden) if golden else default_golden(config)
    cfg = _config(config)
    band_seeds = None if seeds is None else bands.check_seeds(parse_seeds(seeds, cfg.seed))
    old, note = _old_golden(golden)
    if band_seeds is None and old and isinstance(old.get("band"), dict):
        band_seeds = old["band"].get("seeds")
    n = min(epochs or (old["epochs"] if old else GOLDEN_EPOCHS), cfg.train.epochs)
    if epochs and epochs > n:
        asked = f"asked for {epochs} epochs, but the config trains {n} (train.epochs): recorded {n}"
        note = f"{note}; {asked}" if note else asked
    band, curves = bands.record_band(cfg, band_seeds, n, record_curve) if band_seeds else (None, {})
    got = curves[cfg.seed] if cfg.seed in curves else record_curve(cfg, n)
    got = {**got, "band": band} if band else got
    make_dir(golden.parent)
    write_json(golden, got)
    note = "\n  ".join(filter(None, [note, band and _band_note(band)]))
    if old is None:
        return movement_report(golden, got, cfg.train.epochs, note)
    return movement_report(
        golden,
        got,
        cfg.train.epochs,
        note,
        exact=compare_curves(old, got, exact=True),
        tolerant=compare_curves(old, got),
        config=config_diff(old["config"], got["config"]),
        platform=platform_diff(old, got),
    )


def _band_note(band):
    return (
        f"band: {len(band['seeds'])} seeds ({seeds_text(band['seeds'])}), per-epoch mean, std, min and max "
        f"of {', '.join(band['metrics'])}"
    )


def _old_golden(path):
    """(the golden at path or None, a note when there is one that cannot be read)."""
    if not Path(path).exists():
        return None, ""
    try:
        return read_curve(path), ""
    except TrainerError as e:
        return None, f"replaced an unreadable golden ({e})"


def compare_files(a, b, rtol=None, atol=None, exact=False):
    """Compare two curve files or run directories; a CheckResult (configs that differ are noted)."""
    expected, got = read_curve(a), read_curve(b)
    cmp = compare_curves(expected, got, rtol, atol, exact)
    report = curve_report(
        cmp,
        str(a),
        str(b),
        platform_diff(expected, got),
        config_diff(expected["config"], got["config"]),
        schedule_note(expected, got),
    )
    return CheckResult(cmp.ok, report, expected, got, f"{a} vs {b}", cmp)
