"""Whole runs of every shipped config on the two engines agree as closely as rounding lets any two runs agree.

Over the 50 epochs of a golden they agree within its tolerance (tests/curves/test_golden_curves.py
checks each golden on both). Over a whole run most configs still agree to a few ulps; on a few
(digits, spiral_cs231n) training amplifies rounding until any change of the last bit, the engine's
order of summation or a one-ulp nudge of the data, moves the curve past 1e-10. There the engines
must depart no earlier and by no more than that nudge does (with a margin for chaos).
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from trainer.config.load import load_config
from trainer.curves.tolerance import compare_curves
from trainer.runs.run import start
from trainer.storage.curvefile import make_curve
from trainer.training.loop import optimize

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
MARGIN = 10  # chaos makes the size of a departure vary; the engines' may exceed the nudge's by this much


def whole_run(cfg, engine="fast", nudge=False):
    """The curve of cfg trained in full on `engine`; nudge: every training feature moved up one ulp."""
    cfg = replace(cfg, train=replace(cfg.train, engine=engine))
    data, state = start(cfg)
    X, y = data.train
    optimize(
        state,
        np.nextafter(X, np.inf) if nudge else X,
        y,
        cfg.train,
        data.val,
        sample_weight=data.train_weight,
    )
    return make_curve(cfg, state)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.stem)
def test_whole_runs_of_both_engines_agree_as_rounding_allows(config):
    cfg = load_config(config)
    fast = whole_run(cfg)
    engines = compare_curves(fast, whole_run(cfg, "reference"))
    if engines.ok:
        return
    nudged = compare_curves(fast, whole_run(cfg, nudge=True))
    assert not nudged.ok, f"only the engine moves the curve: {engines.first}"
    assert engines.first.epoch >= 0.9 * nudged.first.epoch, (engines.first, nudged.first)
    assert engines.largest.rel <= MARGIN * nudged.largest.rel, (engines.largest, nudged.largest)
