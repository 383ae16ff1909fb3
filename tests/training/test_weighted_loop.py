"""Training with sample weights: integer weights are repeated rows, all-ones weights are no weights
bit for bit, zero-weight batches take no step, both engines agree, and `until` pauses a fit exactly."""

import numpy as np
import pytest

from trainer.model.network import PARAM_NAMES, init_params, loss_and_grads
from trainer.training.loop import ENGINES, TrainConfig, TrainState, optimize
from trainer.training.optim import make_optimizer


def data(n=60, D=4, C=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = 2 * rng.standard_normal((C, D))
    y = rng.integers(0, C, n)
    return centers[y] + rng.standard_normal((n, D)), y


def state(optimizer="sgd", D=4, H=10, C=3, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = init_params(D, H, C, rng, dtype=dtype)
    return TrainState(params=params, optimizer=make_optimizer(optimizer, params), rng=rng)


def curve(s):
    return [r["train_loss"] for r in s.history]


def assert_same_bits(a, b):
    assert curve(a) == curve(b)
    for k in PARAM_NAMES:
        assert a.params[k].tobytes() == b.params[k].tobytes(), k


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_integer_weights_train_as_repeated_rows_with_full_batch_gradient_descent(engine, optimizer):
    X, y = data()
    w = np.random.default_rng(2).integers(0, 4, len(y))  # zeros among them: those rows are left out
    cfg = TrainConfig(epochs=40, batch_size=None, optimizer=optimizer, lr=0.05, reg=1e-3, engine=engine)
    weighted = optimize(state(optimizer), X, y, cfg, sample_weight=w)
    repeated = optimize(state(optimizer), np.repeat(X, w, axis=0), np.repeat(y, w), cfg)
    np.testing.assert_allclose(curve(weighted), curve(repeated), rtol=1e-12, atol=0)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(weighted.params[k], repeated.params[k], rtol=1e-12, atol=1e-14)
    assert curve(weighted)[-1] < 0.5 * curve(weighted)[0]  # it trained


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [16, 7, None])
def test_all_ones_weights_train_bit_for_bit_as_no_weights(engine, dtype, batch_size):
    X, y = data(n=50)
    cfg = TrainConfig(epochs=5, batch_size=batch_size, optimizer="adam", lr=0.01, engine=engine)
    plain = optimize(state("adam", dtype=dtype), X, y, cfg, val=(X[:20], y[:20]))
    ones = optimize(state("adam", dtype=dtype), X, y, cfg, val=(X[:20], y[:20]), sample_weight=np.ones(50))
    assert_same_bits(ones, plain)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_batch_whose_weights_are_all_zero_takes_no_step(engine):
    X, y = data(n=30)
    cfg = TrainConfig(epochs=3, batch_size=5, optimizer="adam", lr=0.01, shuffle=False, engine=engine)
    w = np.ones(30)
    w[5:10] = 0  # the second batch of every epoch
    skipped = optimize(state("adam"), X, y, cfg, sample_weight=w)
    kept = np.r_[0:5, 10:30]  # the same batches without it: the same steps, bit for bit
    without = optimize(state("adam"), X[kept], y[kept], cfg)
    assert skipped.optimizer.t == without.optimizer.t == 3 * 5
    assert_same_bits(skipped, without)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_epochs_train_loss_is_the_weighted_objective(engine):
    X, y = data(n=40)
    w = np.random.default_rng(3).uniform(0, 2, 40)
    s = state()
    before = {k: v.copy() for k, v in s.params.items()}
    cfg = TrainConfig(epochs=1, batch_size=None, optimizer="sgd", lr=0.1, reg=0.01, engine=engine)
    optimize(s, X, y, cfg, sample_weight=w)
    assert curve(s)[0] == pytest.approx(loss_and_grads(before, X, y, 0.01, w)[0], rel=1e-14)
    # minibatches: each step's loss counts by its weight sum
    s, steps = state(), []
    cfg = TrainConfig(
        epochs=1, batch_size=16, optimizer="sgd", lr=0.1, reg=0.01, shuffle=False, engine=engine
    )
    for start in range(0, 40, 16):  # the same three steps by hand
        rows = slice(start, start + 16)
        loss, g = loss_and_grads(s.params, X[rows], y[rows], 0.01, w[rows])
        steps.append((loss, w[rows].sum()))
        for k in PARAM_NAMES:
            s.params[k] -= 0.1 * g[k]
    expected = sum(loss * n for loss, n in steps) / sum(n for _, n in steps)
    assert curve(optimize(state(), X, y, cfg, sample_weight=w))[0] == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_the_two_engines_train_the_same_weighted_curve_to_rounding(optimizer):
    X, y = data(n=90)
    w = np.random.default_rng(4).uniform(0, 3, 90) * (np.arange(90) % 4 != 0)  # a quarter of them 0
    runs = {}
    for engine in ENGINES:
        cfg = TrainConfig(epochs=20, batch_size=16, optimizer=optimizer, lr=0.05, engine=engine)
        runs[engine] = optimize(state(optimizer), X, y, cfg, val=(X[:30], y[:30]), sample_weight=w)
    np.testing.assert_allclose(curve(runs["fast"]), curve(runs["reference"]), rtol=1e-10, atol=1e-12)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(runs["fast"].params[k], runs["reference"].params[k], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "w, message",
    [
        (np.ones(5), "sample_weight has shape (5,); expected (60,)"),
        (-np.ones(60), "sample_weight must be >= 0"),
        (np.zeros(60), "sample_weight is all zero"),
        (np.full(60, np.nan), "NaN or inf"),
    ],
)
def test_fit_refuses_bad_weights(w, message):
    X, y = data()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        optimize(state(), X, y, TrainConfig(epochs=1), sample_weight=w)


@pytest.mark.parametrize("engine", ENGINES)
def test_until_pauses_a_fit_that_goes_on_exactly_under_its_schedule(engine):
    X, y = data()
    cfg = TrainConfig(epochs=6, batch_size=16, optimizer="adam", lr=0.01, lr_schedule="cosine", engine=engine)
    whole = optimize(state("adam"), X, y, cfg)
    paused = optimize(state("adam"), X, y, cfg, until=2)
    assert paused.epoch == 2 and [r["lr"] for r in paused.history] == [r["lr"] for r in whole.history[:2]]
    for until in (3, 5, None):
        optimize(paused, X, y, cfg, until=until)
    assert_same_bits(paused, whole)
