"""The training loop repeats itself under a seed, records every epoch, stops early and restores the
best weights, names a divergence, and steps on both engines as the textbook SGD loop does."""

import numpy as np
import pytest

from trainer.errors import DivergenceError
from trainer.model.fast import one_hot, with_ones
from trainer.model.network import PARAM_NAMES, init_params, loss_and_grads, predict
from trainer.training import loop
from trainer.training.loop import (
    ENGINES,
    FastBatches,
    TrainConfig,
    TrainState,
    loss_and_accuracy,
    one_epoch,
    optimize,
)
from trainer.training.optim import make_optimizer


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
    optimize(a, X, y, cfg)
    optimize(b, X, y, cfg)
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k])


def test_history_records_each_epoch_and_training_lowers_the_loss():
    X, y = blobs(np.random.default_rng(2))
    cfg = TrainConfig(epochs=20, batch_size=32, optimizer="adam", lr=0.01, early_stopping=False)
    state = optimize(make_state(optimizer="adam"), X, y, cfg, val=(X, y))
    assert [r["epoch"] for r in state.history] == list(range(1, 21))
    assert set(state.history[0]) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "epoch_seconds",
    }
    assert state.history[-1]["train_loss"] < 0.5 * state.history[0]["train_loss"]


def test_no_val_split_means_no_val_keys():
    X, y = blobs(np.random.default_rng(3))
    cfg = TrainConfig(epochs=2, early_stopping=False)
    state = optimize(make_state(optimizer="adam"), X, y, cfg)
    assert "val_loss" not in state.history[0] and "val_accuracy" not in state.history[0]


def test_early_stopping_restores_the_best_epoch():
    rng = np.random.default_rng(4)
    X, y = blobs(rng, n=60)
    Xv, yv = blobs(np.random.default_rng(5), n=60)  # other centers: val loss soon rises
    cfg = TrainConfig(
        epochs=300, batch_size=8, optimizer="sgd", lr=0.5, patience=3, min_delta=0.0, early_stopping=True
    )
    state = optimize(make_state(), X, y, cfg, val=(Xv, yv))
    losses = [r["val_loss"] for r in state.history]
    assert state.stopped_early and len(losses) < 300
    assert state.best_epoch == int(np.argmin(losses)) + 1 < len(losses)
    assert loss_and_accuracy(state.params, Xv, yv)[0] == min(losses)  # bitwise: the best weights came back


def test_early_stopping_on_accuracy_maximises():
    X, y = blobs(np.random.default_rng(6))
    cfg = TrainConfig(
        epochs=40,
        batch_size=16,
        optimizer="sgd",
        lr=0.05,
        monitor="val_accuracy",
        patience=5,
        early_stopping=True,
    )
    state = optimize(make_state(), X, y, cfg, val=(X, y))
    accs = [r["val_accuracy"] for r in state.history]
    assert accs[state.best_epoch - 1] == max(accs)


def test_divergence_names_epoch_and_step_and_suggests_a_smaller_lr():
    X, y = blobs(np.random.default_rng(7))
    cfg = TrainConfig(epochs=50, batch_size=16, optimizer="sgd", lr=1e12, early_stopping=False)
    with pytest.raises(DivergenceError, match=r"epoch \d+.*step \d+.*smaller train.lr"):
        optimize(make_state(), X * 1e3, y, cfg)


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

    optimize(make_state(), X, y, TrainConfig(epochs=3, early_stopping=False), callbacks=[Spy()])
    assert seen == ["begin", 1, 2, 3, "end"]


# ---------------------------------------------------------------- the engines and the flat params


