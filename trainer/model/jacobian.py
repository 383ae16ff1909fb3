"""The tensor monsters: each layer's full Jacobian as an ndarray, and backprop by contracting them.

The compact backward in network.py never builds these; here they exist to prove it right. Each
Jacobian is built straight from its element-wise formula (the einsum subscripts are the formula),
and `network_grads` chains them with np.tensordot alone, so it shares no code with the compact maps.
Shapes follow one affine layer Y = X W + b with X (N, D), W (D, H), Y (N, H); the network is
z = X W1 + b1, hidden = max(0, z), scores = hidden W2 + b2, probs = softmax(scores).
"""

import math

import numpy as np

MAX_BYTES = 256 * 2**20  # 256 MiB: the ReLU Jacobian alone reaches it at N * H = 5793 in float64


class JacobianTooLarge(ValueError):
    """A full Jacobian that would need more memory than the limit allows."""


def format_bytes(n):
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _guard(name, shape, dtype, limit):
    """Raise JacobianTooLarge, before allocating, if an array of `shape` needs more than `limit` bytes."""
    size = math.prod(shape) * np.dtype(dtype).itemsize
    if size > limit:
        raise JacobianTooLarge(
            f"refusing to build the Jacobian {name} of shape {tuple(shape)}: it needs {format_bytes(size)} "
            f"({size:,} bytes), over the limit of {format_bytes(limit)} ({limit:,} bytes)"
        )


def chain(dY, J):
    """dL/dX = dL/dY contracted with dY/dX: dL/dX_kl = sum_ij dL/dY_ij dY_ij/dX_kl."""
    return np.tensordot(dY, J, axes=2)


def affine_wrt_X(X, W, limit=MAX_BYTES):
    """dY/dX of Y = X W + b, (N, H, N, D): dY_ij/dX_kl = 1(i == k) W_lj."""
    (N, D), H = X.shape, W.shape[1]
    _guard("dY/dX (affine)", (N, H, N, D), W.dtype, limit)
    return np.einsum("ik,lj->ijkl", np.eye(N, dtype=W.dtype), W)


def affine_wrt_W(X, W, limit=MAX_BYTES):
    """dY/dW of Y = X W + b, (N, H, D, H): dY_ij/dW_kl = X_ik 1(j == l)."""
    (N, D), H = X.shape, W.shape[1]
    _guard("dY/dW (affine)", (N, H, D, H), X.dtype, limit)
    return np.einsum("ik,jl->ijkl", X, np.eye(H, dtype=X.dtype))


def affine_wrt_b(X, W, limit=MAX_BYTES):
    """dY/db of Y = X W + b, (N, H, H): dY_ij/db_l = 1(j == l) for every row i (b is broadcast)."""
    N, H = X.shape[0], W.shape[1]
    _guard("dY/db (affine)", (N, H, H), W.dtype, limit)
    return np.einsum("i,jl->ijl", np.ones(N, dtype=W.dtype), np.eye(H, dtype=W.dtype))


def relu_wrt_z(z, limit=MAX_BYTES):
    """dhidden/dz of hidden = max(0, z), (N, H, N, H): dhidden_ij/dz_kl = 1(i == k) 1(j == l) 1(z_ij > 0)."""
    N, H = z.shape
    _guard("dhidden/dz (ReLU)", (N, H, N, H), z.dtype, limit)
    return np.einsum(
        "ik,jl,ij->ijkl", np.eye(N, dtype=z.dtype), np.eye(H, dtype=z.dtype), (z > 0).astype(z.dtype)
    )


def _probs(scores):
    """Row-wise softmax, shifted by the row max."""
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_wrt_scores(scores, limit=MAX_BYTES):
    """dP/dS of P = softmax(S) by rows, (N, C, N, C): dP_ic/dS_kd = 1(i == k) P_ic (1(c == d) - P_id)."""
    N, C = scores.shape
    _guard("dP/dS (softmax)", (N, C, N, C), scores.dtype, limit)
    P = _probs(scores)
    I_N, I_C = np.eye(N, dtype=P.dtype), np.eye(C, dtype=P.dtype)
    return np.einsum("ik,ic,cd->ickd", I_N, P, I_C) - np.einsum("ik,ic,id->ickd", I_N, P, P)


