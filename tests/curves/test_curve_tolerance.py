"""scripts/curve_tolerance.py, the figures behind the default curve tolerance: each perturbation
it measures must reach training and move the curve, by rounding or by a small behaviour change."""

import importlib.util
from pathlib import Path

import pytest

from trainer.training.optim import Optimizer

ROOT = Path(__file__).resolve().parents[2]
EPOCHS = 3


@pytest.fixture(scope="module")
def tol():
    spec = importlib.util.spec_from_file_location("curve_tolerance", ROOT / "scripts/curve_tolerance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def base(tol):
    return tol.in_process("moons f64", EPOCHS)


@pytest.mark.parametrize(
    "perturbation, largest",
    [
        (lambda t: t.grads_scaled(1e-6, True), 1e-5),
        (lambda t: t.grads_scaled(1e-6, False), 1e-5),
        (lambda t: t.data_moved("up"), 1e-12),
        (lambda t: t.data_moved("random"), 1e-12),
    ],
)
def test_each_perturbation_moves_the_curve_a_little(tol, base, perturbation, largest):
    step = Optimizer.step
    got = tol.in_process("moons f64", EPOCHS, perturbation(tol))
    assert 0 < tol.deviation(base, got)["loss"] < largest
    assert Optimizer.step is step  # undone on leaving


def test_a_rerun_in_process_and_a_changed_lr_as_measured(tol, base):
    assert tol.deviation(base, tol.in_process("moons f64", EPOCHS))["loss"] == 0
    lr = tol.load("moons f64", EPOCHS).train.lr
    assert (
        tol.deviation(base, tol.in_process("moons f64", EPOCHS, extra=[f"train.lr={lr * 1.01!r}"]))["loss"]
        > 1e-4
    )
