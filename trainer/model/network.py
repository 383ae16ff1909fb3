"""The network as the derivation reads: affine -> ReLU -> affine -> softmax cross-entropy.

Shapes: X (N, D), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,), y (N,) integer labels 0..C-1, and
optional sample weights sw (N,) >= 0. Params are a dict {"W1", "b1", "W2", "b2"}; dX always means
dL/dX and has X's shape.

This is the reference. `forward`, `softmax_loss` and `backward` are written as the cs231n case study
writes them; each line of `backward` is a compact map dL/dX = f(dL/dY) with its element-wise
formula beside it, so the (N, H, N, H) "tensor monster" dhidden/dz never exists: the ReLU's
backward is one masked assignment, and a bias's gradient, b being broadcast over the batch, is a
sum over it. `loss_and_grads` (the public function), the gradient check and the Jacobian proofs
run this code; training runs its twin in fast.py, which the tests hold equal to it.
"""

from dataclasses import dataclass

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")


@dataclass
class ModelConfig:
    hidden_size: int = 100  # H; scikit-learn's MLPClassifier default, so comparisons are like for like
    init: str = "xavier"  # he | xavier | normal: xavier is MLPClassifier's; normal is cs231n's
    init_std: float = 0.01  # standard deviation of the `normal` init
    init_from: str | None = None  # a model.npz to start from (fine-tuning): its weights replace init's draws
    dtype: str = "float64"  # float64 | float32; the params, data and gradients all use it


def _he(fan_in, fan_out, rng, std):
    """N(0, 2 / fan_in): keeps the ReLU layer's output variance (He et al. 2015)."""
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)


def _xavier(fan_in, fan_out, rng, std):
    """Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out))


def _normal(fan_in, fan_out, rng, std):
    """N(0, std^2), the cs231n case study's `0.01 * np.random.randn(D, H)`."""
    return std * rng.standard_normal((fan_in, fan_out))


INITS = {"he": _he, "xavier": _xavier, "normal": _normal}


def init_params(
    n_features, hidden_size, n_classes, rng, init=ModelConfig.init, std=ModelConfig.init_std, dtype=np.float64
):
    """Weights drawn by `init` (he | xavier | normal, std for normal) from the Generator rng, biases zero."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {', '.join(INITS)}")
    if min(n_features, hidden_size, n_classes) < 1:
        raise ValueError(f"sizes must be >= 1, got D={n_features}, H={hidden_size}, C={n_classes}")
    draw = INITS[init]
    W1 = draw(n_features, hidden_size, rng, std)  # W1 first: the Generator's draws keep their order
    W2 = draw(hidden_size, n_classes, rng, std)
    params = {"W1": W1, "b1": np.zeros(hidden_size), "W2": W2, "b2": np.zeros(n_classes)}
    return {k: params[k].astype(dtype) for k in PARAM_NAMES}


def check_params(params):
    """Raise ValueError unless params hold W1 (D,H), b1 (H,), W2 (H,C), b2 (C,) of one float dtype."""
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params lack {', '.join(missing)}")
    W1, b1, W2, b2 = (np.asarray(params[k]) for k in PARAM_NAMES)
    D, H = W1.shape if W1.ndim == 2 else (None, None)
    C = W2.shape[1] if W2.ndim == 2 else None
    expected = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}
    got = {"W1": W1.shape, "b1": b1.shape, "W2": W2.shape, "b2": b2.shape}
    if D is None or C is None or got != expected:
        shapes = ", ".join(f"{k} {v}" for k, v in got.items())
        raise ValueError(
            f"params have inconsistent shapes: {shapes}; expected W1 (D,H), b1 (H,), W2 (H,C), b2 (C,)"
        )
    dtypes = [np.asarray(params[k]).dtype for k in PARAM_NAMES]
    if len(set(dtypes)) != 1 or dtypes[0] not in (np.float32, np.float64):
        raise ValueError(f"params must all be float32 or all float64, got {[str(d) for d in dtypes]}")


def check_inputs(params, X, y=None):
    """Raise ValueError naming the problem and the shapes if X (and y) do not fit params."""
    check_params(params)
    D, C = params["W1"].shape[0], params["W2"].shape[1]
    if X.ndim != 2 or X.shape[1] != D:
        raise ValueError(f"X has shape {X.shape}; expected (N, {D}) to match W1 {params['W1'].shape}")
    if X.shape[0] == 0:
        raise ValueError(f"X has no rows (shape {X.shape})")
    if not np.isfinite(X).all():
        raise ValueError(f"X of shape {X.shape} contains NaN or inf")
    if y is None:
        return
    if y.shape != (X.shape[0],):
        raise ValueError(f"y has shape {y.shape}; expected ({X.shape[0]},) to match X {X.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must hold integer labels, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= C:
        raise ValueError(
            f"labels in y must lie in 0..{C - 1} for W2 {params['W2'].shape}, got {y.min()}..{y.max()}"
        )


def _as_input(params, X):
    """X as an array of the params' dtype (no copy when it already is one)."""
    # .get: a missing W1 must reach check_params' ValueError, not raise KeyError here
    return np.asarray(X, dtype=getattr(params.get("W1"), "dtype", None))


def _shifted_exp(s):
    """(m, e, sum_c e_ic): the row max m (N, 1), e = exp(s - m) (N, C), its row sums (N, 1).

    softmax is shift-invariant, and with the max subtracted exp() never overflows.
    """
    top = s.max(axis=1, keepdims=True)
    e = np.exp(s - top)
    return top, e, e.sum(axis=1, keepdims=True)


