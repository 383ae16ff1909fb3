"""Every shipped config trains the loss curve of its golden (tests/golden/<config stem>.json),
through the package's own pytest plugin (the `loss_curve` fixture, trainer/pytest_plugin.py).

A config without a golden fails and names `pytest --curves-update`, which writes it; a golden
without a config fails too. Goldens record at most 50 epochs (`trainer curve update` caps them),
which keeps this module fast. The engine is not part of a curve's identity: each golden is also
checked on the other engine.
"""

from pathlib import Path

import pytest

from trainer.config.load import load_config
from trainer.training.loop import ENGINES

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "configs").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_config_matches_its_golden_curve(config, engine, loss_curve):
    cfg = load_config(config, [f"train.engine={engine}"])
    loss_curve.check(cfg, GOLDEN / f"{config.stem}.json")


def test_every_config_has_a_golden_and_every_golden_a_config():
    configs = {p.stem for p in CONFIGS}
    goldens = {p.stem for p in GOLDEN.glob("*.json")}
    assert configs - goldens == set(), (
        "configs without a golden curve; create them with `trainer curve update "
        + " ".join(f"configs/{s}.yaml" for s in sorted(configs - goldens))
        + "` (or scripts/update_goldens.sh for all)"
    )
    assert goldens - configs == set(), "goldens whose config is gone: delete them from tests/golden/"
