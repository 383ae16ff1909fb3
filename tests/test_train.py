"""The training loop: determinism, history, early stopping restoring the best epoch, divergence."""
import numpy as np
import pytest

from trainer.errors import DivergenceError
from trainer.model.network import init_params
from trainer.training.optim import make_optimizer
from trainer.training.loop import TrainConfig, TrainState, fit, val_metrics


def blobs(rng, n=120, d=4, c=3):
    centers = rng.standard_normal((c, d)) * 2
    y = rng.integers(0, c, n)
    return centers[y] + rng.standard_normal((n, d)), y


def make_state(seed=0, d=4, h=16, c=3, optimizer="sgd"):
    rng = np.random.default_rng(seed)
    params = init_params(d, h, c, rng)
    return TrainState(params=params, optimizer=make_optimizer(optimizer, params), rng=rng)


def test_same_seed_same_curve_and_params():
    X, y = blobs(np.random.default_rng(1))
    cfg = TrainConfig(epochs=5, batch_size=16, optimizer="sgd", lr=0.1, early_stopping=False)
    a, b = make_state(), make_state()
    fit(a, X, y, cfg)
    fit(b, X, y, cfg)
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k])


def test_history_records_each_epoch_and_training_lowers_the_loss():
    X, y = blobs(np.random.default_rng(2))
    cfg = TrainConfig(epochs=20, batch_size=32, optimizer="adam", lr=0.01, early_stopping=False)
    state = fit(make_state(optimizer="adam"), X, y, cfg, val=(X, y))
    assert [r["epoch"] for r in state.history] == list(range(1, 21))
    assert set(state.history[0]) == {"epoch", "train_loss", "val_loss", "val_accuracy", "lr", "epoch_seconds"}
    assert state.history[-1]["train_loss"] < 0.5 * state.history[0]["train_loss"]


def test_no_val_split_means_no_val_keys():
    X, y = blobs(np.random.default_rng(3))
    cfg = TrainConfig(epochs=2, early_stopping=False)
    state = fit(make_state(optimizer="adam"), X, y, cfg)
    assert "val_loss" not in state.history[0] and "val_accuracy" not in state.history[0]


def test_early_stopping_restores_the_best_epoch():
    rng = np.random.default_rng(4)
    X, y = blobs(rng, n=60)
    Xv, yv = blobs(np.random.default_rng(5), n=60)  # other centers: val loss soon rises
    cfg = TrainConfig(epochs=300, batch_size=8, optimizer="sgd", lr=0.5, patience=3, min_delta=0.0,
                      early_stopping=True)
    state = fit(make_state(), X, y, cfg, val=(Xv, yv))
    losses = [r["val_loss"] for r in state.history]
    assert state.stopped_early and len(losses) < 300
    assert state.best_epoch == int(np.argmin(losses)) + 1 < len(losses)
    assert val_metrics(state.params, Xv, yv)[0] == min(losses)  # bitwise: the best weights came back


def test_early_stopping_on_accuracy_maximises():
    X, y = blobs(np.random.default_rng(6))
    cfg = TrainConfig(epochs=40, batch_size=16, optimizer="sgd", lr=0.05, monitor="val_accuracy", patience=5,
                      early_stopping=True)
    state = fit(make_state(), X, y, cfg, val=(X, y))
    accs = [r["val_accuracy"] for r in state.history]
    assert accs[state.best_epoch - 1] == max(accs)


def test_divergence_names_epoch_and_step_and_suggests_a_smaller_lr():
    X, y = blobs(np.random.default_rng(7))
    cfg = TrainConfig(epochs=50, batch_size=16, optimizer="sgd", lr=1e12, early_stopping=False)
    with pytest.raises(DivergenceError, match=r"epoch \d+.*step \d+.*smaller train.lr"):
        fit(make_state(), X * 1e3, y, cfg)


def test_callbacks_see_every_epoch_in_order():
    X, y = blobs(np.random.default_rng(8))
    seen = []

    class Spy:
        def on_train_begin(self, state):
            seen.append("begin")

        def on_epoch_end(self, state, record):
            seen.append(record["epoch"])

        def on_train_end(self, state):
            seen.append("end")

    fit(make_state(), X, y, TrainConfig(epochs=3, early_stopping=False), callbacks=[Spy()])
    assert seen == ["begin", 1, 2, 3, "end"]
