"""The fast twin (model/fast.py) computes what the reference (model/network.py) computes."""

import numpy as np
import pytest

from trainer.model.fast import FastStep, one_hot, with_ones
from trainer.model.flat import flat_copy
from trainer.model.network import PARAM_NAMES, init_params, loss_and_grads, predict

# float64: the two sum in other orders (biases inside the matmuls), so they agree to rounding;
# float32 rounds at 6e-8, and a few hundred terms per sum grow that to about 1e-5
RTOL = {np.float64: 1e-13, np.float32: 2e-5}


def problem(N, D, H, C, seed=0, dtype=np.float64, reg=0.1):
    """Random rows, labels and params with nonzero biases, so the folded biases are exercised."""
    rng = np.random.default_rng(seed)
    params = init_params(D, H, C, rng, init="he", dtype=dtype)
    params["b1"] = (0.1 * rng.standard_normal(H)).astype(dtype)
    params["b2"] = (0.1 * rng.standard_normal(C)).astype(dtype)
    X = rng.standard_normal((N, D)).astype(dtype)
    return X, rng.integers(0, C, N), params, reg


def fast(params, X, y, reg, sw=None):
    """(loss, grads) of a fresh FastStep on these inputs (sample weights sw (N,) or None)."""
    (N, D), (H, C), dtype = X.shape, params["W2"].shape, X.dtype
    w, _ = flat_copy({k: params[k] for k in PARAM_NAMES})
    step = FastStep(N, D, H, C, dtype, reg, weighted=sw is not None)
    column = None if sw is None else np.asarray(sw, dtype).reshape(N, 1)
    loss = step.loss(w, with_ones(X), one_hot(y, C, dtype), column)
    return loss, {k: v.copy() for k, v in step.grads.items()}


def rel(a, b):
    """max |a - b| / max |b|: the error relative to the array's scale."""
    scale = np.max(np.abs(b))
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / scale) if scale else float(np.max(np.abs(a)))


def assert_twins(X, y, params, reg, sw=None):
    """The fast step's loss and every gradient equal the reference's within RTOL of the dtype."""
    tol = RTOL[X.dtype.type]
    ref_loss, ref = loss_and_grads(params, X, y, reg, sample_weight=sw)
    got_loss, got = fast(params, X, y, reg, sw)
    assert abs(got_loss - ref_loss) <= tol * abs(ref_loss)
    for k in PARAM_NAMES:
        assert got[k].dtype == ref[k].dtype == X.dtype and got[k].shape == ref[k].shape
        assert rel(got[k], ref[k]) <= tol, k


def random_shapes(count, seed=11):
    rng = np.random.default_rng(seed)
    return [
        (*(int(rng.integers(1, hi)) for hi in (70, 20, 40)), int(rng.integers(2, 12))) for _ in range(count)
    ]


# (N, D, H, C): every size 1 that can be, C = 2, then random shapes
SHAPES = [(1, 1, 1, 2), (1, 5, 3, 2), (7, 1, 4, 3), (6, 3, 1, 2), (64, 10, 100, 10)] + random_shapes(30)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"N{n}-D{d}-H{h}-C{c}" for n, d, h, c in SHAPES])
def test_the_fast_step_equals_the_reference(shape, dtype):
    for seed, reg in enumerate((0.0, 0.3)):
        assert_twins(*problem(*shape, seed=seed, dtype=dtype, reg=reg))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hidden_units_exactly_at_zero_pass_no_gradient_in_either(dtype):
    X, y, params, reg = problem(6, 3, 5, 3, dtype=dtype)
    X[:, 0] = 0.0
    params["W1"][1:, :2] = 0.0  # units 0 and 1 see only column 0, which is 0 ...
    params["b1"][:2] = 0.0  # ... so their pre-activation is exactly 0 on every row
    params["b1"][2] = -50.0  # and unit 2 is dead (z < 0) everywhere
    _, ref = loss_and_grads(params, X, y, reg)
    _, got = fast(params, X, y, reg)
    for g in (ref, got):
        assert (g["b1"][:3] == 0).all()
        np.testing.assert_array_equal(g["W1"][:, :3], reg * params["W1"][:, :3])  # the L2 term alone
    assert_twins(X, y, params, reg)


def test_huge_logits_stay_finite_and_equal():
    X, y, params, reg = problem(5, 3, 4, 3)
    params["W2"] *= 1e4
    assert_twins(X, y, params, reg)


def test_a_reused_fast_step_gives_what_a_fresh_one_gives():
    X, y, params, reg = problem(18, 3, 7, 4)
    w, _ = flat_copy({k: params[k] for k in PARAM_NAMES})
    step = FastStep(6, 3, 7, 4, np.float64, reg)
    for part in (slice(0, 6), slice(6, 12), slice(0, 6)):  # other data in between must leave no trace
        loss = step.loss(w, with_ones(X[part]), one_hot(y[part], 4, np.float64))
        fresh_loss, fresh = fast(params, X[part], y[part], reg)
        assert loss == fresh_loss
        for k in PARAM_NAMES:
            np.testing.assert_array_equal(step.grads[k], fresh[k])


