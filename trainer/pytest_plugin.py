"""The pytest plugin (entry point pytest11): the `loss_curve` fixture and the --curves-update flag.

    def test_moons(loss_curve):
        loss_curve.check("configs/moons.yaml")              # exact lane, tests/golden/moons.json
        loss_curve.check("configs/moons.yaml", band=True)   # band lane: the golden's seeds

Relative paths (the config, golden=, the default tests/golden/<stem>.json) are taken from pytest's
rootdir (`config.rootpath`: the directory of pytest.ini or pyproject.toml), wherever pytest runs
from; an absolute path stays as it is.

Without --curves-update a missing golden fails, naming the flag, and a failing check's message
names its picture of golden vs now, drawn in the test's tmp_path; with the flag, missing goldens
are written, failing ones rewritten (their picture drawn beside the golden, <stem>.failed.png),
passing ones left alone, none deleted, and the session lists what it wrote. pytest loads this
module in every session of an environment where trainer is installed, so it imports only pytest
here: the checks import trainer's modules when called.
"""

import os
from pathlib import Path

import pytest

OPTION = "--curves-update"
DEFAULT_BAND_SEEDS = "5"  # a new band golden's seeds when check(band=True) writes one
WRITTEN = pytest.StashKey[list]()  # what this session wrote, for the terminal summary


def pytest_addoption(parser):
    group = parser.getgroup("trainer", "trainer loss curves")
    group.addoption(
        OPTION,
        action="store_true",
        default=False,
        help="trainer: write missing golden loss curves and rewrite failing ones (none is deleted); "
        "loss_curve takes relative paths from the rootdir",
    )


def pytest_configure(config):
    config.stash[WRITTEN] = []


class LossCurve:
    """What the `loss_curve` fixture gives a test: check(config, ...) against a golden curve."""

    def __init__(self, root, update, written, tmp_path):
        self.root, self.update, self.written = Path(root), update, written
        self.base = f"loss_curve takes a relative path from pytest's rootdir, {self.root}"
        self.tmp_path = tmp_path  # () -> the test's tmp_path, made when a failure draws its picture

    def check(self, config, golden=None, band=False, **tolerances):
        """Train `config` (a YAML path or a Config) and compare it with its golden; fail the test
        with the report otherwise. golden: default tests/golden/<config stem>.json. A relative
        path, config or golden, is taken from the rootdir. band: False (the exact lane), True (the
        band lane over the golden's seeds, or 5 seeds for a new golden) or a --seeds spec.
        tolerances: rtol, atol, exact; alpha (band). Returns the CheckResult."""
        __tracebackhide__ = True
        from trainer.curves import golden as goldens
        from trainer.errors import TrainerError

        config, path = self._paths(config, golden)
        seeds = band if isinstance(band, str) else None
        if not path.exists():
            if not self.update:
                pytest.fail(
                    f"no golden curve {path} ({self.base}); write it with: pytest {OPTION}", pytrace=False
                )
            return self._write(config, path, band, seeds, "new")
        try:
            if band:
                result = goldens.check_band(config, path, seeds, **tolerances)
            else:
                result = goldens.check(config, path, **tolerances)
        except TrainerError as e:  # e.g. a band check of an exact golden
            if not self.update:
                pytest.fail(f"{e}; or rewrite it with: pytest {OPTION}", pytrace=False)
            return self._write(config, path, band, seeds or DEFAULT_BAND_SEEDS, f"rewritten: {e}")
        if result.ok:
            return result
        from trainer.pictures import overlay  # golden vs now: beside the golden it rewrites, else in tmp_path

        picture = goldens.failed_path(config, path)
        if self.update:
            why = "; ".join(filter(None, ["rewritten: it failed", overlay.draw_failure(result, picture)]))
            return self._write(config, path, band, seeds, why)
        report = overlay.with_picture(result, self.tmp_path() / picture.name)
        pytest.fail(f"{report}\n  rewrite it with: pytest {OPTION}", pytrace=False)

    def _paths(self, config, golden):
        """(config, golden path) taken from the rootdir; a missing config file fails the test."""
        __tracebackhide__ = True
        from trainer.curves.golden import default_golden
        from trainer.errors import did_you_mean_path

        if isinstance(config, (str, os.PathLike)):
            config = self.root / config  # an absolute path stays as it is
            if not config.is_file():
                pytest.fail(
                    f"no config file {config}{did_you_mean_path(config)} ({self.base})", pytrace=False
                )
        return config, self.root / (golden or default_golden(config))

    def _write(self, config, path, band, seeds, why):
        from trainer.curves import golden as goldens

        if band and seeds is None and not path.exists():
            seeds = DEFAULT_BAND_SEEDS
        goldens.update(config, path, seeds=seeds)
        self.written.append(f"{path} ({why})")
        return goldens.CheckResult(True, f"wrote {path}", None, None)


@pytest.fixture
def loss_curve(request):
    """Check loss curves against golden files: loss_curve.check(config, golden=None, band=False, ...)."""
    config = request.config

    def tmp_path():  # the test's own, made only when a failed check draws its picture
        return request.getfixturevalue("tmp_path")

    return LossCurve(config.rootpath, config.getoption(OPTION), config.stash[WRITTEN], tmp_path)


def pytest_terminal_summary(terminalreporter, config):
    written = config.stash.get(WRITTEN, [])
    if written:
        terminalreporter.section("trainer: golden curves written")
        for line in written:
            terminalreporter.write_line(line)