def log_softmax(s):
    """Row-wise log softmax (N, C): log p_ic = s_ic - log sum_c' exp(s_ic'); finite where p underflows."""
    top, _, sumexp = _shifted_exp(s)
    # (s - m) - log sum exp(s - m): the shift first, so a confident row's small log p keeps its digits
    return (s - top) - np.log(sumexp)


def softmax(s):
    """Row-wise softmax (N, C): p_ic = exp(s_ic - m_i) / sum_c' exp(s_ic' - m_i)."""
    # the quotient, not exp(log_softmax(s)), whose rounding of m_i + log(...) leaves rows further from 1
    _, e, sumexp = _shifted_exp(s)
    return e / sumexp


def forward(params, X):
    """The scores (N, C), and the hidden layer (N, H) that backward reads."""
    hidden = np.maximum(0, X @ params["W1"] + params["b1"])  # h_ij = max(0, sum_k X_ik W1_kj + b1_j)
    scores = hidden @ params["W2"] + params["b2"]  # s_ic = sum_j h_ij W2_jc + b2_c
    return scores, hidden


def softmax_loss(scores, y, sw=None):
    """The mean cross-entropy of the scores against labels y, and dscores = dL/dscores (N, C).

    With sample weights sw (N,), the weighted mean over the rows given: L = sum_i w_i L_i / sum_i w_i.
    """
    N, rows = len(y), np.arange(len(y))
    probs = softmax(scores)  # p_ic = exp(s_ic) / sum_c' exp(s_ic')
    losses = -log_softmax(scores)[rows, y]  # L_i = -log p_{i,y_i}
    dscores = probs.copy()
    dscores[rows, y] -= 1  # dL_i/dscores_ic = p_ic - 1(c == y_i)
    if sw is None:
        loss = np.mean(losses)  # L = mean_i L_i
        dscores /= N  # dscores_ic = (p_ic - 1(c == y_i)) / N
    else:
        loss = np.sum(sw * losses) / np.sum(sw)  # L = sum_i w_i L_i / sum_i w_i
        dscores *= sw[:, None]  # dscores_ic = (p_ic - 1(c == y_i)) w_i / sum_i' w_i'
        dscores /= np.sum(sw)
    return loss, dscores


def backward(dscores, X, hidden, params, reg):
    """The gradients of the loss, each line the compact map dL/dX = f(dL/dY) of one layer."""
    dW2 = hidden.T @ dscores + reg * params["W2"]  # dW2_jc = sum_i h_ij dscores_ic + reg W2_jc
    db2 = dscores.sum(axis=0)  # db2_c = sum_i dscores_ic: b2 is broadcast over the batch
    dhidden = dscores @ params["W2"].T  # dhidden_ij = sum_c dscores_ic W2_jc
    dhidden[hidden <= 0] = 0  # dz_ij = dhidden_ij 1(z_ij > 0): the ReLU passes it where z > 0
    dW1 = X.T @ dhidden + reg * params["W1"]  # dW1_kj = sum_i X_ik dz_ij + reg W1_kj
    db1 = dhidden.sum(axis=0)  # db1_j = sum_i dz_ij: b1 is broadcast over the batch
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def loss_and_grads(params, X, y, reg=0.0, sample_weight=None):
    """Mean softmax cross-entropy plus 0.5 * reg * (|W1|^2 + |W2|^2), and its gradient dict.

    sample_weight (N,), optional: the mean becomes sum_i w_i L_i / sum_i w_i (weights >= 0, finite,
    not all 0); all ones give the unweighted loss and gradients bit for bit.
    params, X, y and sample_weight are only read; the gradients returned are new arrays, the caller's.
    """
    X = _as_input(params, X)
    y = np.asarray(y)
    check_inputs(params, X, y)
    sw = None if sample_weight is None else _as_input(params, sample_weight)
    if sw is not None:
        check_weights(sw, len(y))
    # float(): a NumPy float64 reg would upcast float32 gradients (NumPy 2 promotion rules)
    loss, grads, _ = loss_grads_scores(params, X, y, float(reg), sw)
    return loss, grads


def check_weights(sw, N):
    """Raise ValueError unless sw holds N finite weights >= 0, not all 0."""
    if sw.shape != (N,):
        raise ValueError(f"sample_weight has shape {sw.shape}; expected ({N},), one weight per row of X")
    if not np.isfinite(sw).all():
        raise ValueError("sample_weight contains NaN or inf")
    if (sw < 0).any():
        raise ValueError(f"sample_weight must be >= 0, got {sw.min()}")
    if not sw.any():
        raise ValueError("sample_weight is all zero; at least one row must weigh more than 0")


def loss_grads_scores(params, X, y, reg, sw=None):
    """loss_and_grads on inputs already checked (X and sw of the params' dtype, reg a Python float),
    and the scores (N, C) it met on the way, whose argmax training counts (the running train accuracy)."""
    scores, hidden = forward(params, X)
    data_loss, dscores = softmax_loss(scores, y, sw)
    reg_loss = 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    return float(data_loss + reg_loss), backward(dscores, X, hidden, params, reg), scores


def scores(params, X):
    """Forward pass to the logits: (N, C)."""
    return forward(params, X)[0]


def predict_proba(params, X):
    """Class probabilities (N, C)."""
    X = _as_input(params, X)
    check_inputs(params, X)
    return softmax(scores(params, X))


def predict(params, X):
    """Most probable class index (N,)."""
    X = _as_input(params, X)
    check_inputs(params, X)
    return scores(params, X).argmax(axis=1)
