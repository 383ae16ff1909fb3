"""Optimizers and schedules: steps and learning rates match ones worked by hand, optimizers match the
textbook formulas, state round-trips exactly, float32 stays float32, and every optimizer converges."""

import math

import numpy as np
import pytest

from trainer.model.flat import flat_copy
from trainer.training.optim import OPTIMIZERS, SCHEDULES, lr_at, make_optimizer

# the hand-worked examples: two params, three elements, two steps with different gradients
G1 = {"w": [0.5, -1.0], "b": [2.0]}
G2 = {"w": [1.0, 0.0], "b": [-1.0]}


def tiny(dtype=np.float64):
    """Params w = [1, -2], b = [0.5]."""
    return {"w": np.array([1.0, -2.0], dtype), "b": np.array([0.5], dtype)}


def grads(g, dtype=np.float64):
    """A grads dict of arrays from lists."""
    return {k: np.array(v, dtype) for k, v in g.items()}


def run(name, steps, lr=0.1, **hyper):
    """Params and optimizer after taking `steps` (a list of grads) from tiny()."""
    params = tiny()
    opt = make_optimizer(name, params, **hyper)
    for g in steps:
        opt.step(params, grads(g), lr)
    return params, opt


def assert_params(params, w, b):
    """params["w"], params["b"] equal the hand-worked values to 1e-15."""
    np.testing.assert_allclose(params["w"], w, rtol=0, atol=1e-15)
    np.testing.assert_allclose(params["b"], b, rtol=0, atol=1e-15)


def model_params(rng, dtype=np.float64, D=2, H=3, C=2):
    """The network's four params, small and random."""
    shapes = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}
    return {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}


# --- one step (and two) of each optimizer, worked by hand: lr = 0.1, mu = 0.9 ---


def test_sgd_one_step_by_hand():
    params, opt = run("sgd", [G1])
    # w -= lr * dw:  1 - 0.1 * 0.5 = 0.95;  -2 - 0.1 * -1 = -1.9;  0.5 - 0.1 * 2 = 0.3
    assert_params(params, [0.95, -1.9], [0.3])
    assert opt.state_dict().keys() == {"t"}


def test_momentum_two_steps_by_hand():
    params, opt = run("momentum", [G1], momentum=0.9)
    # step 1: v = 0.9 * 0 - 0.1 * dw = [-0.05, 0.1], [-0.2];  w += v = [0.95, -1.9], [0.3]
    assert_params(params, [0.95, -1.9], [0.3])
    np.testing.assert_allclose(opt.state_dict()["v.w"], [-0.05, 0.1], rtol=0, atol=1e-15)
    opt.step(params, grads(G2), 0.1)
    # step 2: v = 0.9 * [-0.05, 0.1] - 0.1 * [1, 0] = [-0.145, 0.09];  vb = 0.9 * -0.2 - 0.1 * -1 = -0.08
    #         w = [0.95 - 0.145, -1.9 + 0.09] = [0.805, -1.81];  b = 0.3 - 0.08 = 0.22
    assert_params(params, [0.805, -1.81], [0.22])
    np.testing.assert_allclose(opt.state_dict()["v.b"], [-0.08], rtol=0, atol=1e-15)


def test_nesterov_two_steps_by_hand():
    params, opt = run("nesterov", [G1], momentum=0.9)
    # step 1: v_prev = 0; v = [-0.05, 0.1], [-0.2]
    #         w += -0.9 * 0 + 1.9 * v:  1 - 0.095 = 0.905;  -2 + 0.19 = -1.81;  0.5 - 0.38 = 0.12
    assert_params(params, [0.905, -1.81], [0.12])
    opt.step(params, grads(G2), 0.1)
    # step 2: v_prev = [-0.05, 0.1], [-0.2];  v = [-0.145, 0.09], [-0.08] (as momentum)
    #   w0: -0.9 * -0.05 + 1.9 * -0.145 = 0.045 - 0.2755 = -0.2305;  0.905 - 0.2305 = 0.6745
    #   w1: -0.9 * 0.1 + 1.9 * 0.09 = -0.09 + 0.171 = 0.081;         -1.81 + 0.081 = -1.729
    #   b:  -0.9 * -0.2 + 1.9 * -0.08 = 0.18 - 0.152 = 0.028;        0.12 + 0.028 = 0.148
    assert_params(params, [0.6745, -1.729], [0.148])
    np.testing.assert_allclose(opt.state_dict()["v.w"], [-0.145, 0.09], rtol=0, atol=1e-15)


