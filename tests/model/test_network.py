"""The reference network (model/network.py): the derivation's own lines run; its gradients match
centred differences and a network worked by hand; it stays finite on huge logits, keeps float32,
names bad input, and initialises as each init promises."""

import inspect
import math
import sys

import numpy as np
import pytest

import trainer.model
from trainer.model import gradcheck, network
from trainer.model.gradcheck import GradcheckConfig, numeric_grads, random_network, rel_error
from trainer.model.network import (
    PARAM_NAMES,
    init_params,
    log_softmax,
    loss_and_grads,
    predict,
    predict_proba,
    softmax,
)
from trainer.training.loop import TrainConfig, TrainState, one_epoch
from trainer.training.optim import make_optimizer

# the derivation's own lines, as the design names them: each must run, not only be written
LITERAL_LINES = ("dhidden[hidden <= 0] = 0", "db2 = dscores.sum(axis=0)", "db1 = dhidden.sum(axis=0)")


def _line_numbers(code_lines):
    """The line numbers in network.py whose code (comment stripped) is one of code_lines."""
    lines = inspect.getsource(network).splitlines()
    found = {
        text: [i for i, line in enumerate(lines, 1) if line.split("#")[0].strip() == text]
        for text in code_lines
    }
    assert all(len(v) == 1 for v in found.values()), found
    return {text: v[0] for text, v in found.items()}


def _lines_run(fn):
    """The line numbers of network.py that the interpreter executes while fn() runs."""
    hits = set()

    def trace(frame, event, arg):
        if frame.f_code.co_filename != network.__file__:
            return None
        if event == "line":
            hits.add(frame.f_lineno)
        return trace

    previous = sys.gettrace()  # a coverage tool's tracer, say: it goes on measuring afterwards
    sys.settrace(trace)
    try:
        fn()
    finally:
        sys.settrace(previous)
    return hits


def _reference_epoch():
    params, X, y = random_network(GradcheckConfig(N=12, D=3, H=6, C=3, seed=3))
    state = TrainState(params=params, optimizer=make_optimizer("sgd", params), rng=np.random.default_rng(0))
    one_epoch(state, X, y, TrainConfig(batch_size=5, engine="reference"), 0.1)


RUNNERS = {
    "trainer.model.loss_and_grads": lambda: trainer.model.loss_and_grads(
        *random_network(GradcheckConfig()), 0.1
    ),
    "trainer gradcheck": lambda: gradcheck.report(GradcheckConfig(N=3, D=2, H=4, C=2)),
    "train.engine reference": _reference_epoch,
}


@pytest.mark.parametrize("runner", RUNNERS)
def test_the_derivations_literal_lines_execute(runner):
    lines = _line_numbers(LITERAL_LINES)
    hits = _lines_run(RUNNERS[runner])
    assert {text for text, n in lines.items() if n not in hits} == set()


def test_the_tracer_sees_a_line_that_does_not_run_as_not_run():
    lines = _line_numbers(['raise ValueError(f"X of shape {X.shape} contains NaN or inf")'])
    assert not set(lines.values()) & _lines_run(RUNNERS["trainer.model.loss_and_grads"])


def _random_shapes(count, seed=2024):
    """`count` seeded (N, D, H, C, reg) tuples."""
    rng = np.random.default_rng(seed)
    return [
        (
            int(rng.integers(1, 9)),
            int(rng.integers(1, 7)),
            int(rng.integers(1, 9)),
            int(rng.integers(2, 6)),
            float(rng.choice([0.0, 0.01, 0.3])),
        )
        for _ in range(count)
    ]


# (N, D, H, C, reg): the edge cases (N, D, H = 1; C = 2) first, then 20 random ones
SHAPES = [(1, 3, 4, 3, 0.0), (5, 2, 1, 3, 0.1), (6, 4, 5, 2, 0.0), (1, 1, 1, 2, 0.5)] + _random_shapes(20)


@pytest.mark.parametrize(
    "seed, shape", list(enumerate(SHAPES)), ids=[f"N{n}-D{d}-H{h}-C{c}-reg{r}" for n, d, h, c, r in SHAPES]
)
def test_gradients_match_centred_differences(seed, shape):
    N, D, H, C, reg = shape
    params, X, y = random_network(GradcheckConfig(N, D, H, C, reg, seed))
    _, grads = loss_and_grads(params, X, y, reg)
    numeric = numeric_grads(params, X, y, reg)
    for name in PARAM_NAMES:
        assert grads[name].shape == params[name].shape
        assert rel_error(grads[name], numeric[name]) < 1e-7, name


