"""The training loop: shuffled minibatches, per-epoch history, lr schedule, early stopping.

The loop is plain: arrays in, a TrainState out. It prints nothing and writes nothing;
progress bars, metrics files and checkpoints hang off it as callbacks.
"""
import math
import time
from dataclasses import dataclass, field

import numpy as np

from trainer.errors import DivergenceError
from trainer.model import _loss_and_grads, scores
from trainer.optim import lr_at

# early-stopping metric -> +1 when smaller is better, -1 when larger is better
MONITORS = {"val_loss": 1.0, "val_accuracy": -1.0, "train_loss": 1.0}


@dataclass
class TrainConfig:
    epochs: int = 200  # passes over the training split; scikit-learn's max_iter default, enough with cosine decay
    batch_size: int | None = 32  # examples per step; null = the full batch. 32 (not MLPClassifier's 200) gives small sets enough steps
    optimizer: str = "adam"  # sgd | momentum | nesterov | adam; adam needs the least tuning
    lr: float = 1e-3  # learning rate (base of the schedule); Adam's usual 1e-3
    momentum: float = 0.9  # mu of momentum and nesterov
    beta1: float = 0.9  # Adam's decay of the mean of gradients
    beta2: float = 0.999  # Adam's decay of the mean of squared gradients
    eps: float = 1e-8  # Adam's guard against division by zero
    reg: float = 2e-3  # L2: loss += 0.5*reg*(|W1|^2+|W2|^2), biases free; = MLPClassifier's alpha / batch_size (its 1e-4/200 = 5e-7); 2e-3 tested best
    lr_schedule: str = "cosine"  # constant | step | exponential | cosine (per epoch); cosine settles the fixed budget
    lr_decay: float = 0.1  # step: lr *= lr_decay every lr_step epochs; exponential: lr *= lr_decay each epoch
    lr_step: int = 30  # epochs between decays of the step schedule
    lr_min: float = 0.0  # the floor the cosine schedule anneals to
    early_stopping: bool = False  # stop when `monitor` stops improving, restore the best weights; off: no val split by default
    monitor: str = "val_loss"  # val_loss | val_accuracy | train_loss
    patience: int = 10  # epochs without improvement before stopping (scikit-learn's n_iter_no_change)
    min_delta: float = 1e-4  # the least change of `monitor` that counts as an improvement (scikit-learn's tol)
    shuffle: bool = True  # reshuffle the training split every epoch
    checkpoint_every: int = 1  # epochs between checkpoints in the run directory, for `trainer train --resume`; 0 = none
    checkpoint_seconds: float = 1.0  # and at least this many seconds between two: a write (fsync) takes 1-10 ms, more than a small epoch


@dataclass
class TrainState:
    """Everything the loop needs to continue: a checkpoint saves exactly this."""

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


def val_metrics(params, X, y):
    """Cross-entropy (no L2) and accuracy of params on (X, y)."""
    s = scores(params, X)
    top = s.max(axis=1)
    logsumexp = top + np.log(np.exp(s - top[:, None]).sum(axis=1))
    rows = np.arange(len(y))
    loss = float(np.mean(logsumexp - s[rows, y]))
    return loss, float(np.mean(s.argmax(axis=1) == y))


def fit(state, X, y, cfg, val=None, callbacks=()):
    """Train state.params on (X, y) from state.epoch to cfg.epochs; return the final state."""
    for cb in callbacks:
        getattr(cb, "on_train_begin", lambda s: None)(state)
    while state.epoch < cfg.epochs and not state.stopped_early:
        t0 = time.perf_counter()
        lr = lr_at(cfg.lr_schedule, cfg.lr, state.epoch, cfg.epochs,
                   decay=cfg.lr_decay, step=cfg.lr_step, lr_min=cfg.lr_min)
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging step raises DivergenceError below
            train_loss = run_epoch(state, X, y, cfg, lr)
            record = {"epoch": state.epoch + 1, "train_loss": train_loss}
            if val is not None:  # huge finite weights overflow here first; the next step then diverges
                record["val_loss"], record["val_accuracy"] = val_metrics(state.params, *val)
        record["lr"] = lr
        record["epoch_seconds"] = time.perf_counter() - t0
        state.epoch += 1
        state.history.append(record)
        if cfg.early_stopping:
            _early_stopping(state, record, cfg)
        for cb in callbacks:
            getattr(cb, "on_epoch_end", lambda s, r: None)(state, record)
    if cfg.early_stopping and state.best_params is not None:
        for k, best in state.best_params.items():
            state.params[k][...] = best
    for cb in callbacks:
        getattr(cb, "on_train_end", lambda s: None)(state)
    return state


def run_epoch(state, X, y, cfg, lr):
    """One pass of minibatch steps; returns the epoch's mean training objective."""
    n = X.shape[0]
    bs = cfg.batch_size or n
    order = state.rng.permutation(n) if cfg.shuffle else np.arange(n)
    params, step = state.params, state.optimizer.step
    total = 0.0
    for i, start in enumerate(range(0, n, bs)):
        idx = order[start:start + bs]
        loss, grads = _loss_and_grads(params, X[idx], y[idx], cfg.reg)
        if not math.isfinite(loss):
            raise DivergenceError(
                f"training diverged at epoch {state.epoch + 1}, step {i + 1}: loss is {loss}; "
                f"try a smaller train.lr (now {lr:g})")
        step(params, grads, lr)
        total += loss * len(idx)
    if not all(np.isfinite(p).all() for p in params.values()):
        raise DivergenceError(
            f"training diverged at epoch {state.epoch + 1}: a parameter is not finite; "
            f"try a smaller train.lr (now {lr:g})")
    return total / n


def _early_stopping(state, record, cfg):
    """Keep the best weights so far; stop after `patience` epochs without improvement."""
    score = MONITORS[cfg.monitor] * record[cfg.monitor]
    if score < state.best_score - cfg.min_delta:
        state.best_score, state.best_epoch, state.bad_epochs = score, record["epoch"], 0
        state.best_params = {k: v.copy() for k, v in state.params.items()}
    else:
        state.bad_epochs += 1
        state.stopped_early = state.bad_epochs >= cfg.patience