def test_adam_two_steps_by_hand():
    params, opt = run("adam", [G1], beta1=0.9, beta2=0.999, eps=1e-8)
    # step 1, t = 1: m = 0.1 * dw;  v = 0.001 * dw^2;  mhat = m / 0.1 = dw;  vhat = v / 0.001 = dw^2
    #   w -= 0.1 * dw / (|dw| + 1e-8):  1 - 0.05 / 0.50000001 = 0.90000000199999996
    #                                  -2 + 0.1 / 1.00000001 = -1.90000000099999999
    #                                 0.5 - 0.2 / 2.00000001 =  0.40000000049999999
    assert_params(params, [0.90000000199999996, -1.90000000099999999], [0.40000000049999999])
    opt.step(params, grads(G2), 0.1)
    state = opt.state_dict()
    # step 2, t = 2: m = 0.9 * [0.05, -0.1, 0.2] + 0.1 * [1, 0, -1] = [0.145, -0.09, 0.08]
    #   v = 0.999 * [0.00025, 0.001, 0.004] + 0.001 * [1, 0, 1] = [0.00124975, 0.000999, 0.004996]
    np.testing.assert_allclose(state["m.w"], [0.145, -0.09], rtol=0, atol=1e-15)
    np.testing.assert_allclose(state["m.b"], [0.08], rtol=0, atol=1e-15)
    np.testing.assert_allclose(state["v.w"], [0.00124975, 0.000999], rtol=0, atol=1e-17)
    np.testing.assert_allclose(state["v.b"], [0.004996], rtol=0, atol=1e-17)
    #   c1 = 1 - 0.9^2 = 0.19;  c2 = 1 - 0.999^2 = 0.001999
    #   mhat = m / 0.19 = [0.76315789473684211, -0.47368421052631579, 0.42105263157894737]
    #   vhat = v / 0.001999 = [0.62518759379689845, 0.49974987493746873, 2.4992496248124062]
    #   sqrt(vhat) = [0.79068805087524780, 0.70692989393395208, 1.5809015228066567]
    #   update = 0.1 * mhat / (sqrt(vhat) + 1e-8)
    #          = [0.096518201361491240, -0.067005824465811782, 0.026633703797568640]
    #   w = [0.90000000199999996 - 0.09651820136149124, -1.90000000099999999 + 0.06700582446581178]
    #   b = 0.40000000049999999 - 0.02663370379756864
    assert_params(params, [0.80348180063850872, -1.8329941765341882], [0.37336629670243136])
    assert state["t"] == 2


def test_adam_t_advances_once_per_step_with_four_params():
    rng = np.random.default_rng(0)
    params = model_params(rng)
    g = {k: rng.standard_normal(p.shape) for k, p in params.items()}
    opt = make_optimizer("adam", params)
    before = {k: p.copy() for k, p in params.items()}
    opt.step(params, g, 0.01)
    t = opt.state_dict()["t"]
    assert t.shape == () and t.dtype == np.int64 and t == 1
    # with t = 1 the bias corrections make mhat = dw and vhat = dw^2, so every element moves by
    # 0.01 * dw / (|dw| + eps) (were t 4, mhat = 0.1 dw / (1 - 0.9^4) = 0.29 dw instead)
    for k in params:
        np.testing.assert_allclose(before[k] - params[k], 0.01 * g[k] / (abs(g[k]) + 1e-8), rtol=1e-12)
    # a constant gradient keeps mhat = dw and vhat = dw^2 at every t: the same step again
    opt.step(params, g, 0.01)
    assert opt.state_dict()["t"] == 2
    for k in params:
        np.testing.assert_allclose(before[k] - params[k], 0.02 * g[k] / (abs(g[k]) + 1e-8), rtol=1e-12)