def _hand_network():
    """The 2-3-2 network of the worked example; y = [1, 0]."""
    params = {
        "W1": np.array([[1.0, -1.0, 0.0], [1.0, 1.0, -1.0]]),
        "b1": np.array([0.0, 0.0, 1.5]),
        "W2": np.array([[1.0, 0.0], [-1.0, 2.0], [2.0, 0.0]]),
        "b2": np.array([1.0, 0.0]),
    }
    return params, np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([1, 0])


def test_tiny_network_worked_by_hand():
    params, X, y = _hand_network()
    # z = X W1 + b1:  row 0 = [1+2, -1+2, 0-2] + [0, 0, 1.5] = [3, 1, -0.5]
    #                 row 1 = [0+1,  0+1, 0-1] + [0, 0, 1.5] = [1, 1,  0.5]
    # hidden = max(0, z) = [[3, 1, 0], [1, 1, 0.5]]
    # scores = hidden W2 + b2: row 0 = 3 [1, 0] + 1 [-1, 2] + 0 [2, 0] + [1, 0] = [3, 2]
    #                          row 1 = 1 [1, 0] + 1 [-1, 2] + 0.5 [2, 0] + [1, 0] = [2, 2]
    # probs: row 0 = [e, 1] / (e + 1) = [s, 1 - s] with s = e / (e + 1) = 2.718282 / 3.718282 = 0.731059
    #        row 1 = [0.5, 0.5]
    s = math.e / (math.e + 1)
    np.testing.assert_allclose(predict_proba(params, X), [[0.731059, 0.268941], [0.5, 0.5]], atol=1e-6)
    np.testing.assert_array_equal(predict(params, X), [0, 0])  # a tie picks the first class
    # data loss = mean(-log 0.268941, -log 0.5) = (1.313262 + 0.693147) / 2 = 1.003204
    # reg loss = 0.5 * 0.1 * (|W1|^2 + |W2|^2) = 0.05 * (5 + 10) = 0.75
    loss, g = loss_and_grads(params, X, y, reg=0.1)
    assert loss == pytest.approx(1.753204, abs=1e-6)
    # dscores = (probs - onehot) / N: row 0 = [s, 1 - s - 1] / 2 = [d, -d] with d = s / 2 = 0.365529
    #                                 row 1 = [0.5 - 1, 0.5] / 2 = [-0.25, 0.25]
    d = s / 2
    # db2 = dscores summed over rows = [d - 0.25, -d + 0.25] = [0.115529, -0.115529]
    np.testing.assert_allclose(g["b2"], [0.115529, -0.115529], atol=1e-6)
    # dW2 = hidden.T dscores + 0.1 W2, a row per hidden unit:
    #   unit 0: 3 [d, -d] + 1 [-0.25, 0.25] + [0.1, 0] = [0.946588, -0.846588]
    #   unit 1: 1 [d, -d] + 1 [-0.25, 0.25] + [-0.1, 0.2] = [0.015529, 0.084471]
    #   unit 2: 0 [d, -d] + 0.5 [-0.25, 0.25] + [0.2, 0] = [0.075, 0.125]
    np.testing.assert_allclose(
        g["W2"], [[0.946588, -0.846588], [0.015529, 0.084471], [0.075, 0.125]], atol=1e-6
    )
    # dhidden = dscores W2.T: row 0 = [d, -d - 2d, 2d] = [0.365529, -1.096588, 0.731059]
    #                         row 1 = [-0.25, 0.25 + 0.5, -0.5] = [-0.25, 0.75, -0.5]
    # the ReLU kills unit 2 of row 0 (z = -0.5): dz = [[0.365529, -1.096588, 0], [-0.25, 0.75, -0.5]]
    # db1 = dz summed over rows = [0.115529, -0.346588, -0.5]
    np.testing.assert_allclose(g["b1"], [d - 0.25, -3 * d + 0.75, -0.5], atol=1e-12)
    np.testing.assert_allclose(g["b1"], [0.115529, -0.346588, -0.5], atol=1e-6)
    # dW1 = X.T dz + 0.1 W1, a row per feature:
    #   row 0: 1 dz_0 + 0 dz_1 + [0.1, -0.1, 0] = [0.465529, -1.196588, 0]
    #   row 1: 2 dz_0 + 1 dz_1 + [0.1, 0.1, -0.1]
    #        = [0.731059 - 0.25 + 0.1, -2.193176 + 0.75 + 0.1, -0.5 - 0.1] = [0.581059, -1.343176, -0.6]
    np.testing.assert_allclose(g["W1"], [[0.465529, -1.196588, 0.0], [0.581059, -1.343176, -0.6]], atol=1e-6)


