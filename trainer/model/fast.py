"""The fast twin of network.loss_grads_scores: the same loss and gradients, computed in buffers a step owns.

Training runs this (train.engine: fast); tests/model/test_fast.py holds it equal to the reference.
It departs from the derivation in three ways, each timed in scripts/bench_tricks.py:
- the biases ride inside the weights: with w = [W1, b1, W2, b2] flat, [W1; b1] (D+1, H) and
  [W2; b2] (H+1, C) are matrices, and with a column of ones on the inputs
  [X 1] @ [W1; b1] = X @ W1 + b1, so one matmul does an affine layer and its transpose gives
  [dW1; db1]: the ones row of [X 1].T sums dhidden over the batch, which is db1;
- the ReLU's backward multiplies by the mask 1(hidden > 0) instead of assigning through it;
- labels arrive one-hot, so picking p_{i,y_i} and subtracting 1(c == y_i) are dense operations.
Sample weights, when a step has them, arrive as a column sw (N, 1) and scale dscores as the
reference does: by w_i, then by 1 / sum_i w_i.
"""

import numpy as np

from trainer.model.flat import flat_buffer


def with_ones(X):
    """[X 1]: X (N, D) with a column of ones appended, (N, D+1)."""
    return np.concatenate([X, np.ones((len(X), 1), X.dtype)], axis=1)


def one_hot(y, C, dtype):
    """Y (N, C) with Y_ic = 1 when y_i == c, else 0: row c of the identity for each label."""
    return np.eye(C, dtype=dtype)[y]