def textbook(name, params, steps, lr, mu=0.9, b1=0.9, b2=0.999, eps=1e-8):
    """The formulas typed straight into numpy, one param at a time, new arrays every step."""
    params = {k: p.copy() for k, p in params.items()}
    m = {k: np.zeros_like(p) for k, p in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    for t, grads in enumerate(steps, start=1):
        for k, w in params.items():
            dw = grads[k]
            if name == "sgd":
                w -= lr * dw
            elif name == "momentum":
                v[k] = mu * v[k] - lr * dw
                w += v[k]
            elif name == "nesterov":
                v_prev = v[k]
                v[k] = mu * v[k] - lr * dw
                w += -mu * v_prev + (1 + mu) * v[k]
            else:
                m[k] = b1 * m[k] + (1 - b1) * dw
                v[k] = b2 * v[k] + (1 - b2) * dw**2
                mhat, vhat = m[k] / (1 - b1**t), v[k] / (1 - b2**t)
                w -= lr * mhat / (np.sqrt(vhat) + eps)
    return params


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_matches_the_textbook_formulas(name, dtype):
    rng = np.random.default_rng(7)
    start = model_params(rng, dtype)
    steps = [{k: rng.standard_normal(p.shape).astype(dtype) for k, p in start.items()} for _ in range(5)]
    params = {k: p.copy() for k, p in start.items()}
    opt = make_optimizer(name, params)
    for g in steps:
        opt.step(params, g, 0.01)
    want = textbook(name, start, steps, 0.01)
    if name in ("sgd", "momentum"):  # the same operations in the same order: bitwise equal
        assert all(params[k].tobytes() == want[k].tobytes() for k in params)
    else:  # nesterov and adam rearrange the algebra to save calls: equal up to rounding
        rtol = 1e-14 if dtype == np.float64 else 1e-6
        for k in params:
            np.testing.assert_allclose(params[k], want[k], rtol=rtol, atol=rtol * 1e-2)


# --- contracts shared by every optimizer ---


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_updates_params_in_place_and_leaves_grads_alone(name):
    rng = np.random.default_rng(1)
    params = model_params(rng)
    arrays = dict(params)
    g = {k: rng.standard_normal(p.shape) for k, p in params.items()}
    g_before = {k: d.copy() for k, d in g.items()}
    before = {k: p.copy() for k, p in params.items()}
    make_optimizer(name, params).step(params, g, 0.1)
    assert all(params[k] is arrays[k] for k in params)
    assert all(not np.array_equal(params[k], before[k]) for k in params)
    assert all(np.array_equal(g[k], g_before[k]) for k in g)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_round_trip_is_bitwise(name):
    rng = np.random.default_rng(2)
    steps = [
        {k: rng.standard_normal(s) for k, s in (("W1", (2, 3)), ("b1", (3,)), ("W2", (3, 2)), ("b2", (2,)))}
        for _ in range(6)
    ]
    a_params = model_params(rng)
    a = make_optimizer(name, a_params)
    for g in steps[:3]:
        a.step(a_params, g, 0.05)
    saved = a.state_dict()
    b_params = {k: p.copy() for k, p in a_params.items()}
    b = make_optimizer(name, b_params)
    b.load_state_dict(saved)
    saved["t"][...] = 99  # state_dict hands out copies: changing them changes neither optimizer
    for g in steps[3:]:  # continue both in lockstep
        a.step(a_params, g, 0.05)
        b.step(b_params, g, 0.05)
    assert all(a_params[k].tobytes() == b_params[k].tobytes() for k in a_params)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(sa[k].dtype == sb[k].dtype and sa[k].tobytes() == sb[k].tobytes() for k in sa)
    assert sa["t"] == 6


def test_state_dict_names():
    params = model_params(np.random.default_rng(3))
    names = {n: set(make_optimizer(n, params).state_dict()) for n in OPTIMIZERS}
    assert names["sgd"] == {"t"}
    assert names["momentum"] == names["nesterov"] == {"v.W1", "v.b1", "v.W2", "v.b2", "t"}
    assert names["adam"] == {"m.W1", "m.b1", "m.W2", "m.b2", "v.W1", "v.b1", "v.W2", "v.b2", "t"}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("m.b1"), "m.b1"),
        (lambda s: s.pop("t"), "'t'"),
        (lambda s: s.update({"v.W3": np.zeros(2)}), "v.W3"),
        (lambda s: s.update({"v.W2": np.zeros((2, 3))}), "'v.W2' has shape (2, 3)"),
        (
            lambda s: s.update({"m.W1": np.zeros((2, 3), np.float32)}),
            "'m.W1' has shape (2, 3) and dtype float32",
        ),
        (lambda s: s.update({"t": np.array([1])}), "'t' has shape (1,)"),
        (lambda s: s.update({"t": np.array(-1)}), "'t' must be >= 0"),
    ],
)
def test_load_state_dict_names_the_bad_key_and_changes_nothing(change, message):
    rng = np.random.default_rng(4)
    params = model_params(rng)
    opt = make_optimizer("adam", params)
    opt.step(params, {k: rng.standard_normal(p.shape) for k, p in params.items()}, 0.1)
    before = opt.state_dict()
    bad = opt.state_dict()
    for k in bad:
        bad[k] = bad[k] + 1
    change(bad)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert all(after[k].tobytes() == before[k].tobytes() for k in before)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_stays_float32(name):
    rng = np.random.default_rng(5)
    p64 = model_params(rng)
    p32 = {k: p.astype(np.float32) for k, p in p64.items()}
    o64, o32 = make_optimizer(name, p64), make_optimizer(name, p32)
    for _ in range(3):
        g = {k: rng.standard_normal(p.shape) for k, p in p64.items()}
        o64.step(p64, g, 0.01)
        o32.step(p32, {k: d.astype(np.float32) for k, d in g.items()}, 0.01)
    assert all(p.dtype == np.float32 for p in p32.values())
    state = o32.state_dict()
    assert all(a.dtype == np.float32 for k, a in state.items() if k != "t")
    for k in p64:
        np.testing.assert_allclose(p32[k], p64[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_quadratic_bowl_converges(name):
    # L = 0.5 * sum_i a_i (w_i - c_i)^2 over all params, dL/dw = a * (w - c): curvatures 0.5 to 2
    rng = np.random.default_rng(6)
    params = model_params(rng)
    a = {k: rng.uniform(0.5, 2.0, p.shape) for k, p in params.items()}
    c = {k: rng.standard_normal(p.shape) for k, p in params.items()}

    def loss():
        return sum(0.5 * np.sum(a[k] * (params[k] - c[k]) ** 2) for k in params)

    lr = {"sgd": 0.3, "momentum": 0.1, "nesterov": 0.1, "adam": 0.1}[name]
    opt = make_optimizer(name, params)
    start = loss()
    for i in range(200):
        opt.step(params, {k: a[k] * (params[k] - c[k]) for k in params}, lr * (0.98**i))
    assert loss() < 1e-3 * start


def test_unknown_optimizer_lists_the_choices():
    with pytest.raises(
        ValueError, match="unknown optimizer 'adma'; expected one of sgd, momentum, nesterov, adam"
    ):
        make_optimizer("adma", tiny())


@pytest.mark.parametrize(
    "name, hyper, message",
    [
        ("momentum", {"momentum": 1.0}, r"momentum must be a number in \[0, 1\), got 1.0"),
        ("nesterov", {"momentum": -0.1}, "momentum must be a number in"),
        ("adam", {"beta1": 1.0}, "beta1 must be a number in"),
        ("adam", {"beta2": 1.5}, "beta2 must be a number in"),
        ("adam", {"eps": 0.0}, "eps must be a number > 0, got 0.0"),
    ],
)
def test_bad_hyperparameters(name, hyper, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(name, tiny(), **hyper)


def test_params_of_mixed_dtypes_are_refused():
    params = {"w": np.zeros(2), "b": np.zeros(1, np.float32)}
    with pytest.raises(ValueError, match="one float dtype"):
        make_optimizer("sgd", params)


# --- schedules, worked by hand ---


def test_constant_schedule():
    assert [lr_at("constant", 0.1, e, 100) for e in (0, 50, 99)] == [0.1, 0.1, 0.1]


def test_step_schedule():
    # lr * decay ** (epoch // period): epochs 0-29 -> 0.1, 30-59 -> 0.01, 60-89 -> 0.001
    got = [lr_at("step", 0.1, e, 100, decay=0.1, period=30) for e in (0, 29, 30, 59, 60)]
    np.testing.assert_allclose(got, [0.1, 0.1, 0.01, 0.01, 0.001], rtol=1e-15)


def test_exponential_schedule():
    # lr * decay ** epoch: 0.1, 0.1 * 0.5 = 0.05, 0.1 * 0.5^3 = 0.0125
    got = [lr_at("exponential", 0.1, e, 100, decay=0.5) for e in (0, 1, 3)]
    np.testing.assert_allclose(got, [0.1, 0.05, 0.0125], rtol=1e-15)


def test_cosine_schedule():
    # lr_min + (lr - lr_min) * (1 + cos(pi * e / 100)) / 2 with lr = 0.1
    got = [lr_at("cosine", 0.1, e, 100) for e in (0, 25, 50, 75)]
    # e = 25: 0.1 * (1 + 0.70710678118654752) / 2 = 0.085355339059327376;  e = 75: 0.1 * (1 - 0.7071...) / 2
    np.testing.assert_allclose(got, [0.1, 0.085355339059327376, 0.05, 0.014644660940672624], rtol=1e-14)
    # with lr_min = 0.01, half way: 0.01 + 0.09 * 0.5 = 0.055
    assert lr_at("cosine", 0.1, 50, 100, lr_min=0.01) == pytest.approx(0.055, rel=1e-15)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_return_floats_and_start_at_lr(schedule):
    lr = lr_at(schedule, 0.1, 0, 10, decay=0.5, period=3)
    assert type(lr) is float and lr == 0.1


def test_unknown_schedule_lists_the_choices():
    with pytest.raises(
        ValueError, match="unknown schedule 'cosin'; expected one of constant, step, exponential, cosine"
    ):
        lr_at("cosin", 0.1, 0, 10)


def test_bad_schedule_arguments():
    with pytest.raises(ValueError, match="period must be an integer >= 1, got 0"):
        lr_at("step", 0.1, 5, 10, period=0)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1, got 0"):
        lr_at("cosine", 0.1, 0, 0)
    assert math.isfinite(lr_at("cosine", 0.1, 9, 10))


# --- flat params and gradients, as training passes them ---


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_flat_and_dict_steps_are_bitwise_equal(name):
    as_dict = model_params(np.random.default_rng(0))
    w, flat_params = flat_copy(as_dict)
    a, b = make_optimizer(name, as_dict), make_optimizer(name, as_dict)
    rng = np.random.default_rng(3)
    for lr in (0.1, 0.05, 0.02):
        g, grads_ = flat_copy({k: rng.standard_normal(v.shape) for k, v in as_dict.items()})
        g_before = g.copy()
        a.step(as_dict, grads_, lr)
        b.step(w, g, lr)
        np.testing.assert_array_equal(g, g_before)  # grads are only read
    for k in as_dict:
        np.testing.assert_array_equal(as_dict[k], flat_params[k])
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_a_flat_array_of_the_wrong_size_is_refused():
    w, params = flat_copy(model_params(np.random.default_rng(0)))
    opt = make_optimizer("sgd", params)
    with pytest.raises(ValueError, match="flat dw must have shape"):
        opt.step(w, w[:-1], 0.1)


def test_a_pickled_optimizer_keeps_its_views_in_its_flat_buffers():
    import pickle

    params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    opt = make_optimizer("adam", params)
    opt.step(params, {"W": np.full((2, 3), 0.5), "b": np.ones(3)}, 0.1)
    back = pickle.loads(pickle.dumps(opt))
    for name, views in back.views.items():
        assert all(np.shares_memory(v, back.flat[name]) for v in views.values()), name
    saved = opt.state_dict()
    assert all(np.array_equal(back.state_dict()[k], saved[k]) for k in saved)
