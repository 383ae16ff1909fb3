"""Every shipped config trains the loss curve of its golden (tests/golden/<config stem>.json).

A config without a golden fails and says how to make one; so does a golden without a config.
Goldens record at most 50 epochs (`trainer curve update` caps them), which keeps this module fast.
"""
from pathlib import Path

import pytest

from trainer.testing import assert_curve_matches

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_config_matches_its_golden_curve(config, tmp_path):
    golden = GOLDEN / f"{config.stem}.json"
    if not golden.exists():
        pytest.fail(f"configs/{config.name} has no golden curve; create it with `trainer curve update configs/{config.name}`")
    assert_curve_matches(config, golden, plot=tmp_path / f"{config.stem}.overlay.png")


def test_every_config_has_a_golden_and_every_golden_a_config():
    configs = {p.stem for p in CONFIGS}
    goldens = {p.stem for p in GOLDEN.glob("*.json")}
    assert configs - goldens == set(), ("configs without a golden curve; create them with `trainer curve update "
                                       + " ".join(f"configs/{s}.yaml" for s in sorted(configs - goldens))
                                       + "` (or scripts/update_goldens.sh for all)")
    assert goldens - configs == set(), "goldens whose config is gone: delete them from tests/golden/"
