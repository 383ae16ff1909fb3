"""A training run: config -> data -> optimize -> a run directory with the model and its records.

Run directory: config.yaml (resolved), metrics.jsonl (one record per epoch), model.npz,
curve.json, summary.json (written last: it marks the run finished); while training also
checkpoint.npz and checkpoint.prev.npz. Every file is written atomically.
"""

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from trainer.config.diff import diff_keys, show_diff
from trainer.config.load import config_to_dict, dump_config, load_config
from trainer.data.prepare import prepare
from trainer.errors import ConfigError, DivergenceError, TrainerError, did_you_mean_path
from trainer.model.metrics import chance_level, loss_and_accuracy, split_metrics
from trainer.model.network import PARAM_NAMES, init_params
from trainer.runs.callbacks import LastEpochWeights, MetricsWriter
from trainer.storage.checkpoint import Checkpointer
from trainer.storage.curvefile import make_curve
from trainer.storage.files import atomic_write, write_json, write_jsonl
from trainer.storage.modelfile import SavedModel, checksum, load_model, save_model
from trainer.storage.rundir import DirLock
from trainer.training.loop import TrainState, optimize
from trainer.training.optim import make_optimizer


@dataclass
class RunResult:
    run_dir: Path
    state: TrainState
    model: SavedModel
    summary: dict
    data: object = None  # the Prepared data it trained on (its raw splits draw the pictures)


def resume_config(run_dir, config=None, overrides=()):
    """The Config of the unfinished run in run_dir; a CONFIG file or --set that changes it is refused."""
    run_dir = Path(run_dir)
    stored_path = run_dir / "config.yaml"
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: no such run directory{did_you_mean_path(run_dir)}")
    if not stored_path.is_file():
        raise ConfigError(f"{run_dir}: not a run directory (no config.yaml); start a new run instead")
    if (run_dir / "summary.json").exists():
        raise TrainerError(
            f"{run_dir}: the run has finished (it holds summary.json and model.npz); nothing to resume "
            f"(its pictures: trainer plot {run_dir})"
        )
    stored = load_config(stored_path)
    asked = load_config(config or stored_path, overrides)
    changed = diff_keys(config_to_dict(stored), config_to_dict(asked))
    if changed:
        raise ConfigError(
            f"cannot resume {run_dir}: the config differs from its config.yaml "
            f"({show_diff(changed)}); resume without changes, or start a new run"
        )
    return stored


def claim_resume(run_dir, config=None, overrides=()):
    """(Config, DirLock) of the unfinished run in run_dir, locked for resuming it (resume_config).

    Checked before the lock, so that a refusal touches nothing, and again under it: another
    process may have finished the run in between."""
    resume_config(run_dir, config, overrides)
    lock = DirLock(run_dir).acquire()
    try:
        return resume_config(run_dir, config, overrides), lock
    except BaseException:
        lock.release()
        raise


def start(cfg, parent=None):
    """Data, initial params and optimizer for cfg, all from the one Generator seeded by cfg.seed.

    With model.init_from the params are then its model's (`parent`, read here when not given): the
    Generator draws as it would without, so the shuffles are a fresh run's; the optimizer is new.
    """
    rng = np.random.default_rng(cfg.seed)
    data = prepare(cfg.data, rng, cfg.model.dtype, cfg.train.class_weight)
    state = new_state(cfg, data.n_features, data.n_classes, rng)
    if cfg.model.init_from is not None:
        init_from(state, parent or parent_model(cfg), cfg, data)
    return data, state


def parent_model(cfg):
    """The SavedModel model.init_from names (ModelFileError when it is missing or damaged); None without."""
    return None if cfg.model.init_from is None else load_model(cfg.model.init_from)


def init_from(state, parent, cfg, data):
    """Copy the parent model's weights into state; ConfigError naming the first way they do not fit."""
    W1 = parent.params["W1"]
    problems = [
        (
            W1.shape[1] != cfg.model.hidden_size,
            f"has hidden size {W1.shape[1]}, but model.hidden_size is {cfg.model.hidden_size}",
        ),
        (
            W1.dtype != np.dtype(cfg.model.dtype),
            f"holds {W1.dtype} weights, but model.dtype is {cfg.model.dtype}",
        ),
        (
            list(parent.feature_names) != list(data.feature_names),
            f"was trained on the features {_listed(parent.feature_names)}; "
            f"the data have {_listed(data.feature_names)}",
        ),
        (
            list(parent.classes) != list(data.classes),
            f"has the classes {_listed(parent.classes)}; the data have {_listed(data.classes)}",
        ),
    ]
    for wrong, why in problems:
        if wrong:
            raise ConfigError(f"model.init_from: {cfg.model.init_from} {why}")
    for k in PARAM_NAMES:
        state.params[k][...] = parent.params[k]


