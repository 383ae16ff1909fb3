"""The network: affine -> ReLU -> affine -> softmax cross-entropy, with its compact backprop.

Shapes: X (N, D), W1 (D, H), b1 (H,), W2 (H, C), b2 (C,), y (N,) integer labels 0..C-1.
Params are a dict {"W1", "b1", "W2", "b2"}; dX always means dL/dX and has X's shape.
"""
from dataclasses import dataclass

import numpy as np

from trainer.model.flat import flat_buffer, flat_copy

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
    """Weights drawn by `init` from the Generator `rng`, biases zero.

    init: "he" | "xavier" | "normal" (std: the normal init's standard deviation). The default
    here is "he", this function's default since it was written (the gradient check and the tests
    call it without one); a config's model.init defaults to "xavier" instead (ModelConfig), which
    trained better on the built-in datasets. Training from a config always passes model.init.

    The four arrays are views of one flat buffer [W1, b1, W2, b2], the layout a training step
    reads and the optimizer updates in one call (see Workspace).
    """
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {', '.join(INITS)}")
    if min(n_features, hidden_size, n_classes) < 1:
        raise ValueError(f"sizes must be >= 1, got D={n_features}, H={hidden_size}, C={n_classes}")
    draw = INITS[init]
    W1 = draw(n_features, hidden_size, rng, std)  # W1 first: the Generator's draws keep their order
    W2 = draw(hidden_size, n_classes, rng, std)
    b1, b2 = np.zeros(hidden_size), np.zeros(n_classes)
    return flat_copy({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, dtype)[1]


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


def _shifted_exp(s):
    """(m, e, sum_c e_ic): the row max m (N, 1), e = exp(s - m) (N, C), its row sums (N, 1).

    softmax is shift-invariant, and with the max subtracted exp() never overflows.
    """
    top = s.max(axis=1, keepdims=True)
    e = np.exp(s - top)
    return top, e, e.sum(axis=1, keepdims=True)


def log_softmax(s):
    """Row-wise log softmax (N, C): log p_ic = s_ic - log sum_c' exp(s_ic'); finite even where p underflows to 0."""
    top, _, sumexp = _shifted_exp(s)
    return s - (top + np.log(sumexp))  # log sum_c' exp(s_ic') = m_i + log sum_c' exp(s_ic' - m_i)


def softmax(s):
    """Row-wise softmax (N, C): p_ic = exp(s_ic - m_i) / sum_c' exp(s_ic' - m_i)."""
    # not exp(log_softmax(s)), which rounds m_i + log(...) first: on logits ~ N(0, 100^2) its rows
    # miss 1 by up to 2.8e-14, the quotient's by 4.4e-16
    _, e, sumexp = _shifted_exp(s)
    return e / sumexp


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
    """Mean softmax cross-entropy plus 0.5 * reg * (|W1|^2 + |W2|^2), and its gradient dict.

    Runs the step training runs (Workspace.loss_and_grads) on copies: params, X and y are only
    read, and the gradients returned belong to the caller (views of one new flat buffer).
    """
    X = _as_input(params, X)
    y = np.asarray(y)
    check_inputs(params, X, y)
    # float(): a NumPy float64 reg would upcast float32 gradients (NumPy 2 promotion rules)
    return _loss_and_grads(params, X, y, float(reg))


def _loss_and_grads(params, X, y, reg):
    """loss_and_grads on inputs already checked: a Workspace of this batch's shape, used once."""
    (N, D), (H, C) = X.shape, params["W2"].shape
    ws = Workspace(N, D, H, C, X.dtype, reg)
    w, _ = flat_copy({k: params[k] for k in PARAM_NAMES})
    loss = ws.loss_and_grads(w, with_ones(X), one_hot(y, C, X.dtype))
    return loss, dict(ws.grads)


def with_ones(X):
    """[X 1]: X (N, D) with a column of ones appended, (N, D+1)."""
    return np.concatenate([X, np.ones((len(X), 1), X.dtype)], axis=1)


def one_hot(y, C, dtype):
    """Y (N, C) with Y_ic = 1 when y_i == c, else 0: row c of the identity for each label."""
    return np.eye(C, dtype=dtype)[y]


class Workspace:
    """The buffers of one training step at batch size N: owned here, overwritten by every call.

    `loss_and_grads(w, Xa, Y)` only reads its arguments; it leaves dL/dw in `grad` (flat, laid
    out like w) with one view per param in `grads`, valid until the next call.

    The biases ride inside the weights. In the flat params w = [W1, b1, W2, b2] (the layout
    init_params makes), W1a = [W1; b1] (D+1, H) and W2a = [W2; b2] (H+1, C) are matrices, and with
    a column of ones on the inputs, [X 1] @ [W1; b1] = X @ W1 + b1. One matmul does an affine
    layer, its transpose gives [dW1; db1] (the ones row sums the batch): no bias add, no sum.
    """

    def __init__(self, N, D, H, C, dtype, reg):
        self.shape, self.split = (N, D, H, C), (D + 1) * H  # w[:split] is W1a, w[split:] is W2a
        self.N = np.array(N, dtype)  # 0-d: a ufunc takes it faster than a Python number
        self.hidden = np.ones((N, H + 1), dtype)  # [hidden 1]: column H stays 1 (max(1, 0) = 1)
        self.zeros = np.zeros((N, H + 1), dtype)  # np.maximum(z, zeros) runs ~3x faster than (z, 0)
        self.mask = np.empty((N, H + 1), bool)  # [hidden 1] > 0
        self.dhidden = np.empty((N, H + 1), dtype)  # d[hidden 1]; its last column, d of the constant, is unread
        self.scores = np.empty((N, C), dtype)  # scores, then exp(scores), probs, dscores: in place
        self.top, self.sumexp = np.empty((N, 1), dtype), np.empty((N, 1), dtype)
        self.ones_C = np.ones((C, 1), dtype)  # row sums as a matvec: cheaper than .sum(axis=1) here
        shapes = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}
        self.grad, self.grads = flat_buffer(shapes, dtype)
        self.dW1a = self.grad[:self.split].reshape(D + 1, H)  # [dW1; db1]
        self.dW2a = self.grad[self.split:].reshape(H + 1, C)  # [dW2; db2]
        # d/dW of 0.5 * reg * |W|^2 is reg * W, and biases are not regularised: decay is reg on the
        # weights, 0 on the biases, so the L2 term of both layers is one pass over the flat params
        self.decay, decay = flat_buffer(shapes, dtype)
        decay["W1"][...] = decay["W2"][...] = reg
        self.reg_w = np.empty_like(self.grad)

    def loss_and_grads(self, w, Xa, Y):
        """The derivation, step by step: the loss at flat params w on rows Xa = [X 1], one-hot labels Y."""
        N, D, H, C = self.shape
        W1a, W2a = w[:self.split].reshape(D + 1, H), w[self.split:].reshape(H + 1, C)
        hidden, s = self.hidden, self.scores  # [hidden 1] (N, H+1); scores (N, C)

        # forward
        np.matmul(Xa, W1a, out=hidden[:, :H])  # (N, H)   h_ij = sum_k X_ik W1_kj + b1_j
        np.maximum(hidden, self.zeros, out=hidden)  # ReLU: h_ij = max(0, h_ij)
        np.matmul(hidden, W2a, out=s)  # (N, C)   s_ic = sum_j h_ij W2_jc + b2_c
        np.maximum.reduce(s, axis=1, keepdims=True, out=self.top)  # m_i = max_c s_ic (faster than s.max)
        s -= self.top  # softmax is shift-invariant; exp() stays finite
        picked = np.vdot(s, Y)  # sum_i s_{i,y_i}: Y is one-hot
        probs = np.exp(s, out=s)
        sumexp = np.matmul(probs, self.ones_C, out=self.sumexp)  # (N, 1)   sum_c exp(s_ic)
        probs /= sumexp  # p_ic = exp(s_ic) / sum_c' exp(s_ic')
        # L_i = -log p_{i,y_i} = log sum_c exp(s_ic) - s_{i,y_i}: no log(0) even when p underflows
        data_loss = (np.log(sumexp, out=sumexp).sum() - picked) / N
        np.multiply(w, self.decay, out=self.reg_w)  # reg * W1, reg * W2; 0 for the biases
        reg_loss = 0.5 * np.vdot(self.reg_w, w)  # 0.5 * reg * (|W1|^2 + |W2|^2)

        # backward: each line is the compact map dL/dX = f(dL/dY) of one layer
        dscores = probs  # reuse the buffer: dscores_ic = (p_ic - 1(c == y_i)) / N
        dscores -= Y
        dscores /= self.N
        # [dW2; db2] = [hidden 1].T @ dscores:  dW2_jc = sum_i h_ij dscores_ic;  db2_c = sum_i dscores_ic
        # (the data term only: dW2's + reg * W2 is added at the end, with dW1's, in one flat pass)
        np.matmul(hidden.T, dscores, out=self.dW2a)
        # d[hidden 1] = dscores @ [W2; b2].T:  dhidden_ij = sum_c dscores_ic W2_jc  (j < H)
        # (N, H+1), the shape of [hidden 1], not of hidden (N, H): column H, d of the constant 1,
        # comes free with the matmul and is never read (dW1a below takes dhidden[:, :H])
        dhidden = np.matmul(dscores, W2a.T, out=self.dhidden)
        # dhidden[hidden <= 0] = 0: a unit at exactly 0 passes no gradient; a multiply by the
        # mask, since boolean-mask assignment costs ~9x more (issue 6)
        dhidden *= np.greater(hidden, 0, out=self.mask)
        # [dW1; db1] = [X 1].T @ dhidden:  dW1_kj = sum_i X_ik dhidden_ij;  db1_j = sum_i dhidden_ij
        # (again the data term only; + reg * W1 follows)
        np.matmul(Xa.T, dhidden[:, :H], out=self.dW1a)
        # the L2 term of both layers at once, over the flat grad: dW1 += reg * W1;  dW2 += reg * W2
        # (reg_w is 0 on the biases, so db1 and db2 stay the data terms)
        self.grad += self.reg_w

        return float(data_loss + reg_loss)