class FastStep:
    """The buffers of one training step at batch size N: owned here, overwritten by every call.

    `loss(w, X_ones, Y, sw)` only reads its arguments (and fills `pred` when given); it
    leaves dL/dw in `grad` (flat, laid out like w) with one view per param in `grads`, valid until
    the next call. `weighted`: the step takes sample weights sw (it holds two more buffers for them).
    """

    def __init__(self, N, D, H, C, dtype, reg, weighted=False):
        self.shape = (N, D, H, C)
        self.W1_end = (D + 1) * H  # w[:W1_end] is [W1; b1], w[W1_end:] is [W2; b2]
        self.N_0d = np.array(N, dtype)  # N as a 0-d array: a ufunc takes it faster than a Python number
        self.hidden_ones = np.ones((N, H + 1), dtype)  # [hidden 1]: column H stays 1 (max(1, 0) = 1)
        self.zeros = np.zeros((N, H + 1), dtype)  # np.maximum(z, zeros): the array-array loop is the fast one
        self.active = np.empty((N, H + 1), bool)  # [hidden 1] > 0, the ReLU's mask
        self.dhidden_ones = np.empty((N, H + 1), dtype)  # d[hidden 1]; its last column (d of the 1) is unread
        self.scores = np.empty((N, C), dtype)  # scores, then exp(scores), probs, dscores: in place
        self.row_max, self.sumexp = np.empty((N, 1), dtype), np.empty((N, 1), dtype)
        self.ones_C = np.ones((C, 1), dtype)  # row sums as a matvec with ones
        shapes = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,)}
        self.grad, self.grads = flat_buffer(shapes, dtype)
        self.dW1_b1 = self.grad[: self.W1_end].reshape(D + 1, H)  # [dW1; db1]
        self.dW2_b2 = self.grad[self.W1_end :].reshape(H + 1, C)  # [dW2; db2]
        # d/dW of 0.5 * reg * |W|^2 is reg * W, and the biases are not regularised: reg_or_0 holds
        # reg on the weights and 0 on the biases, so one pass over the flat w gives both layers' L2 term
        self.reg_or_0, reg_or_0 = flat_buffer(shapes, dtype)
        reg_or_0["W1"][...] = reg_or_0["W2"][...] = reg
        self.reg_w = np.empty_like(self.grad)  # reg * w: reg * W1, 0, reg * W2, 0
        if weighted:
            self.Y_sw = np.empty((N, C), dtype)  # Y_ic w_i: the one-hot rows, each scaled by its weight
            self.sumexp_sw = np.empty((N, 1), dtype)  # log(sum_c exp(s_ic)) w_i

    def loss(self, w, X_ones, Y, sw=None, pred=None):
        """The loss at flat params w on rows X_ones = [X 1], one-hot labels Y and sample weights sw
        (N, 1) or None; its gradient in self.grad.

        pred: an (N,) intp array to fill with the predicted class of each row, argmax of the scores
        as network.predict takes it (before the shift, which could round two scores equal)."""
        N, D, H, C = self.shape
        W1_b1, W2_b2 = w[: self.W1_end].reshape(D + 1, H), w[self.W1_end :].reshape(H + 1, C)
        hidden_ones, s = self.hidden_ones, self.scores

        # forward
        np.matmul(X_ones, W1_b1, out=hidden_ones[:, :H])  # h_ij = sum_k X_ik W1_kj + b1_j
        np.maximum(hidden_ones, self.zeros, out=hidden_ones)  # h_ij = max(0, h_ij)
        np.matmul(hidden_ones, W2_b2, out=s)  # s_ic = sum_j h_ij W2_jc + b2_c
        if pred is not None:
            s.argmax(axis=1, out=pred)  # the method: np.argmax(s, ...) is a Python wrapper around it
        np.maximum.reduce(s, axis=1, keepdims=True, out=self.row_max)  # m_i = max_c s_ic
        s -= self.row_max  # softmax is shift-invariant; exp() stays finite
        if sw is None:
            picked = np.vdot(s, Y)  # sum_i s_{i,y_i}: Y is one-hot
        else:
            picked = np.vdot(s, np.multiply(Y, sw, out=self.Y_sw))  # sum_i w_i s_{i,y_i}
        probs = np.exp(s, out=s)
        sumexp = np.matmul(probs, self.ones_C, out=self.sumexp)  # sum_c exp(s_ic)
        probs /= sumexp  # p_ic = exp(s_ic) / sum_c' exp(s_ic')
        # L_i = -log p_{i,y_i} = log sum_c exp(s_ic) - s_{i,y_i}: no log(0) even when p underflows
        logsumexp = np.log(sumexp, out=sumexp)
        if sw is None:
            data_loss = (logsumexp.sum() - picked) / N  # L = mean_i L_i
        else:
            total = sw.sum()  # L = sum_i w_i L_i / sum_i w_i
            data_loss = (np.multiply(logsumexp, sw, out=self.sumexp_sw).sum() - picked) / total
        np.multiply(w, self.reg_or_0, out=self.reg_w)
        reg_loss = 0.5 * np.vdot(self.reg_w, w)  # 0.5 * reg * (|W1|^2 + |W2|^2)

        # backward
        dscores = probs  # the same buffer: dscores_ic = (p_ic - 1(c == y_i)) / N
        dscores -= Y
        if sw is None:
            dscores /= self.N_0d
        else:  # dscores_ic = (p_ic - 1(c == y_i)) w_i / sum_i' w_i'
            dscores *= sw
            dscores /= total
        # [dW2; db2] = [hidden 1].T @ dscores: dW2_jc = sum_i h_ij dscores_ic; db2_c = sum_i dscores_ic
        np.matmul(hidden_ones.T, dscores, out=self.dW2_b2)
        # d[hidden 1] = dscores @ [W2; b2].T: dhidden_ij = sum_c dscores_ic W2_jc (column H is unread)
        dhidden_ones = np.matmul(dscores, W2_b2.T, out=self.dhidden_ones)
        # dhidden[hidden <= 0] = 0, as a multiply by the mask
        dhidden_ones *= np.greater(hidden_ones, 0, out=self.active)
        # [dW1; db1] = [X 1].T @ dhidden: dW1_kj = sum_i X_ik dhidden_ij; db1_j = sum_i dhidden_ij
        np.matmul(X_ones.T, dhidden_ones[:, :H], out=self.dW1_b1)
        # dW1 += reg * W1; dW2 += reg * W2, in one pass (reg_w is 0 on the biases)
        self.grad += self.reg_w

        return float(data_loss + reg_loss)