def _listed(items, most=6):
    """'a, b, c' (the first `most`, then how many more)."""
    items = [str(v) for v in items]
    more = f" and {len(items) - most} more" if len(items) > most else ""
    return ", ".join(items[:most]) + more


def new_state(cfg, n_features, n_classes, rng):
    """The TrainState training starts from: cfg.model's initial params drawn from rng, a new optimizer."""
    m, t = cfg.model, cfg.train
    params = init_params(
        n_features, m.hidden_size, n_classes, rng, init=m.init, std=m.init_std, dtype=m.dtype
    )
    opt = make_optimizer(t.optimizer, params, momentum=t.momentum, beta1=t.beta1, beta2=t.beta2, eps=t.eps)
    return TrainState(params=params, optimizer=opt, rng=rng)


def train_in_memory(cfg, callbacks=(), parent=None):
    """cfg trained with no file written: start (from `parent`, the model.init_from model, when
    given), then fit on the train split (weighted by its training weights), validated on the val
    split; returns (data, state). `train` does the same with its files and checkpoints."""
    data, state = start(cfg, parent)
    optimize(state, *data.train, cfg.train, data.val, callbacks, sample_weight=data.train_weight)
    return data, state


def train(cfg, run_dir, callbacks=(), resume=False, in_job=False):
    """Train cfg and fill run_dir (claimed by storage.rundir.new_run_dir) with its files; a RunResult.

    Checkpoints are written as it goes (storage/checkpoint.py) and removed at the end. resume: go
    on from the newest good checkpoint in run_dir, finishing it exactly as an unbroken run would.
    On divergence the finite weights are kept (_keep_finite_weights), then DivergenceError is raised.
    in_job: the run is a job of sweeps/jobs.py, which holds BLAS at one thread for its process, so
    train.threads is recorded but not applied (a BLAS limit is process-wide: jobs sharing a
    process would undo each other's).
    """
    run_dir = Path(run_dir)
    parent = parent_model(cfg)
    data, state = start(cfg, parent)  # before any file is written: bad data leaves no half-made run
    parent_sha = None if parent is None else checksum(parent)
    metrics = MetricsWriter(run_dir / "metrics.jsonl")
    saver = Checkpointer(run_dir, config_to_dict(cfg), data, parent_sha, before_save=metrics.write)
    if resume:
        saver.restore(state)
    else:
        saver.remove()  # checkpoints of an earlier run in an --overwrite'n directory are not this run's
        atomic_write(run_dir / "config.yaml", dump_config(cfg))
    last = LastEpochWeights()
    callbacks = [metrics, saver, last, *callbacks]
    t0 = time.perf_counter()
    how = replace(cfg.train, threads=None) if in_job else cfg.train
    try:
        optimize(state, *data.train, how, data.val, callbacks, sample_weight=data.train_weight)
    except DivergenceError as e:
        seconds = time.perf_counter() - t0
        raise _keep_finite_weights(e, cfg, run_dir, data, state, last, seconds, parent_sha) from None
    finally:
        saver.close()
    seconds = time.perf_counter() - t0
    model, summary = _finish(cfg, run_dir, data, state, seconds, make_curve(cfg, state), parent_sha)
    saver.remove()
    return RunResult(run_dir, state, model, summary, data)


def _finish(cfg, run_dir, data, state, seconds, curve=None, parent_sha=None, **extra):
    """Write model.npz, curve.json (when given) and summary.json for state.params; return (model, summary).
    parent_sha: the checksum of the model.init_from model, recorded in model.npz.

    summary.json comes last: it marks the run finished (resume refuses a run that has it), so a
    crash before it leaves a run that `--resume` completes.
    """
    summary = {**summarize(cfg, data, state, seconds), **extra}
    model = saved_model(cfg, data, state.params, summary, parent_sha)
    save_model(run_dir / "model.npz", model)
    if curve is not None:
        write_json(run_dir / "curve.json", curve)
    write_json(run_dir / "summary.json", summary)
    return model, summary


def saved_model(cfg, data, params, summary, parent_sha256=None):
    """The SavedModel of params trained on data (its scaler, classes, features) by cfg; parent_sha256:
    the checksum of the model.init_from model it started from."""
    return SavedModel(params, data.prep, config_to_dict(cfg), summary, parent_sha256=parent_sha256)


