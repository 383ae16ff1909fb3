"""The network: affine -> ReLU -> affine -> softmax cross-entropy, with its compact backprop.

Shapes: X (N, D), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,), y (N,) integer labels 0..C-1.
Params are a dict {"W1", "b1", "W2", "b2"}; dX always means dL/dX and has X's shape.
"""
from dataclasses import dataclass

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")


@dataclass
class ModelConfig:
    hidden_size: int = 100  # H; scikit-learn's MLPClassifier default, so comparisons are like for like
    init: str = "xavier"  # he | xavier | normal: xavier (MLPClassifier's) tested better than he on the built-ins; normal is cs231n's
    init_std: float = 0.01  # standard deviation of the `normal` init
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


def init_params(n_features, hidden_size, n_classes, rng, init="he", std=0.01, dtype=np.float64):
    """Weights drawn by `init` from the Generator `rng`, biases zero."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {', '.join(INITS)}")
    if min(n_features, hidden_size, n_classes) < 1:
        raise ValueError(f"sizes must be >= 1, got D={n_features}, H={hidden_size}, C={n_classes}")
    draw = INITS[init]
    return {
        "W1": draw(n_features, hidden_size, rng, std).astype(dtype),
        "b1": np.zeros(hidden_size, dtype=dtype),
        "W2": draw(hidden_size, n_classes, rng, std).astype(dtype),
        "b2": np.zeros(n_classes, dtype=dtype),
    }


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
        raise ValueError(f"params have inconsistent shapes: {shapes}; expected W1 (D,H), b1 (H,), W2 (H,C), b2 (C,)")
    dtypes = {np.asarray(params[k]).dtype for k in PARAM_NAMES}
    if len(dtypes) != 1 or dtypes.pop() not in (np.float32, np.float64):
        raise ValueError(f"params must all be float32 or all float64, got {[str(np.asarray(params[k]).dtype) for k in PARAM_NAMES]}")


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
        raise ValueError(f"labels in y must lie in 0..{C - 1} for W2 {params['W2'].shape}, got {y.min()}..{y.max()}")


def _as_input(params, X):
    """X as an array of the params' dtype (no copy when it already is one)."""
    # .get: a missing W1 must reach check_params' ValueError, not raise KeyError here
    return np.asarray(X, dtype=getattr(params.get("W1"), "dtype", None))


def scores(params, X):
    """Forward pass to the logits: (N, C)."""
    hidden = np.maximum(X @ params["W1"] + params["b1"], 0)  # (N, H)
    return hidden @ params["W2"] + params["b2"]  # (N, C)


def softmax(s):
    """Row-wise softmax, shifted by the row max so exp() never overflows."""
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


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


def loss_and_grads(params, X, y, reg=0.0):
    """Mean softmax cross-entropy plus 0.5 * reg * (|W1|^2 + |W2|^2), and its gradient dict."""
    X = _as_input(params, X)
    y = np.asarray(y)
    check_inputs(params, X, y)
    # float(): a NumPy float64 reg would upcast float32 gradients (NumPy 2 promotion rules)
    return _loss_and_grads(params, X, y, float(reg))


def _loss_and_grads(params, X, y, reg):
    """The derivation, step by step; inputs already checked."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    rows = np.arange(N)

    # forward
    hidden = X @ W1 + b1  # (N, H)   h_ij = sum_k X_ik W1_kj + b1_j
    np.maximum(hidden, 0, out=hidden)  # ReLU: h_ij = max(0, h_ij)
    scores = hidden @ W2 + b2  # (N, C)   s_ic = sum_j h_ij W2_jc + b2_c
    scores -= scores.max(axis=1, keepdims=True)  # softmax is shift-invariant; exp() stays finite
    probs = np.exp(scores)
    sumexp = probs.sum(axis=1)  # (N,)
    probs /= sumexp[:, None]  # p_ic = exp(s_ic) / sum_c' exp(s_ic')
    # L_i = -log p_{i,y_i} = log sum_c exp(s_ic) - s_{i,y_i}: no log(0) even when p underflows
    data_loss = np.mean(np.log(sumexp) - scores[rows, y])
    reg_loss = 0.5 * reg * (np.vdot(W1, W1) + np.vdot(W2, W2))

    # backward: each line is the compact map dL/dX = f(dL/dY) of one layer
    dscores = probs  # reuse the buffer: dscores_ic = (p_ic - 1(c == y_i)) / N
    dscores[rows, y] -= 1
    dscores /= N
    dW2 = hidden.T @ dscores + reg * W2  # dW2_jc = sum_i h_ij dscores_ic + reg W2_jc
    db2 = dscores.sum(axis=0)  # db2_c = sum_i dscores_ic: b2 is broadcast over the batch
    dhidden = dscores @ W2.T  # dhidden_ij = sum_c dscores_ic W2_jc
    dhidden *= hidden > 0  # dhidden[hidden <= 0] = 0: a unit at exactly 0 passes no gradient
    dW1 = X.T @ dhidden + reg * W1  # dW1_kj = sum_i X_ik dhidden_ij + reg W1_kj
    db1 = dhidden.sum(axis=0)  # db1_j = sum_i dhidden_ij: b1 is broadcast over the batch

    loss = float(data_loss + reg_loss)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