def _shares(N, sw):
    """a_i = w_i / sum_i' w_i', each row's share of the mean: 1 / N without weights."""
    return np.full(N, 1 / N) if sw is None else sw / np.sum(sw)


def cross_entropy_wrt_probs(probs, y, sw=None):
    """dL/dP of L = -sum_i a_i log P_{i,y_i}, (N, C): dL/dP_ic = -a_i 1(c == y_i) / P_ic,
    with a_i = w_i / sum sw (1 / N without weights sw)."""
    N = probs.shape[0]
    rows = np.arange(N)
    dprobs = np.zeros_like(probs)
    dprobs[rows, y] = -_shares(N, sw) / probs[rows, y]
    return dprobs


def cross_entropy_wrt_scores(scores, y, limit=MAX_BYTES, sw=None):
    """dL/dS, (N, C): dL/dS_kd = sum_ic dL/dP_ic dP_ic/dS_kd, contracted with np.tensordot."""
    return chain(cross_entropy_wrt_probs(_probs(scores), y, sw), softmax_wrt_scores(scores, limit))


def network_grads(params, X, y, reg=0.0, limit=MAX_BYTES, sample_weight=None):
    """Loss and parameter gradients of the network by chaining full Jacobians with np.tensordot only.

    sample_weight (N,), optional: the loss is the weighted mean sum_i w_i L_i / sum_i w_i."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    z = X @ W1 + b1  # (N, H)
    hidden = np.maximum(z, 0)  # (N, H)
    scores = hidden @ W2 + b2  # (N, C)
    probs = _probs(scores)
    shares = _shares(len(y), sample_weight)
    loss = -np.sum(shares * np.log(probs[np.arange(len(y)), y])) + 0.5 * reg * (np.sum(W1**2) + np.sum(W2**2))

    dscores = cross_entropy_wrt_scores(scores, y, limit, sample_weight)  # (N, C)
    dhidden = chain(dscores, affine_wrt_X(hidden, W2, limit))  # (N, H)
    dz = chain(dhidden, relu_wrt_z(z, limit))  # (N, H)
    grads = {
        "W1": chain(dz, affine_wrt_W(X, W1, limit)) + reg * W1,  # the regulariser 0.5 reg |W1|^2 adds reg W1
        "b1": chain(dz, affine_wrt_b(X, W1, limit)),
        "W2": chain(dscores, affine_wrt_W(hidden, W2, limit)) + reg * W2,
        "b2": chain(dscores, affine_wrt_b(hidden, W2, limit)),
    }
    return float(loss), grads


def sizes(N, D, H, C, itemsize=8):
    """Each full Jacobian of the network with its bytes, next to the array its compact map reads instead."""
    table = [  # Jacobian, its shape, what the compact map dL/dX = f(dL/dY) reads instead, that array's shape
        ("dprobs/dscores", (N, C, N, C), "probs", (N, C)),
        ("dscores/dW2", (N, C, H, C), "hidden", (N, H)),
        ("dscores/db2", (N, C, C), "nothing: a row sum", None),
        ("dscores/dhidden", (N, C, N, H), "W2", (H, C)),
        ("dhidden/dz", (N, H, N, H), "hidden", (N, H)),  # the mask hidden > 0
        ("dz/dW1", (N, H, D, H), "X", (N, D)),
        ("dz/db1", (N, H, H), "nothing: a row sum", None),
    ]
    return [
        {
            "jacobian": name,
            "jacobian_shape": shape,
            "jacobian_bytes": math.prod(shape) * itemsize,
            "compact": compact,
            "compact_shape": cshape,
            "compact_bytes": 0 if cshape is None else math.prod(cshape) * itemsize,
        }
        for name, shape, compact, cshape in table
    ]
