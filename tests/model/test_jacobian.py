"""The full Jacobians: right by finite differences, equal to the compact maps, chained, and guarded."""

import tracemalloc

import numpy as np
import pytest

from trainer.model import jacobian
from trainer.model.gradcheck import GradcheckConfig, random_network, random_weights, rel_error
from trainer.model.jacobian import JacobianTooLarge, chain
from trainer.model.network import PARAM_NAMES, loss_and_grads

rng = np.random.default_rng(42)
N, D, H, C = 4, 3, 5, 3
X = rng.standard_normal((N, D))
W = rng.standard_normal((D, H))
S = 3 * rng.standard_normal((N, C))
y = np.array([0, 2, 1, 2])


def fd_jacobian(f, x, eps=1e-6):
    """Centred-difference Jacobian of f at x, of shape f(x).shape + x.shape."""
    J = np.zeros(f(x).shape + x.shape)
    for k in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[k] = eps
        J[(...,) + k] = (f(x + e) - f(x - e)) / (2 * eps)
    return J


def softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# name: (the full Jacobian, the layer's forward as a function of the input, that input)
b = rng.standard_normal(H)
LAYERS = {
    "affine dX": (lambda: jacobian.affine_wrt_X(X, W), lambda x: x @ W + b, X),
    "affine dW": (lambda: jacobian.affine_wrt_W(X, W), lambda w: X @ w + b, W),
    "affine db": (lambda: jacobian.affine_wrt_b(X, W), lambda v: X @ W + v, b),
    "relu": (lambda: jacobian.relu_wrt_z(S), lambda s: np.maximum(s, 0), S),
    "softmax": (lambda: jacobian.softmax_wrt_scores(S), softmax_rows, S),
}
SHAPES = {
    "affine dX": (N, H, N, D),
    "affine dW": (N, H, D, H),
    "affine db": (N, H, H),
    "relu": (N, C, N, C),
    "softmax": (N, C, N, C),
}


@pytest.mark.parametrize("name", LAYERS)
def test_each_jacobian_has_its_shape_and_matches_finite_differences(name):
    build, forward, x = LAYERS[name]
    J = build()
    assert J.shape == SHAPES[name]
    assert rel_error(J, fd_jacobian(forward, x)) < 1e-8


def test_cross_entropy_wrt_probs_matches_finite_differences():
    P = softmax_rows(S / 3)  # no tiny probs: -log p bends sharply there and differences lose digits
    dP = jacobian.cross_entropy_wrt_probs(P, y)
    assert dP.shape == (N, C)
    assert rel_error(dP, fd_jacobian(lambda p: -np.mean(np.log(p[np.arange(N), y])), P)) < 1e-8


def test_relu_backward_is_the_masked_contraction():
    Z = rng.standard_normal((N, H))
    Z[0, 1] = Z[2, 3] = 0.0  # exactly at the kink: the `<=` convention passes no gradient
    dY = rng.standard_normal((N, H))
    compact = dY * (Z > 0)  # dL/dZ_ij = dL/dY_ij 1(Z_ij > 0)
    full = chain(dY, jacobian.relu_wrt_z(Z))
    assert rel_error(compact, full) < 1e-12
    assert full[0, 1] == 0.0 and full[2, 3] == 0.0


def test_affine_backward_is_the_contraction():
    dY = rng.standard_normal((N, H))
    assert rel_error(dY @ W.T, chain(dY, jacobian.affine_wrt_X(X, W))) < 1e-12  # dX_kl = sum_j dY_kj W_lj
    assert rel_error(X.T @ dY, chain(dY, jacobian.affine_wrt_W(X, W))) < 1e-12  # dW_kl = sum_i X_ik dY_il
    assert rel_error(dY.sum(axis=0), chain(dY, jacobian.affine_wrt_b(X, W))) < 1e-12  # db_l = sum_i dY_il


