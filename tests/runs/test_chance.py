"""A network that learned nothing is said to be one: at chance level, a run's summary.json and model
carry one warning line with a hint, stderr shows it, and --fail-on-chance exits 4; runs that
learned carry none."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import cli

from trainer.config.load import config_from_dict
from trainer.model.metrics import chance_level
from trainer.runs.run import at_chance, chance_warning
from trainer.storage.modelfile import load_model

ROOT = Path(__file__).resolve().parents[2]


def test_chance_level_is_the_majority_rate_and_the_entropy_of_the_class_priors():
    majority, prior_loss = chance_level(np.array([0, 0, 0, 1, 2, 2, 2, 2]), 4)  # class 3 never occurs
    assert majority == 0.5
    assert prior_loss == pytest.approx(
        -(3 / 8 * math.log(3 / 8) + 1 / 8 * math.log(1 / 8) + 0.5 * math.log(0.5))
    )


@pytest.mark.parametrize(
    "accuracy, loss, chance",
    [
        (0.75, 0.5, True),  # predicts the majority class: no better
        (0.76, 0.5, False),
        (0.9, 0.5624, True),  # right more often, but no more sure than the priors: nothing learned
        (0.9, 0.56, False),
    ],
)
def test_at_chance_takes_either_test(accuracy, loss, chance):
    y = np.array([0, 0, 0, 1])  # majority 0.75, priors' loss 0.56234
    assert at_chance({"accuracy": accuracy, "loss": loss}, y, 2)[0] is chance


def test_the_hint_names_the_lr_the_init_and_standardisation_when_it_is_off():
    cfg = config_from_dict({"data": {"standardize": False}, "train": {"lr": 5.0}, "model": {"init": "he"}})
    text = chance_warning(cfg, {"accuracy": 0.5, "loss": 0.7}, np.array([0, 1]), 2)
    assert text.startswith("chance level: train accuracy 0.5000 against a majority-class rate of 0.5000, ")
    assert text.endswith(
        "try a smaller train.lr (now 5), another model.init (now he) or data.standardize: true"
    )
    assert chance_warning(cfg, {"accuracy": 0.9, "loss": 0.1}, np.array([0, 1]), 2) is None


@pytest.mark.parametrize(
    "peak, hint",
    [
        (5.4e6, "try a smaller train.lr (now 5)"),  # the loss blew up: the steps are too long
        (float("nan"), "try a smaller train.lr (now 5)"),
        (0.75, "try a larger train.lr (now 5) and more train.epochs (now 200)"),  # it hardly moved
    ],
)
def test_the_lr_hint_points_the_way_the_loss_went(peak, hint):
    cfg = config_from_dict({"train": {"lr": 5.0, "epochs": 200}})
    text = chance_warning(cfg, {"accuracy": 0.5, "loss": 0.7}, np.array([0, 1]), 2, peak_objective=peak)
    assert hint in text


@pytest.fixture(scope="module")
def dead(tmp_path_factory):
    """configs/moons.yaml at lr 1000 (Adam): the loss explodes, then the network predicts one class."""
    tmp = tmp_path_factory.mktemp("dead")
    args = ("train", ROOT / "configs/moons.yaml", "--set", "train.lr=1e3", "--no-plots")
    return (
        tmp,
        cli(*args, "--out", "run", cwd=tmp),
        cli(*args, "-q", "--fail-on-chance", "--out", "r4", cwd=tmp),
    )


def test_a_dead_network_is_said_to_be_one_and_still_exits_0(dead):
    tmp, r, _ = dead
    assert r.returncode == 0
    summary = json.loads((tmp / "run/summary.json").read_text())
    assert summary["train"]["accuracy"] == 0.5 and summary["test"]["accuracy"] == 0.5
    warning = summary["warning"]
    assert warning.startswith("chance level: train accuracy 0.5000 against a majority-class rate of 0.5000")
    assert "try a smaller train.lr (now 1000)" in warning
    assert r.stderr == f"trainer: warning: {warning}\n"
    assert load_model(tmp / "run/model.npz").summary["warning"] == warning
    assert "run run" in r.stdout  # the summary is printed as ever


def test_fail_on_chance_exits_4_and_keeps_the_run(dead):
    tmp, _, r = dead
    assert r.returncode == 4
    (line,) = r.stderr.splitlines()
    assert line.startswith("trainer: error: chance level: ") and line.endswith(" (--fail-on-chance)")
    assert json.loads((tmp / "r4/summary.json").read_text())["warning"] in line


def test_a_network_that_learned_has_no_warning(tmp_path):
    r = cli("train", ROOT / "configs/iris.yaml", "--set", "train.epochs=20", "--out", "run",
                "-q", "--no-plots", "--fail-on-chance", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0 and r.stderr == ""
    assert "warning" not in json.loads((tmp_path / "run/summary.json").read_text())


def test_with_weights_the_chance_level_counts_the_weight_of_each_class():
    y = np.array([0, 0, 0, 1])
    majority, prior_loss = chance_level(y, 2, np.array([1.0, 1.0, 1.0, 3.0]))  # class 1 weighs 3 of 6
    assert majority == 0.5 and prior_loss == pytest.approx(math.log(2))


# a class-weighted network on noisy imbalanced data: it learns both classes, so its accuracy falls
# below the majority-class rate (what balancing trades), though it is far from chance
LEARNED_BALANCED = ["data.params.flip_y=0.4", "data.params.class_sep=0.3", "train.epochs=10"]


def test_a_class_weighted_network_is_judged_by_what_it_was_trained_for(tmp_path):
    import trainer as api
    from trainer.config.load import load_config

    result = api.train(load_config(ROOT / "configs/imbalanced.yaml", LEARNED_BALANCED), tmp_path / "run")
    train = result.summary["train"]  # unweighted figures, as summary.json has them
    majority, _ = chance_level(np.array([0] * 9 + [1]), 2)  # the data's 9:1 (flip_y blurs it a little)
    assert train["accuracy"] < majority - 0.1 and train["balanced_accuracy"] > 0.6
    assert "warning" not in result.summary
    dead = load_config(ROOT / "configs/imbalanced.yaml", ["train.lr=1e3", "train.optimizer=adam"])
    warning = api.train(dead, tmp_path / "dead").summary["warning"]
    assert warning.startswith("chance level: weighted train accuracy 0.5000 against a weighted majority")


def test_a_class_weighted_sweep_trial_is_judged_by_its_weighted_fits(tmp_path):
    from trainer.config.load import load_config
    from trainer.sweeps.trial import run_trial

    learned = load_config(ROOT / "configs/imbalanced.yaml", [*LEARNED_BALANCED, "data.val_size=0.2"])
    for cv in (None, 3):  # scored on the validation split, and over folds
        outcome = run_trial(learned, cv)
        assert outcome["chance"] is False, outcome
    dead = load_config(ROOT / "configs/imbalanced.yaml", ["train.lr=1e3", "train.optimizer=adam"])
    assert run_trial(dead, 3)["chance"] is True