def test_the_fast_step_reads_its_arguments_only():
    X, y, params, reg = problem(8, 3, 7, 4)
    w, _ = flat_copy({k: params[k] for k in PARAM_NAMES})
    X_ones, Y = with_ones(X), one_hot(y, 4, np.float64)
    before = (w.copy(), X_ones.copy(), Y.copy())
    FastStep(8, 3, 7, 4, np.float64, reg).loss(w, X_ones, Y)
    for a, b in zip((w, X_ones, Y), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_its_gradient_views_lie_in_one_flat_buffer_in_param_order():
    X, y, params, reg = problem(4, 3, 5, 2)
    step = FastStep(4, 3, 5, 2, np.float64, reg)
    w, _ = flat_copy({k: params[k] for k in PARAM_NAMES})
    step.loss(w, with_ones(X), one_hot(y, 2, np.float64))
    np.testing.assert_array_equal(step.grad, np.concatenate([step.grads[k].ravel() for k in PARAM_NAMES]))
    assert all(step.grads[k].base is step.grad for k in PARAM_NAMES)


def weights(N, seed, dtype):
    """Seeded weights in [0, 3), about a third exactly 0, never all 0."""
    rng = np.random.default_rng([seed, 7])
    w = rng.uniform(0, 3, N) * (rng.random(N) > 1 / 3)
    w[0] += 1.0
    return w.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"N{n}-D{d}-H{h}-C{c}" for n, d, h, c in SHAPES])
def test_the_weighted_fast_step_equals_the_weighted_reference(shape, dtype):
    for seed, reg in enumerate((0.0, 0.3)):
        X, y, params, reg = problem(*shape, seed=seed, dtype=dtype, reg=reg)
        assert_twins(X, y, params, reg, weights(len(y), seed, dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"N{n}-D{d}-H{h}-C{c}" for n, d, h, c in SHAPES])
def test_all_ones_weights_give_the_unweighted_fast_step_bit_for_bit(shape, dtype):
    X, y, params, reg = problem(*shape, dtype=dtype, reg=0.3)
    loss, grads = fast(params, X, y, reg)
    ones_loss, ones = fast(params, X, y, reg, np.ones(len(y)))
    assert ones_loss == loss
    for k in PARAM_NAMES:
        assert ones[k].tobytes() == grads[k].tobytes(), k


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_step_predicts_each_row_as_the_reference_does_before_stepping(dtype):
    X, y, params, reg = problem(64, 5, 12, 4, seed=3, dtype=dtype)
    w, _ = flat_copy({k: params[k] for k in PARAM_NAMES})
    step = FastStep(64, 5, 12, 4, dtype, reg)
    pred = np.full(64, -1, np.intp)
    loss = step.loss(w, with_ones(X), one_hot(y, 4, dtype), pred=pred)
    np.testing.assert_array_equal(pred, predict(params, X))
    assert loss == step.loss(w, with_ones(X), one_hot(y, 4, dtype))  # pred changes nothing else


def test_predictions_take_the_first_of_tied_scores_as_argmax_does():
    X, y, params, _ = problem(6, 3, 4, 3, seed=1)
    params = {k: np.zeros_like(v) for k, v in params.items()}  # every score 0: every class ties
    w, _ = flat_copy(params)
    pred = np.full(6, -1, np.intp)
    FastStep(6, 3, 4, 3, np.float64, 0.0).loss(w, with_ones(X), one_hot(y, 3, np.float64), pred=pred)
    np.testing.assert_array_equal(pred, np.zeros(6))


def _exact_row_loss(scores, y):
    """-log p_y = log sum_c exp(s_c) - s_y in 60-digit decimals, from the float scores as given."""
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 60
        s = [Decimal(float(v)) for v in scores]
        return float(sum(v.exp() for v in s).ln() - s[y])


@pytest.mark.parametrize("offset", [0.0, 40.0, 1000.0])
def test_each_rows_loss_is_exact_within_a_few_ulps_of_one_on_both_engines(offset):
    """Rows of 3 classes whose loss runs from 1e-12 to 10, the scores shifted by `offset` (softmax
    does not see it): the reference's loss_and_grads and the twin's loss, one row at a time, agree
    with the exact value within 4 ulps of 1, however large the scores."""
    errors = []
    for target in np.geomspace(1e-12, 10, 27):
        a = -np.log(np.expm1(target) / 2)  # L = log(1 + 2 exp(-a)) for scores (a, 0, 0), y = 0
        scores = np.array([a, 0.0, 0.0]) + offset
        params = {"W1": np.ones((2, 4)), "b1": np.zeros(4), "W2": np.ones((4, 3)), "b2": scores}
        X, y = np.zeros((1, 2)), np.array([0])  # hidden = 0, so the scores are b2 exactly
        exact = _exact_row_loss(scores, 0)
        assert exact == pytest.approx(target, rel=1e-6)  # the row is the one meant
        reference, _ = loss_and_grads(params, X, y)
        twin, _ = fast(params, X, y, 0.0)
        errors.append(max(abs(reference - exact), abs(twin - exact)))
    assert max(errors) <= 4 * np.finfo(np.float64).eps, max(errors)