def test_softmax_backward_is_the_contraction():
    P, dP = softmax_rows(S), rng.standard_normal((N, C))
    compact = P * (dP - (dP * P).sum(axis=1, keepdims=True))  # dS_ic = P_ic (dP_ic - sum_d dP_id P_id)
    assert rel_error(compact, chain(dP, jacobian.softmax_wrt_scores(S))) < 1e-12


def test_softmax_cross_entropy_backward_is_probs_minus_onehot_over_n():
    compact = (softmax_rows(S) - np.eye(C)[y]) / N
    assert rel_error(compact, jacobian.cross_entropy_wrt_scores(S, y)) < 1e-12


NETWORKS = [(5, 3, 4, 3, 0.0), (1, 2, 1, 2, 0.5), (6, 4, 7, 5, 0.1), (3, 1, 2, 2, 0.0), (8, 5, 10, 3, 0.01)]


@pytest.mark.parametrize("seed, shape", list(enumerate(NETWORKS)))
def test_compact_gradients_equal_the_jacobian_chain(seed, shape):
    params, X_, y_ = random_network(GradcheckConfig(*shape, seed=seed))
    reg = shape[-1]
    loss, grads = loss_and_grads(params, X_, y_, reg)
    jac_loss, jac_grads = jacobian.network_grads(params, X_, y_, reg)
    assert jac_loss == pytest.approx(loss, rel=1e-12)
    for name in PARAM_NAMES:
        assert jac_grads[name].shape == params[name].shape
        assert rel_error(grads[name], jac_grads[name]) < 1e-12, name


def test_compact_gradients_equal_the_jacobian_chain_at_a_kink():
    params, X_, y_ = random_network(GradcheckConfig(N=4, D=3, H=5, C=3, seed=9))
    params["b1"][2] = -(X_[1] @ params["W1"][:, 2])  # unit 2 of row 1 sits at exactly 0
    assert (X_ @ params["W1"] + params["b1"])[1, 2] == 0.0
    _, grads = loss_and_grads(params, X_, y_, 0.1)
    _, jac_grads = jacobian.network_grads(params, X_, y_, 0.1)
    for name in PARAM_NAMES:
        assert rel_error(grads[name], jac_grads[name]) < 1e-12, name


def test_a_wrong_gradient_is_caught():
    params, X_, y_ = random_network(GradcheckConfig(N=4, D=3, H=5, C=3, seed=1))
    _, grads = loss_and_grads(params, X_, y_, 0.1)
    _, jac_grads = jacobian.network_grads(params, X_, y_, 0.0)  # the reg term left out
    assert rel_error(grads["W2"], jac_grads["W2"]) > 1e-3


