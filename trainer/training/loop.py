"""The training loop: shuffled minibatches, per-epoch history, lr schedule, early stopping.

The loop is plain: arrays in, a TrainState out. It prints nothing and writes nothing;
progress bars, metrics files and checkpoints hang off it as callbacks.

An engine (ENGINES) computes each step's loss and gradients: `fast` runs model.fast.FastStep on
batches gathered once an epoch into buffers it owns; `reference` runs the derivation itself,
model.network.loss_grads_scores, on each batch's rows. Both visit the same rows in the same order and hand the
optimizer the same gradient, so their curves agree to rounding.

Sample weights (one per training row, >= 0) make each step's loss the weighted mean over its
batch, normalised by the batch's own weight sum; a batch whose weights are all 0 takes no step.
An epoch's train_loss is then the mean of its steps' losses weighted by their weight sums.
"""

import contextlib
import math
import time
from dataclasses import dataclass, field

import numpy as np

from trainer.errors import DivergenceError
from trainer.model import network
from trainer.model.fast import FastStep
from trainer.model.flat import flat_copy, views_of
from trainer.model.metrics import loss_and_accuracy
from trainer.model.network import PARAM_NAMES, check_weights
from trainer.training.optim import lr_at

# early-stopping metric -> +1 when smaller is better, -1 when larger is better
MONITORS = {"val_loss": 1.0, "val_accuracy": -1.0, "train_loss": 1.0}


@dataclass
class TrainConfig:
    epochs: int = 200  # passes over the training split; MLPClassifier's max_iter, enough with cosine decay
    batch_size: int | None = 32  # examples per step (null: the full batch); 32 gives small sets enough steps
    optimizer: str = "adam"  # sgd | momentum | nesterov | adam; adam needs the least tuning
    lr: float = 1e-3  # learning rate (base of the schedule); Adam's usual 1e-3
    momentum: float = 0.9  # mu of momentum and nesterov
    beta1: float = 0.9  # Adam's decay of the mean of gradients
    beta2: float = 0.999  # Adam's decay of the mean of squared gradients
    eps: float = 1e-8  # Adam's guard against division by zero
    reg: float = 2e-3  # L2 on W1, W2: loss += 0.5*reg*|W|^2; 2e-3 lets data-only configs match MLPClassifier
    class_weight: str | dict | None = None  # null | balanced: n / (C * class count), train split | {label: w}
    lr_schedule: str = "cosine"  # constant | step | exponential | cosine (per epoch); cosine fits any budget
    lr_decay: float = 0.1  # step: lr *= lr_decay every lr_step epochs; exponential: lr *= lr_decay each epoch
    lr_step: int = 30  # epochs between decays of the step schedule
    lr_min: float = 0.0  # the floor the cosine schedule anneals to
    early_stopping: bool = False  # stop when `monitor` stalls, restore the best weights; off: no val split
    monitor: str = "val_loss"  # val_loss | val_accuracy | train_loss
    patience: int = 10  # epochs without improvement before stopping (scikit-learn's n_iter_no_change)
    min_delta: float = 1e-4  # the least change of `monitor` that counts as improving (scikit-learn's tol)
    shuffle: bool = True  # reshuffle the training split every epoch
    checkpoint_every: int = 1  # epochs between checkpoints, for `trainer train --resume`; 0 = none
    checkpoint_seconds: float = 1.0  # min seconds between checkpoints: a write (fsync) can outlast an epoch
    engine: str = "fast"  # fast | reference (model/fast.py | model/network.py): same curve to rounding
    threads: int | None = None  # BLAS threads while training; null = all cores; 1 on a busy machine


@dataclass
class TrainState:
    """Everything the loop needs to continue: a checkpoint saves exactly this.

    `w` is the flat buffer [W1, b1, W2, b2] a step reads and the optimizer updates in one call
    (model.fast.FastStep); it is made here, once, holding a copy of the params given, and `params`
    becomes its views. Write params in place (params[k][...] = ...) to keep them in w.
    """

    params: dict
    optimizer: object
    rng: np.random.Generator
    epoch: int = 0  # epochs completed
    history: list = field(default_factory=list)  # one record (dict) per completed epoch
    best_params: dict | None = None
    best_score: float = math.inf
    best_epoch: int = 0
    bad_epochs: int = 0  # epochs since the last improvement
    stopped_early: bool = False
    w: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        if tuple(self.optimizer.shapes) != PARAM_NAMES:  # its flat layout is its params' order
            raise ValueError(
                f"the optimizer was built for params in the order {', '.join(self.optimizer.shapes)}; "
                f"training needs {', '.join(PARAM_NAMES)} (as init_params returns them)"
            )
        self.w, self.params = flat_copy({k: self.params[k] for k in PARAM_NAMES})

    def __setstate__(self, fields):
        """Unpickled, params are copies (pickle copies every array): make them views of w again,
        in the same dict, which an estimator's params_ also is."""
        self.__dict__.update(fields)
        self.params.update(views_of(self.w, {k: self.params[k].shape for k in PARAM_NAMES}))


