"""The fast training step (issue 6): reused buffers, flat params, one gather per epoch, all giving what the plain loop gives."""
import numpy as np
import pytest

from trainer.training import loop as train
from trainer.model.flat import flat_copy
from trainer.model.network import (
    PARAM_NAMES,
    Workspace,
    init_params,
    loss_and_grads,
    one_hot,
    with_ones,
)
from trainer.training.optim import OPTIMIZERS, make_optimizer
from trainer.training.loop import Batches, TrainConfig, TrainState, fit, run_epoch


def problem(n=50, D=3, H=7, C=4, seed=0, dtype=np.float64):
    """Random data (n, D) with labels in 0..C-1 and params from init_params."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D)).astype(dtype)
    y = rng.integers(0, C, n)
    return X, y, init_params(D, H, C, rng, dtype=dtype)


def assert_same(a, b):
    """Two dicts of arrays equal bit for bit."""
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def assert_views_of(w, params):
    """params are views of the flat w, back to back in the order [W1, b1, W2, b2]."""
    assert w.ndim == 1 and w.size == sum(params[k].size for k in PARAM_NAMES)
    start = 0
    for k in PARAM_NAMES:
        assert params[k].base is w and params[k].flags.c_contiguous, k
        before = params[k].flat[0]
        params[k].flat[0] = 12345.0  # a write through the view lands in w, where the layout says
        assert w[start] == 12345.0, k
        params[k].flat[0] = before
        start += params[k].size


def test_init_params_are_views_of_one_flat_buffer_in_order():
    p = init_params(3, 5, 2, np.random.default_rng(0))
    w = p["W1"].base
    assert_views_of(w, p)
    np.testing.assert_array_equal(w[:15], p["W1"].ravel())  # [W1; b1] is a (D+1, H) matrix of w
    np.testing.assert_array_equal(w[15:20], p["b1"])


def test_a_train_state_keeps_its_params_in_its_own_flat_buffer():
    p = init_params(3, 5, 2, np.random.default_rng(0))
    given = {k: p[k].copy() for k in ("b2", "W1", "W2", "b1")}  # separate arrays, in another order
    state = TrainState(params=given, optimizer=make_optimizer("sgd", p), rng=np.random.default_rng(0))
    assert_views_of(state.w, state.params)
    assert_same(state.params, p)
    assert not any(np.shares_memory(state.w, a) for a in [*given.values(), *p.values()])  # a copy: the caller's arrays stay theirs


def test_a_reused_workspace_gives_what_a_fresh_call_gives():
    X, y, params = problem(n=12)
    w, _ = flat_copy({k: params[k] for k in PARAM_NAMES})
    ws = Workspace(6, 3, 7, 4, np.float64, 0.1)
    for part in (slice(0, 6), slice(6, 12), slice(0, 6)):  # other data in between must leave no trace
        loss = ws.loss_and_grads(w, with_ones(X[part]), one_hot(y[part], 4, np.float64))
        fresh_loss, fresh = loss_and_grads(params, X[part], y[part], 0.1)
        assert loss == fresh_loss
        assert_same(ws.grads, fresh)


def test_workspace_reads_its_arguments_only():
    X, y, params = problem(n=8)
    w, _ = flat_copy({k: params[k] for k in PARAM_NAMES})
    Xa, Y = with_ones(X), one_hot(y, 4, np.float64)
    before = (w.copy(), Xa.copy(), Y.copy())
    Workspace(8, 3, 7, 4, np.float64, 0.1).loss_and_grads(w, Xa, Y)
    for a, b in zip((w, Xa, Y), before):
        np.testing.assert_array_equal(a, b)


def test_the_caller_owns_the_gradients_it_gets():
    X, y, params = problem(n=8)
    _, g1 = loss_and_grads(params, X, y)
    _, g2 = loss_and_grads(params, X, y)
    keep = {k: v.copy() for k, v in g2.items()}
    for k in PARAM_NAMES:
        assert not np.shares_memory(g1[k], g2[k]) and not np.shares_memory(g1[k], params[k])
        g1[k][...] = np.nan
    assert_same(g2, keep)


def plain_epoch(params, X, y, order, bs, lr, reg):
    """One epoch of SGD as the textbook writes it: fancy-indexed batches, the public loss_and_grads, w -= lr * dw."""
    losses = []
    for start in range(0, len(y), bs):
        idx = order[start:start + bs]
        loss, g = loss_and_grads(params, X[idx], y[idx], reg)
        for k in PARAM_NAMES:
            params[k] -= lr * g[k]
        losses.append(loss * len(idx))
    return sum(losses) / len(y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, bs", [(50, 16), (48, 16), (7, None), (5, 8)])  # a partial last batch, none, full batch, bs > n
def test_run_epoch_is_the_plain_sgd_loop(n, bs, dtype):
    X, y, params = problem(n=n, dtype=dtype)
    plain = {k: v.copy() for k, v in params.items()}
    state = TrainState(params=params, optimizer=make_optimizer("sgd", params), rng=np.random.default_rng(5))
    cfg = TrainConfig(batch_size=bs, optimizer="sgd", lr=0.3, reg=0.01)
    order_rng = np.random.default_rng(5)
    for _ in range(3):
        train_loss = run_epoch(state, X, y, cfg, 0.3)
        plain_loss = plain_epoch(plain, X, y, order_rng.permutation(n), bs or n, 0.3, 0.01)
        assert train_loss == pytest.approx(plain_loss, rel=1e-6 if dtype == np.float32 else 1e-14)
        for k in PARAM_NAMES:  # the fast step and the textbook one agree to rounding
            assert state.params[k].dtype == dtype
            np.testing.assert_allclose(state.params[k], plain[k], rtol=1e-5 if dtype == np.float32 else 1e-13,
                                       atol=1e-6 if dtype == np.float32 else 1e-15)


@pytest.mark.parametrize("block", [3, 4096])  # several gather blocks (the last one short), one
def test_an_epoch_gathers_rows_and_one_hot_labels_in_the_given_order(block, monkeypatch):
    monkeypatch.setattr(train, "GATHER_ROWS", block)
    X, y, params = problem(n=10)
    batches = Batches(X, y, params, 4, 0.0)
    order = np.random.default_rng(1).permutation(10)
    got = batches.epoch(order)
    assert [len(Y) for _, Y, _ in got] == [4, 4, 2]
    assert got[0][2] is got[1][2] and got[2][2] is not got[0][2]  # one Workspace per batch size
    np.testing.assert_array_equal(np.concatenate([Xa for Xa, _, _ in got]), with_ones(X[order]))
    np.testing.assert_array_equal(np.concatenate([Y for _, Y, _ in got]), one_hot(y[order], 4, np.float64))


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_flat_and_dict_steps_are_bitwise_equal(name):
    _, _, params = problem()
    as_dict = {k: v.copy() for k, v in params.items()}
    w, flat_params = flat_copy(as_dict)
    a, b = make_optimizer(name, as_dict), make_optimizer(name, as_dict)
    rng = np.random.default_rng(3)
    for lr in (0.1, 0.05, 0.02):
        g, grads = flat_copy({k: rng.standard_normal(v.shape) for k, v in params.items()})
        g_before = g.copy()
        a.step(as_dict, grads, lr)
        b.step(w, g, lr)
        np.testing.assert_array_equal(g, g_before)  # grads are only read
    assert_same(as_dict, flat_params)
    assert_same(a.state_dict(), b.state_dict())


def test_a_flat_array_of_the_wrong_size_is_refused():
    _, _, params = problem()
    opt = make_optimizer("sgd", params)
    w = params["W1"].base
    with pytest.raises(ValueError, match="flat dw must have shape"):
        opt.step(w, w[:-1], 0.1)


def test_params_that_are_not_one_buffer_are_rehomed_and_training_continues_exactly():
    X, y, _ = problem(n=40)
    cfg = TrainConfig(epochs=4, batch_size=16, optimizer="momentum", lr=0.1, lr_schedule="constant",
                      early_stopping=False)  # constant: the lr of epochs 1-2 must not depend on `epochs`

    def state():
        rng = np.random.default_rng(9)
        p = init_params(3, 7, 4, rng)
        return TrainState(params=p, optimizer=make_optimizer("momentum", p), rng=rng)

    whole = fit(state(), X, y, cfg)
    half = fit(state(), X, y, TrainConfig(**{**cfg.__dict__, "epochs": 2}))
    # what a resume from a checkpoint builds: separate copies of everything saved
    params = {k: np.array(v) for k, v in half.params.items()}
    opt = make_optimizer("momentum", params)
    opt.load_state_dict(half.optimizer.state_dict())
    rng = np.random.default_rng()
    rng.bit_generator.state = half.rng.bit_generator.state
    resumed = fit(TrainState(params=params, optimizer=opt, rng=rng, epoch=2, history=list(half.history)), X, y, cfg)
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]
    assert_same(resumed.params, whole.params)
    assert_views_of(resumed.w, resumed.params)


def test_an_optimizer_built_for_another_param_order_is_refused():
    _, _, params = problem()
    shuffled = {k: params[k] for k in ("b2", "W2", "b1", "W1")}
    with pytest.raises(ValueError, match="order b2, W2, b1, W1"):
        TrainState(params=params, optimizer=make_optimizer("sgd", shuffled), rng=np.random.default_rng(0))


def test_fit_with_no_epoch_left_builds_no_batches(monkeypatch):
    X, y, params = problem()
    state = TrainState(params=params, optimizer=make_optimizer("sgd", params), rng=np.random.default_rng(0), epoch=3)
    built = []
    monkeypatch.setattr(train, "Batches", lambda *a: built.append(a))
    ends = []
    fit(state, X, y, TrainConfig(epochs=3), callbacks=[type("End", (), {"on_train_end": lambda self, s: ends.append(s.epoch)})()])
    assert built == [] and ends == [3] and state.epoch == 3