def test_preactivation_of_exactly_zero_gets_zero_gradient():
    X = np.array([[1.0, 2.0]])
    params = {
        "W1": np.array([[2.0, 1.0], [-1.0, 1.0]]),
        "b1": np.zeros(2),  # z = [2 - 2, 1 + 2] = [0, 3]
        "W2": np.array([[1.0, -1.0], [0.5, 2.0]]),
        "b2": np.zeros(2),
    }
    y = np.array([0])
    _, g = loss_and_grads(params, X, y)
    assert g["b1"][0] == 0.0 and np.all(g["W1"][:, 0] == 0.0)  # the `<=` in dhidden[hidden <= 0] = 0
    assert g["b1"][1] != 0.0
    # the unit is not dead for another reason: just above the kink it does get a gradient
    _, g_above = loss_and_grads({**params, "b1": np.array([1e-3, 0.0])}, X, y)
    assert abs(g_above["b1"][0]) > 0.1


def test_bias_gradients_are_the_sum_of_single_example_gradients():
    params, X, y = random_network(GradcheckConfig(N=7, D=3, H=6, C=4, reg=0.3, seed=11))
    _, g = loss_and_grads(params, X, y, reg=0.3)
    singles = [loss_and_grads(params, X[i : i + 1], y[i : i + 1], reg=0.3)[1] for i in range(7)]
    for name in ("b1", "b2"):  # the mean loss: N times the batch gradient is the sum over examples
        np.testing.assert_allclose(7 * g[name], sum(s[name] for s in singles), rtol=1e-12, atol=1e-15)
        assert np.abs(g[name]).max() > 1e-3