def optimize(state, X, y, train_cfg, val=None, callbacks=(), sample_weight=None, until=None):
    """Train state.params on (X, y) from state.epoch to train_cfg.epochs; return the final state.

    sample_weight: (n,) weights of the rows of X (>= 0, not all 0), or None for all alike.
    until: stop after this epoch instead (<= train_cfg.epochs); the lr schedule still spans train_cfg.epochs.
    """
    until = train_cfg.epochs if until is None else until
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=state.w.dtype)
        check_weights(sample_weight, len(y))
    for cb in callbacks:
        getattr(cb, "on_train_begin", lambda s: None)(state)
    if state.epoch < until and not state.stopped_early:  # else no batches: the fast engine copies X
        _epochs(state, X, y, train_cfg, val, callbacks, sample_weight, until)
    if train_cfg.early_stopping and state.best_params is not None:
        for k, best in state.best_params.items():
            state.params[k][...] = best
    for cb in callbacks:
        getattr(cb, "on_train_end", lambda s: None)(state)
    return state


def _epochs(state, X, y, train_cfg, val, callbacks, sample_weight, until):
    """optimize's loop: an epoch, its record, early stopping and the callbacks, until done."""
    batches = ENGINES[train_cfg.engine](
        X, y, state.params, train_cfg.batch_size, train_cfg.reg, sample_weight
    )
    with _blas_threads(train_cfg.threads):
        while state.epoch < until and not state.stopped_early:
            t0 = time.perf_counter()
            lr = lr_at(
                train_cfg.lr_schedule,
                train_cfg.lr,
                state.epoch,
                train_cfg.epochs,
                decay=train_cfg.lr_decay,
                period=train_cfg.lr_step,
                lr_min=train_cfg.lr_min,
            )
            # no overflow warnings: a diverging step raises DivergenceError below
            with np.errstate(over="ignore", invalid="ignore"):
                train_loss = one_epoch(state, X, y, train_cfg, lr, batches)
                record = {
                    "epoch": state.epoch + 1,
                    "train_loss": train_loss,
                    "train_accuracy": batches.running_accuracy(),
                }
                if val is not None:  # huge finite weights overflow here first; the next step then diverges
                    record["val_loss"], record["val_accuracy"] = loss_and_accuracy(state.params, *val)
            record["lr"] = lr
            record["epoch_seconds"] = time.perf_counter() - t0
            state.epoch += 1
            state.history.append(record)
            if train_cfg.early_stopping:
                _early_stopping(state, record, train_cfg)
            for cb in callbacks:
                getattr(cb, "on_epoch_end", lambda s, r: None)(state, record)


def _blas_threads(n):
    """A with-block with BLAS on n threads (n can change its results' last bits); None: BLAS's default."""
    if n is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # scikit-learn's dependency; slow to import, so only here

    return threadpool_limits(n, user_api="blas")


def one_epoch(state, X, y, train_cfg, lr, batches=None, sample_weight=None):
    """One pass of minibatch steps; returns the epoch's mean training objective.

    `batches`: (X, y) as the engine reads them, kept across epochs (optimize passes them); made here when
    None, with the rows' sample_weight (None: all alike).
    """
    w = state.w
    batches = batches or ENGINES[train_cfg.engine](
        X, y, state.params, train_cfg.batch_size, train_cfg.reg, sample_weight
    )
    order = state.rng.permutation(len(y)) if train_cfg.shuffle else np.arange(len(y))
    step = state.optimizer.step
    total = seen = 0.0
    # n: the step's rows, or its weight sum when weighted, by which its loss counts in the epoch's mean
    for i, (loss, grad, n) in enumerate(batches.gradients(state, order)):
        if not math.isfinite(loss):
            raise DivergenceError(
                f"training diverged at epoch {state.epoch + 1}, step {i + 1}: loss is {loss}; "
                f"try a smaller train.lr (now {lr:g})"
            )
        step(w, grad, lr)
        total += loss * n
        seen += n
    if not np.isfinite(w).all():
        raise DivergenceError(
            f"training diverged at epoch {state.epoch + 1}: a parameter is not finite; "
            f"try a smaller train.lr (now {lr:g})"
        )
    return total / seen


GATHER_ROWS = 4096  # rows per np.take of FastBatches.gradients: a block of 4096 x D is the only scratch


class _Predictions:
    """An engine's record of an epoch: `labels`, the training labels in the epoch's order, and `pred`,
    the class each step predicted for its rows (argmax of the scores it computed anyway) before it stepped."""

    def __init__(self, y):
        self.labels, self.pred = np.empty_like(y), np.empty(len(y), np.intp)

    def running_accuracy(self):
        """The share of the epoch's rows its steps predicted right: the accuracy beside the mean
        objective (train_loss), both at the weights each step met, so neither costs a pass of its own.
        Unweighted, as every reported accuracy; a skipped batch (weights all 0) counts as not predicted."""
        return float(np.count_nonzero(self.pred == self.labels) / len(self.labels))