BUILDERS = {
    "dY/dX (affine)": lambda limit: jacobian.affine_wrt_X(X, W, limit),
    "dY/dW (affine)": lambda limit: jacobian.affine_wrt_W(X, W, limit),
    "dY/db (affine)": lambda limit: jacobian.affine_wrt_b(X, W, limit),
    "dhidden/dz (ReLU)": lambda limit: jacobian.relu_wrt_z(S, limit),
    "dP/dS (softmax)": lambda limit: jacobian.softmax_wrt_scores(S, limit),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_the_guard_refuses_a_jacobian_over_the_limit(name):
    size = BUILDERS[name](jacobian.MAX_BYTES).nbytes
    assert BUILDERS[name](size).nbytes == size  # exactly at the limit is allowed
    with pytest.raises(JacobianTooLarge) as e:
        BUILDERS[name](size - 1)
    assert isinstance(e.value, ValueError)
    assert (
        name in str(e.value) and f"{size:,} bytes" in str(e.value) and f"{size - 1:,} bytes" in str(e.value)
    )


def test_the_default_limit_is_256_mib_and_checked_before_allocating():
    assert jacobian.MAX_BYTES == 256 * 2**20
    Z = np.zeros((100, 100))  # its ReLU Jacobian would take 10^8 * 8 bytes = 762.9 MiB
    tracemalloc.start()  # NumPy reports its allocations to tracemalloc
    try:
        with pytest.raises(
            JacobianTooLarge,
            match=r"dhidden/dz \(ReLU\) of shape \(100, 100, 100, 100\).*762\.9 MiB.*256\.0 MiB",
        ):
            jacobian.relu_wrt_z(Z)
        assert tracemalloc.get_traced_memory()[1] < 2**20
    finally:
        tracemalloc.stop()


def test_network_grads_passes_its_limit_on():
    params, X_, y_ = random_network(GradcheckConfig(N=4, D=3, H=5, C=3))
    with pytest.raises(JacobianTooLarge, match="over the limit of 1.0 KiB"):
        jacobian.network_grads(params, X_, y_, limit=1024)


def test_jacobians_keep_float32():
    X32, W32 = X.astype(np.float32), W.astype(np.float32)
    assert jacobian.affine_wrt_X(X32, W32).dtype == np.float32
    assert jacobian.affine_wrt_W(X32, W32).dtype == np.float32
    assert jacobian.relu_wrt_z(X32).dtype == np.float32
    assert jacobian.softmax_wrt_scores(S.astype(np.float32)).dtype == np.float32


def test_sizes_count_the_bytes_of_each_jacobian_and_its_compact_form():
    rows = {r["jacobian"]: r for r in jacobian.sizes(N=8, D=5, H=10, C=3)}
    assert set(rows) == {
        "dprobs/dscores",
        "dscores/dW2",
        "dscores/db2",
        "dscores/dhidden",
        "dhidden/dz",
        "dz/dW1",
        "dz/db1",
    }
    assert rows["dhidden/dz"]["jacobian_shape"] == (8, 10, 8, 10)
    assert rows["dhidden/dz"]["jacobian_bytes"] == 8 * 10 * 8 * 10 * 8
    assert rows["dhidden/dz"]["compact_bytes"] == 8 * 10 * 8
    assert rows["dz/dW1"]["compact"] == "X" and rows["dz/dW1"]["compact_bytes"] == 8 * 5 * 8
    assert rows["dz/db1"]["compact_bytes"] == 0
    assert all(r["jacobian_bytes"] > r["compact_bytes"] for r in rows.values())
    half = {r["jacobian"]: r for r in jacobian.sizes(N=8, D=5, H=10, C=3, itemsize=4)}
    assert half["dz/dW1"]["jacobian_bytes"] * 2 == rows["dz/dW1"]["jacobian_bytes"]


@pytest.mark.parametrize(
    "n, text", [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (256 * 2**20, "256.0 MiB")]
)
def test_format_bytes(n, text):
    assert jacobian.format_bytes(n) == text


def test_weighted_cross_entropy_wrt_probs_matches_finite_differences():
    P = softmax_rows(S / 3)
    w = np.array([2.0, 0.0, 0.5, 1.5])  # a zero weight: that row's entries are 0
    dP = jacobian.cross_entropy_wrt_probs(P, y, w)
    loss = lambda p: -np.sum(w * np.log(p[np.arange(N), y])) / w.sum()  # noqa: E731
    assert rel_error(dP, fd_jacobian(loss, P)) < 1e-8 and not dP[1].any()


@pytest.mark.parametrize("seed, shape", list(enumerate(NETWORKS)))
def test_weighted_compact_gradients_equal_the_jacobian_chain(seed, shape):
    cfg = GradcheckConfig(*shape, seed=seed, weighted=True)
    params, X_, y_ = random_network(cfg)
    w = random_weights(cfg)
    loss, grads = loss_and_grads(params, X_, y_, shape[-1], sample_weight=w)
    jac_loss, jac_grads = jacobian.network_grads(params, X_, y_, shape[-1], sample_weight=w)
    assert jac_loss == pytest.approx(loss, rel=1e-12)
    for name in PARAM_NAMES:
        assert rel_error(grads[name], jac_grads[name]) < 1e-12, name