def problem(n=50, D=3, H=7, C=4, seed=0, dtype=np.float64):
    """Random data (n, D) with labels in 0..C-1 and params from init_params."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D)).astype(dtype)
    return X, rng.integers(0, C, n), init_params(D, H, C, rng, dtype=dtype)


def assert_views_of(w, params):
    """params are views of the flat w, back to back in the order [W1, b1, W2, b2]."""
    assert w.ndim == 1 and w.size == sum(params[k].size for k in PARAM_NAMES)
    start = 0
    for k in PARAM_NAMES:
        assert params[k].base is w and params[k].flags.c_contiguous, k
        np.testing.assert_array_equal(w[start : start + params[k].size], params[k].ravel())
        start += params[k].size


def test_a_train_state_keeps_its_params_in_its_own_flat_buffer():
    _, _, p = problem()
    given = {k: p[k].copy() for k in ("b2", "W1", "W2", "b1")}  # separate arrays, in another order
    state = TrainState(params=given, optimizer=make_optimizer("sgd", p), rng=np.random.default_rng(0))
    assert_views_of(state.w, state.params)
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(state.params[k], p[k])
        assert not np.shares_memory(state.params[k], given[k])


def plain_epoch(params, X, y, order, bs, lr, reg):
    """One epoch of SGD as the textbook writes it: fancy-indexed batches, loss_and_grads, w -= lr * dw;
    (mean loss, running accuracy: the share of rows each batch's weights predicted right before the step)."""
    losses, hits = [], 0
    for start in range(0, len(y), bs):
        idx = order[start : start + bs]
        hits += np.count_nonzero(predict(params, X[idx]) == y[idx])
        loss, g = loss_and_grads(params, X[idx], y[idx], reg)
        for k in PARAM_NAMES:
            params[k] -= lr * g[k]
        losses.append(loss * len(idx))
    return sum(losses) / len(y), hits / len(y)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
# a partial last batch, none, the full batch, bs > n
@pytest.mark.parametrize("n, bs", [(50, 16), (48, 16), (7, None), (5, 8)])
def test_an_epoch_is_the_textbook_sgd_loop(n, bs, dtype, engine):
    X, y, params = problem(n=n, dtype=dtype)
    plain = {k: v.copy() for k, v in params.items()}
    state = TrainState(params=params, optimizer=make_optimizer("sgd", params), rng=np.random.default_rng(5))
    cfg = TrainConfig(batch_size=bs, optimizer="sgd", lr=0.3, reg=0.01, engine=engine)
    order_rng = np.random.default_rng(5)
    batches = ENGINES[engine](X, y, state.params, bs, 0.01)
    for _ in range(3):
        train_loss = one_epoch(state, X, y, cfg, 0.3, batches)
        plain_loss, plain_accuracy = plain_epoch(plain, X, y, order_rng.permutation(n), bs or n, 0.3, 0.01)
        assert batches.running_accuracy() == plain_accuracy
        for k in PARAM_NAMES:
            assert state.params[k].dtype == dtype
        if engine == "reference":  # the same arithmetic: bit for bit
            assert train_loss == plain_loss
            for k in PARAM_NAMES:
                np.testing.assert_array_equal(state.params[k], plain[k])
            continue
        assert train_loss == pytest.approx(plain_loss, rel=1e-6 if dtype == np.float32 else 1e-14)
        for k in PARAM_NAMES:  # the fast step and the textbook one agree to rounding
            tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(state.params[k], plain[k], **tol)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
def test_the_two_engines_train_the_same_curve_to_rounding(optimizer):
    X, y = blobs(np.random.default_rng(12))
    runs = {}
    for engine in ENGINES:
        cfg = TrainConfig(epochs=30, batch_size=16, optimizer=optimizer, lr=0.05, engine=engine)
        runs[engine] = optimize(make_state(optimizer=optimizer), X, y, cfg, val=(X[:40], y[:40]))
    fast, reference = runs["fast"], runs["reference"]
    for metric in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        got, want = [r[metric] for r in fast.history], [r[metric] for r in reference.history]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=metric)
    for k in PARAM_NAMES:
        np.testing.assert_allclose(fast.params[k], reference.params[k], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("block", [3, 4096])  # several gather blocks (the last one short), one
def test_an_epoch_gathers_rows_and_one_hot_labels_in_the_given_order(block, monkeypatch):
    monkeypatch.setattr(loop, "GATHER_ROWS", block)
    X, y, params = problem(n=10)
    batches = FastBatches(X, y, params, 4, 0.0)
    order = np.random.default_rng(1).permutation(10)
    batches.gather(order)
    got = batches.batches
    assert [len(Y) for _, Y, _, _, _ in got] == [4, 4, 2] and all(SW is None for _, _, SW, _, _ in got)
    assert got[0][4] is got[1][4] and got[2][4] is not got[0][4]  # one FastStep per batch size
    np.testing.assert_array_equal(np.concatenate([X1 for X1, _, _, _, _ in got]), with_ones(X[order]))
    np.testing.assert_array_equal(
        np.concatenate([Y for _, Y, _, _, _ in got]), one_hot(y[order], 4, np.float64)
    )
    np.testing.assert_array_equal(batches.labels, y[order])
    weighted = FastBatches(X, y, params, 4, 0.0, sample_weight=np.arange(10.0))
    weighted.gather(order)
    np.testing.assert_array_equal(np.concatenate([SW for _, _, SW, _, _ in weighted.batches]), order[:, None])


def test_params_that_are_not_one_buffer_are_rehomed_and_training_continues_exactly():
    X, y, _ = problem(n=40)
    # constant: the lr of epochs 1-2 must not depend on `epochs`
    cfg = TrainConfig(epochs=4, batch_size=16, optimizer="momentum", lr=0.1, lr_schedule="constant")

    def state():
        rng = np.random.default_rng(9)
        p = init_params(3, 7, 4, rng)
        return TrainState(params=p, optimizer=make_optimizer("momentum", p), rng=rng)

    whole = optimize(state(), X, y, cfg)
    half = optimize(state(), X, y, TrainConfig(**{**cfg.__dict__, "epochs": 2}))
    # what a resume from a checkpoint builds: separate copies of everything saved
    params = {k: np.array(v) for k, v in half.params.items()}
    opt = make_optimizer("momentum", params)
    opt.load_state_dict(half.optimizer.state_dict())
    rng = np.random.default_rng()
    rng.bit_generator.state = half.rng.bit_generator.state
    resumed = optimize(
        TrainState(params=params, optimizer=opt, rng=rng, epoch=2, history=list(half.history)), X, y, cfg
    )
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(resumed.params[k], whole.params[k])
    assert_views_of(resumed.w, resumed.params)


def test_an_optimizer_built_for_another_param_order_is_refused():
    _, _, params = problem()
    shuffled = {k: params[k] for k in ("b2", "W2", "b1", "W1")}
    with pytest.raises(ValueError, match="order b2, W2, b1, W1"):
        TrainState(params=params, optimizer=make_optimizer("sgd", shuffled), rng=np.random.default_rng(0))


@pytest.mark.parametrize("engine", ENGINES)
def test_fit_with_no_epoch_left_builds_no_batches(engine, monkeypatch):
    X, y, params = problem()
    state = TrainState(
        params=params, optimizer=make_optimizer("sgd", params), rng=np.random.default_rng(0), epoch=3
    )
    built = []
    monkeypatch.setitem(loop.ENGINES, engine, lambda *a: built.append(a))
    ends = []
    end = type("End", (), {"on_train_end": lambda self, s: ends.append(s.epoch)})()
    optimize(state, X, y, TrainConfig(epochs=3, engine=engine), callbacks=[end])
    assert built == [] and ends == [3] and state.epoch == 3


def test_a_pickled_train_state_keeps_its_params_as_views_of_its_flat_buffer():
    import pickle

    X, y, params = problem()
    state = optimize(
        TrainState(params=params, optimizer=make_optimizer("adam", params), rng=np.random.default_rng(0)),
        X,
        y,
        TrainConfig(epochs=1, optimizer="adam"),
    )
    holder = {"state": state, "params": state.params}  # as an estimator holds both
    back = pickle.loads(pickle.dumps(holder))
    assert_views_of(back["state"].w, back["state"].params)
    assert back["params"] is back["state"].params
    for k in PARAM_NAMES:
        np.testing.assert_array_equal(back["state"].params[k], state.params[k])