class FastBatches(_Predictions):
    """The fast engine: the training split in buffers owned here, filled once per epoch.

    Each epoch gathers the rows in the epoch's order into `X_ones` = [X 1] (n, D+1), the one-hot
    labels into `Y` (n, C) and the sample weights, if any, into the column `SW` (n, 1): a few
    np.take calls per epoch, not a fancy index per step; a step's batch is then a slice made once,
    here. Each batch size (the full one, the last partial one) has its FastStep. Memory: one copy
    of X, in the epoch's order, and Y.
    """

    def __init__(self, X, y, params, batch_size, reg, sample_weight=None):
        super().__init__(y)
        (n, D), (H, C), dtype = X.shape, params["W2"].shape, params["W2"].dtype
        self.X, self.y = np.asarray(X, dtype), y  # only read
        self.sw = None if sample_weight is None else np.asarray(sample_weight, dtype)  # only read
        self.eye = np.eye(C, dtype=dtype)  # eye[c] is the one-hot row of class c
        self.X_ones, self.Y = np.ones((n, D + 1), dtype), np.empty((n, C), dtype)  # column D stays 1
        self.SW = None if self.sw is None else np.empty((n, 1), dtype)
        self.block = np.empty((min(n, GATHER_ROWS), D), dtype)
        size, fast_steps = batch_size or n, {}
        self.starts = np.arange(0, n, size)  # each batch's first row: np.add.reduceat sums their weights
        self.batches = []  # (X_ones, Y, SW or None, pred, FastStep) of each step, in order
        for start in range(0, n, size):
            N = min(size, n - start)
            if N not in fast_steps:
                fast_steps[N] = FastStep(N, D, H, C, dtype, reg, weighted=self.sw is not None)
            rows = slice(start, start + N)
            SW = None if self.SW is None else self.SW[rows]
            self.batches.append((self.X_ones[rows], self.Y[rows], SW, self.pred[rows], fast_steps[N]))

    def gather(self, order):
        """Fill X_ones and Y with the rows in `order` (a permutation of range(n))."""
        # X[order] into X_ones' first D columns through a contiguous block: np.take straight into
        # the strided columns is slower. mode="clip": the indices are in range, and clip lets take
        # write straight into out
        for start in range(0, len(order), GATHER_ROWS):
            rows = order[start : start + GATHER_ROWS]
            block = np.take(self.X, rows, axis=0, out=self.block[: len(rows)], mode="clip")
            self.X_ones[start : start + len(rows), :-1] = block
        np.take(self.y, order, out=self.labels, mode="clip")
        np.take(self.eye, self.labels, axis=0, out=self.Y, mode="clip")
        if self.SW is not None:
            np.take(self.sw, order, out=self.SW[:, 0], mode="clip")

    def gradients(self, state, order):
        """(loss, flat gradient, rows or weight sum) of each step of an epoch over the rows in `order`,
        at state.w; a batch whose weights are all 0 is skipped."""
        self.gather(order)
        if self.SW is None:
            sums = [len(Y) for _, Y, _, _, _ in self.batches]
        else:
            sums = np.add.reduceat(self.SW[:, 0], self.starts).tolist()
        self.pred[:] = -1  # a skipped batch predicts nothing
        for (X_ones, Y, SW, pred, fast), n in zip(self.batches, sums, strict=True):
            if n > 0:
                yield fast.loss(state.w, X_ones, Y, SW, pred), fast.grad, n


class ReferenceBatches(_Predictions):
    """The reference engine: each step the derivation itself (network.loss_grads_scores) on its rows."""

    def __init__(self, X, y, params, batch_size, reg, sample_weight=None):
        super().__init__(y)
        self.X, self.y = np.asarray(X, params["W1"].dtype), y
        self.sw = None if sample_weight is None else np.asarray(sample_weight, params["W1"].dtype)
        self.size, self.reg = batch_size or len(y), reg

    def gradients(self, state, order):
        """(loss, gradient dict, rows or weight sum) of each step of an epoch over the rows in `order`,
        at state.params; a batch whose weights are all 0 is skipped."""
        self.labels[:] = self.y[order]
        self.pred[:] = -1  # a skipped batch predicts nothing
        for start in range(0, len(order), self.size):
            rows = order[start : start + self.size]
            sw = None if self.sw is None else self.sw[rows]
            n = len(rows) if sw is None else float(np.sum(sw))
            if n > 0:
                loss, grads, scores = network.loss_grads_scores(
                    state.params, self.X[rows], self.y[rows], self.reg, sw
                )
                self.pred[start : start + len(rows)] = scores.argmax(axis=1)
                yield loss, grads, n


ENGINES = {"fast": FastBatches, "reference": ReferenceBatches}


def _early_stopping(state, record, train_cfg):
    """Keep the best weights so far; stop after `patience` epochs without improvement."""
    score = MONITORS[train_cfg.monitor] * record[train_cfg.monitor]
    if score < state.best_score - train_cfg.min_delta:
        state.best_score, state.best_epoch, state.bad_epochs = score, record["epoch"], 0
        state.best_params = {k: v.copy() for k, v in state.params.items()}
    else:
        state.bad_epochs += 1
        state.stopped_early = state.bad_epochs >= train_cfg.patience