def _keep_finite_weights(error, cfg, run_dir, data, state, last, seconds, parent_sha):
    """After divergence: metrics.jsonl of the finite epochs; model.npz and summary.json (with
    "diverged": the error) of early stopping's best weights when it kept any, else of the last
    epoch end (`last`, a LastEpochWeights); the checkpoints stay too. Returns the error to raise."""
    write_jsonl(run_dir / "metrics.jsonl", state.history)
    if state.best_params is not None:
        params, which = state.best_params, f"the best weights (epoch {state.best_epoch})"
    elif last.epoch:
        params, which = last.params, f"the weights of epoch {last.epoch}, the last to end finite,"
    else:
        return DivergenceError(f"{error}; no epoch ended, so no weights were saved")
    with np.errstate(all="ignore"):  # weights near divergence may overflow a metric: quietly, not as warnings
        _finish(
            cfg, run_dir, data, replace(state, params=params), seconds, None, parent_sha, diverged=str(error)
        )
    return DivergenceError(f"{error}; {which} are saved in {run_dir / 'model.npz'}")


def summarize(cfg, data, state, seconds):
    """summary.json: final metrics per split ({split: {accuracy, balanced_accuracy, loss}}, one
    computation for every split, unweighted whatever the training weights) and how the run went;
    "warning" when the network is at chance level (chance_warning)."""
    summary = {"name": cfg.name}
    for split in ("train", "val", "test"):
        part = getattr(data, split)
        if part is not None:
            summary[split] = split_metrics(state.params, *part)
    fitted = summary["train"]  # unweighted; with training weights, judged by the weighted objective
    if data.train_weight is not None:
        loss, accuracy = loss_and_accuracy(state.params, *data.train, data.train_weight)
        fitted = {"accuracy": accuracy, "loss": loss}
    peak = max(r["train_loss"] for r in state.history)
    warning = chance_warning(cfg, fitted, data.train[1], data.n_classes, data.train_weight, peak)
    summary.update(
        epochs_run=state.epoch,
        best_epoch=state.best_epoch or state.epoch,
        stopped_early=state.stopped_early,
        final_lr=state.history[-1]["lr"],
        seconds=seconds,
        n_train=len(data.train[1]),
        n_val=0 if data.val is None else len(data.val[1]),
        n_test=0 if data.test is None else len(data.test[1]),
    )
    if warning:
        summary["warning"] = warning
    if cfg.data.missing == "drop":
        summary["n_dropped"] = data.n_dropped
    elif cfg.data.missing != "error":
        summary["n_filled"] = data.n_filled
    if data.n_unseen:
        summary["n_unseen"] = data.n_unseen
    return summary


def at_chance(metrics, y, n_classes, weight=None):
    """Whether a network with these metrics on labels y ({"accuracy", "loss"}: its own training
    rows) learned nothing: its accuracy is not above the majority-class rate, or its loss is not
    below that of predicting the class priors. Also (majority rate, prior loss). With training
    weights (weight, per row), the metrics must be weighted alike: the rates and priors are then
    shares of the weight, so that a class-weighted network is held to what it was trained for."""
    majority, prior_loss = chance_level(y, n_classes, weight)
    return metrics["accuracy"] <= majority or metrics["loss"] >= prior_loss, majority, prior_loss


def chance_warning(cfg, metrics, y, n_classes, weight=None, peak_objective=None):
    """One line saying the network is at chance level (at_chance), with what to try; else None.

    peak_objective, the largest epoch objective of the run, says which way the learning rate is
    wrong: a loss that blew up (over ten times that of the priors) asks for a smaller one, a loss
    that never did for a larger one and more epochs."""
    chance, majority, prior_loss = at_chance(metrics, y, n_classes, weight)
    if not chance:
        return None
    if peak_objective is None or not peak_objective <= 10 * prior_loss:
        lr = f"a smaller train.lr (now {cfg.train.lr:g})"
    else:
        lr = f"a larger train.lr (now {cfg.train.lr:g}) and more train.epochs (now {cfg.train.epochs})"
    hints = [lr, f"another model.init (now {cfg.model.init})"]
    if not cfg.data.standardize:
        hints.append("data.standardize: true")
    weighted = "" if weight is None else "weighted "
    return (
        f"chance level: {weighted}train accuracy {metrics['accuracy']:.4f} against a {weighted}"
        f"majority-class rate of {majority:.4f}, {weighted}cross-entropy {metrics['loss']:.4f} against "
        f"{prior_loss:.4f} for predicting the class priors: the network learned nothing; try "
        f"{', '.join(hints[:-1])} or {hints[-1]}"
    )