@pytest.mark.parametrize("C", [2, 3, 10])
def test_loss_at_small_init_is_about_log_of_the_class_count(C):
    rng = np.random.default_rng(C)
    params = init_params(20, 50, C, rng, init="normal", std=0.01)
    X = rng.standard_normal((64, 20))
    loss, _ = loss_and_grads(params, X, rng.integers(0, C, size=64))
    assert loss == pytest.approx(math.log(C), abs=1e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_logits_give_a_finite_loss_and_gradients(dtype):
    # hidden = max(0, [1, 0] I) = [1, 0]; scores = [1e4, -1e4]; the label is the losing class 1
    params = {
        "W1": np.eye(2, dtype=dtype),
        "b1": np.zeros(2, dtype=dtype),
        "W2": np.array([[1e4, -1e4], [0, 0]], dtype=dtype),
        "b2": np.zeros(2, dtype=dtype),
    }
    X, y = np.array([[1.0, 0.0]]), np.array([1])
    loss, g = loss_and_grads(params, X, y)
    assert loss == pytest.approx(2e4)  # log(e^1e4 + e^-1e4) - (-1e4) = 2e4 + log(1 + e^-2e4)
    # probs = [1, 0]: dscores = [1, -1]; dhidden = dscores W2.T = [2e4, 0]; dW1 = X.T dhidden
    np.testing.assert_allclose(g["b2"], [1, -1])
    np.testing.assert_allclose(g["W2"], [[1, -1], [0, 0]])
    np.testing.assert_allclose(g["b1"], [2e4, 0])
    np.testing.assert_allclose(g["W1"], [[2e4, 0], [0, 0]])
    loss_right, _ = loss_and_grads(params, X, np.array([0]))
    assert 0 <= loss_right < 1e-30
    P = predict_proba(params, X)
    assert np.isfinite(P).all() and P.sum() == pytest.approx(1)


def test_log_softmax_is_the_log_of_softmax_and_finite_where_softmax_underflows():
    s = np.random.default_rng(4).standard_normal((50, 6)) * 5
    # independent reference: the definition in math.fsum, row by row
    ref = np.array([[v - math.log(math.fsum(math.exp(u) for u in row)) for v in row] for row in s])
    np.testing.assert_allclose(log_softmax(s), ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(softmax(s), np.exp(ref), rtol=1e-13, atol=0)
    np.testing.assert_allclose(softmax(s).sum(axis=1), 1, rtol=0, atol=1e-15)
    huge = np.array([[1e4, -1e4, 0.0]])  # exp(-2e4) underflows: softmax says 0, its log is still exact
    assert softmax(huge)[0, 1] == 0 and log_softmax(huge).tolist() == [[0.0, -2e4, -1e4]]


def test_huge_random_logits_stay_finite():
    params, X, y = random_network(GradcheckConfig(N=9, D=4, H=8, C=5, reg=0.0, seed=5))
    params["W2"] *= 1e4 / np.abs(X @ params["W1"]).max()  # logits of magnitude about 1e4
    loss, g = loss_and_grads(params, X, y)
    assert np.isfinite(loss) and loss > 100
    assert all(np.isfinite(g[k]).all() for k in PARAM_NAMES)


def test_float32_stays_float32_and_agrees_with_float64():
    params64, X, y = random_network(GradcheckConfig(N=16, D=5, H=12, C=4, reg=0.1, seed=3))
    params32 = {k: v.astype(np.float32) for k, v in params64.items()}
    loss64, g64 = loss_and_grads(params64, X, y, reg=0.1)
    loss32, g32 = loss_and_grads(params32, X, y, reg=np.float64(0.1))  # a float64 X and reg must not upcast
    assert isinstance(loss32, float) and loss32 == pytest.approx(loss64, rel=1e-5)
    for name in PARAM_NAMES:
        assert params32[name].dtype == np.float32 and g32[name].dtype == np.float32, name
        assert rel_error(g32[name], g64[name]) < 1e-4, name
    assert predict_proba(params32, X).dtype == np.float32
    assert init_params(3, 4, 2, np.random.default_rng(0), dtype=np.float32)["W1"].dtype == np.float32


def test_public_functions_leave_their_arguments_alone():
    params, X, y = random_network(GradcheckConfig(N=4, D=3, H=5, C=3, reg=0.1, seed=8))
    before = ({k: v.copy() for k, v in params.items()}, X.copy(), y.copy())
    loss_and_grads(params, X, y, reg=0.1)
    predict_proba(params, X)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(params[name], before[0][name])
    np.testing.assert_array_equal(X, before[1])
    np.testing.assert_array_equal(y, before[2])


def _bad(change):
    """Params D=3, H=4, C=3 and X (5, 3), y (5,), with `change(params, X, y)` applied."""
    params, X, y = random_network(GradcheckConfig(N=5, D=3, H=4, C=3, seed=1))
    return change(params, X, y)


BAD_INPUTS = {  # what is wrong: (make it wrong, words the message must contain)
    "X too wide": (lambda p, X, y: (p, np.ones((5, 4)), y), ["X has shape (5, 4)", "(N, 3)", "W1 (3, 4)"]),
    "X one-dimensional": (lambda p, X, y: (p, np.ones(3), y), ["X has shape (3,)", "(N, 3)"]),
    "X empty": (lambda p, X, y: (p, np.ones((0, 3)), y[:0]), ["no rows", "(0, 3)"]),
    "NaN in X": (lambda p, X, y: (p, np.where(X > 1, np.nan, X), y), ["NaN or inf", "(5, 3)"]),
    "inf in X": (lambda p, X, y: (p, np.full((5, 3), np.inf), y), ["NaN or inf", "(5, 3)"]),
    "y too short": (lambda p, X, y: (p, X, y[:4]), ["y has shape (4,)", "(5,)", "(5, 3)"]),
    "label too big": (lambda p, X, y: (p, X, np.array([0, 1, 2, 3, 0])), ["0..2", "W2 (4, 3)", "0..3"]),
    "negative label": (lambda p, X, y: (p, X, np.array([0, -1, 2, 1, 0])), ["0..2", "-1..2"]),
    "float labels": (
        lambda p, X, y: (p, X, np.array([0.0, 1.5, 2.0, 1.0, 0.0])),
        ["integer labels", "float64"],
    ),
    "b1 wrong size": (
        lambda p, X, y: ({**p, "b1": np.zeros(5)}, X, y),
        ["inconsistent shapes", "b1 (5,)", "W1 (3, 4)"],
    ),
    "W2 wrong rows": (
        lambda p, X, y: ({**p, "W2": np.zeros((5, 3))}, X, y),
        ["inconsistent shapes", "W2 (5, 3)"],
    ),
    "b2 missing": (lambda p, X, y: ({k: v for k, v in p.items() if k != "b2"}, X, y), ["lack b2"]),
    "mixed dtypes": (lambda p, X, y: ({**p, "W1": p["W1"].astype(np.float32)}, X, y), ["float32", "float64"]),
}
X_ONLY = [k for k in BAD_INPUTS if "label" not in k and not k.startswith("y ")]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_to_loss_and_grads_names_the_problem(case):
    change, words = BAD_INPUTS[case]
    params, X, y = _bad(change)
    with pytest.raises(ValueError) as e:
        loss_and_grads(params, X, y)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


@pytest.mark.parametrize("case", X_ONLY)
@pytest.mark.parametrize("fn", [predict, predict_proba])
def test_bad_input_to_predict_names_the_problem(case, fn):
    change, words = BAD_INPUTS[case]
    params, X, _ = _bad(change)
    with pytest.raises(ValueError) as e:
        fn(params, X)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_predict_is_the_argmax_of_predict_proba():
    params, X, _ = random_network(GradcheckConfig(N=30, D=4, H=8, C=5, seed=2))
    P = predict_proba(params, X)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(predict(params, X), P.argmax(axis=1))


@pytest.mark.parametrize("init", ["he", "xavier", "normal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_params_shapes_dtype_zero_biases_and_determinism(init, dtype):
    p = init_params(3, 5, 4, np.random.default_rng(7), init=init, dtype=dtype)
    assert {k: v.shape for k, v in p.items()} == {"W1": (3, 5), "b1": (5,), "W2": (5, 4), "b2": (4,)}
    assert all(v.dtype == dtype for v in p.values())
    assert not p["b1"].any() and not p["b2"].any()
    np.random.seed(0)  # the global state plays no part
    again = init_params(3, 5, 4, np.random.default_rng(7), init=init, dtype=dtype)
    assert all(np.array_equal(p[k], again[k]) for k in PARAM_NAMES)
    other = init_params(3, 5, 4, np.random.default_rng(8), init=init, dtype=dtype)
    assert not np.array_equal(p["W1"], other["W1"])


def test_he_init_has_std_sqrt_2_over_fan_in():
    p = init_params(500, 400, 300, np.random.default_rng(0), init="he")
    assert p["W1"].std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    assert p["W2"].std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert abs(p["W1"].mean()) < 0.01 * p["W1"].std()


def test_xavier_init_is_uniform_within_its_bound():
    p = init_params(500, 400, 300, np.random.default_rng(0), init="xavier")
    for W, a in ((p["W1"], math.sqrt(6 / 900)), (p["W2"], math.sqrt(6 / 700))):
        assert np.abs(W).max() <= a and np.abs(W).max() > 0.999 * a
        assert W.std() == pytest.approx(a / math.sqrt(3), rel=0.02)  # the std of U(-a, a)


@pytest.mark.parametrize("std", [0.01, 0.5])
def test_normal_init_has_the_given_std(std):
    p = init_params(500, 400, 3, np.random.default_rng(0), init="normal", std=std)
    assert p["W1"].std() == pytest.approx(std, rel=0.02)


def test_init_params_rejects_unknown_inits_and_empty_sizes():
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        init_params(2, 3, 2, np.random.default_rng(0), init="glorot")
    with pytest.raises(ValueError, match="H=0"):
        init_params(2, 0, 2, np.random.default_rng(0))


# ------------------------------------------------------------ sample weights


def _weighted_network(N, D, H, C, reg, seed):
    """A random network and data, and seeded weights with about a third exactly 0 (never all)."""
    cfg = GradcheckConfig(N, D, H, C, reg, seed, weighted=True)
    return (*random_network(cfg), gradcheck.random_weights(cfg))


@pytest.mark.parametrize(
    "seed, shape", list(enumerate(SHAPES)), ids=[f"N{n}-D{d}-H{h}-C{c}-reg{r}" for n, d, h, c, r in SHAPES]
)
def test_weighted_gradients_match_centred_differences(seed, shape):
    params, X, y, w = _weighted_network(*shape, seed)
    reg = shape[-1]
    _, grads = loss_and_grads(params, X, y, reg, sample_weight=w)
    numeric = numeric_grads(params, X, y, reg, sample_weight=w)
    for name in PARAM_NAMES:
        assert rel_error(grads[name], numeric[name]) < 1e-7, name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed, shape", list(enumerate(SHAPES)))
def test_all_ones_weights_give_the_unweighted_result_bit_for_bit(seed, shape, dtype):
    params, X, y = random_network(GradcheckConfig(*shape, seed))
    params = {k: v.astype(dtype) for k, v in params.items()}
    loss, grads = loss_and_grads(params, X, y, shape[-1])
    ones_loss, ones = loss_and_grads(params, X, y, shape[-1], sample_weight=np.ones(len(y)))
    assert ones_loss == loss
    for name in PARAM_NAMES:
        assert ones[name].dtype == dtype and ones[name].tobytes() == grads[name].tobytes(), name


def test_the_weighted_loss_worked_by_hand():
    params, X, y = _hand_network()
    # the per-row losses of the worked example: L_0 = -log 0.268941 = 1.313262, L_1 = -log 0.5 = 0.693147
    # weights [3, 1]: L = (3 L_0 + 1 L_1) / 4 = (3.939785 + 0.693147) / 4 = 1.158233
    loss, g = loss_and_grads(params, X, y, reg=0.0, sample_weight=[3.0, 1.0])
    assert loss == pytest.approx(1.158233, abs=1e-6)
    # dscores_ic = (p_ic - 1(c == y_i)) w_i / 4: row 0 = [s, s - 1] 3/4, row 1 = [-0.5, 0.5] 1/4
    # db2 = their sum = [3s/4 - 1/8, -3s/4 + 1/8] = [0.423294, -0.423294]
    s = math.e / (math.e + 1)
    np.testing.assert_allclose(g["b2"], [0.75 * s - 0.125, -0.75 * s + 0.125], atol=1e-12)
    np.testing.assert_allclose(g["b2"], [0.423294, -0.423294], atol=1e-6)


def test_integer_weights_are_repeated_rows_and_zero_weights_are_absent_rows():
    params, X, y, _ = _weighted_network(9, 3, 6, 4, 0.1, seed=5)
    w = np.array([2, 0, 1, 3, 0, 1, 1, 4, 2])
    loss, grads = loss_and_grads(params, X, y, 0.1, sample_weight=w)
    rep_loss, rep = loss_and_grads(params, np.repeat(X, w, axis=0), np.repeat(y, w), 0.1)
    assert loss == pytest.approx(rep_loss, rel=1e-14)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(grads[name], rep[name], rtol=1e-13, atol=1e-16)


def test_the_weighted_mean_does_not_depend_on_the_weights_scale():
    # a minibatch normalises by its own weight sum: w and 7.5 w are one and the same loss
    params, X, y, w = _weighted_network(8, 3, 5, 3, 0.2, seed=6)
    loss, grads = loss_and_grads(params, X, y, 0.2, sample_weight=w)
    big_loss, big = loss_and_grads(params, X, y, 0.2, sample_weight=7.5 * w)
    assert big_loss == pytest.approx(loss, rel=1e-14)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(big[name], grads[name], rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize(
    "w, words",
    [
        ([1.0, 2.0], ["sample_weight has shape (2,)", "expected (5,)"]),
        ([1.0, -1.0, 0, 0, 1], ["sample_weight must be >= 0", "-1.0"]),
        ([1.0, np.nan, 0, 0, 1], ["sample_weight contains NaN or inf"]),
        ([0.0, 0, 0, 0, 0], ["sample_weight is all zero"]),
    ],
)
def test_bad_sample_weights_name_the_problem(w, words):
    params, X, y = _bad(lambda p, X, y: (p, X, y))
    with pytest.raises(ValueError) as e:
        loss_and_grads(params, X, y, sample_weight=np.array(w))
    assert all(word in str(e.value) for word in words), str(e.value)


def test_log_softmax_keeps_the_digits_of_a_confident_rows_small_loss():
    """-log p of a row the network is sure of (loss ~2e-5), against the same sum in 60-digit decimals:
    the max comes off before the log, so the small result is not what is left of a cancellation."""
    from decimal import Decimal, getcontext

    from trainer.model.network import log_softmax

    getcontext().prec = 60
    s = np.array([[11.5, 0.3, -0.2]])
    d = [Decimal(float(v)) for v in s[0]]
    exact = float(sum((v - d[0]).exp() for v in d).ln())  # -log p_0 = log sum_c exp(s_c - s_0)
    assert exact == pytest.approx(2.197e-5, rel=1e-3)
    assert abs(-log_softmax(s)[0, 0] - exact) / exact < 5e-12
    top = s.max(axis=1, keepdims=True)
    cancelled = -(s - (top + np.log(np.exp(s - top).sum(axis=1, keepdims=True))))[0, 0]
    assert abs(cancelled - exact) / exact > 2e-11  # m + log(sum) first: the test tells the two apart
