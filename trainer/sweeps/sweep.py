"""Hyperparameter sweeps: a grid over config keys, each trial scored on held-out data, run through joblib.

A trial is a function of its config alone (its seed included), never of the worker that runs it,
and runs with BLAS on one thread (jobs.py), whatever its train.threads: so its scores are the same
on every backend and any number of workers; only fit_time differs.

Scores are accuracies. Without cv a trial is `trainer train`'s own run (runs.run.train_in_memory) scored
on the config's validation split. With cv=K: the dataset is loaded and split exactly as `trainer
train` splits it (the same three draws from default_rng(seed)), its test split is set aside
untouched, and the train and validation rows together are cut into K stratified shuffled folds;
each fold is scored by a TwoLayerNetClassifier fitted on the other K-1, which holds out the same
share of its rows for early stopping as the validation split is of the non-test rows. `scoring`
picks cv: as given, else the validation split when every trial has one, else DEFAULT_CV folds.
"""

import csv
import io
import re
import time
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.model_selection import ParameterGrid, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline

from trainer.config.load import Config, dump_config, get_key, load_config
from trainer.data.datasets import SEED_BOUND
from trainer.data.prepare import raw_splits
from trainer.errors import ConfigError, DataError, DivergenceError, TrainerError, first_line
from trainer.estimator import TwoLayerNetClassifier
from trainer.model.scaling import IMPUTERS
from trainer.runs.run import train_in_memory
from trainer.storage.files import atomic_write, make_dir, write_json
from trainer.storage.rundir import check_unused
from trainer.sweeps.jobs import run_jobs
from trainer.training.loop import loss_and_accuracy
from trainer.training.weights import class_weight_by_index

SWEEP_FILES = ("results.csv", "results.json", "best.yaml")
# folds when a trial has no validation split (data.val_size 0, the default): scikit-learn's own
# default (cross_validate, GridSearchCV); each network learns from 80% of the non-test rows, and
# every shipped config has at least 38 such rows of each class, so every fold holds every class
DEFAULT_CV = 5


@dataclass
class Trial:
    params: dict  # dotted key -> the resolved value it takes in this trial
    config: Config
    scores: list = field(default_factory=list)  # accuracy on each fold (one: the validation split);
    losses: list = field(default_factory=list)  # cross-entropy, likewise: breaks ties of accuracy;
    # over seeds (run_trials' seeds), each of the two holds one mean over the folds per seed
    seeds: list | None = None
    fit_time: float = 0.0  # seconds spent fitting, all folds together
    error: str | None = None  # why the trial failed (it diverged); its scores are then empty
    rank: int = 0  # 1 = best; trials equal in both means share a rank, failed trials come last

    @property
    def mean(self):
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def std(self):
        """The spread of the scores: over folds (ddof 0), or over seeds (ddof 1, None for one seed)."""
        if not self.scores or (self.seeds and len(self.scores) < 2):
            return None
        return float(np.std(self.scores, ddof=1 if self.seeds else 0))

    @property
    def loss(self):
        return float(np.mean(self.losses)) if self.losses else None


# ------------------------------------------------------------ the grid


def parse_grid(items, overrides=()):
    """`KEY=V1,V2,...` strings -> {key: (item, [value texts])}; a one-line ConfigError for bad syntax."""
    grid, set_keys = {}, {o.partition("=")[0].strip() for o in overrides}
    for item in items:
        key, sep, text = (part.strip() for part in item.partition("="))
        values = [v.strip() for v in text.split(",")]
        if not sep or not key or "" in values:
            raise ConfigError(
                f"--grid {item}: expected KEY=V1,V2,... with no empty value, e.g. --grid train.lr=0.01,0.1,1"
            )
        if key in grid or key in set_keys:
            raise ConfigError(
                f"--grid {item}: '{key}' is already given by {'--grid' if key in grid else '--set'}"
            )
        grid[key] = (item, values)
    return grid


def expand(path, grid, overrides=()):
    """One Trial per point of the grid, each config validated by the config loader.

    Order: ParameterGrid's (keys sorted, the last varying fastest), which also breaks ties in rank.
    """
    load_config(path, overrides)  # the base first: an error there is the file's or --set's, not the grid's
    trials = []
    for point in ParameterGrid({key: values for key, (_, values) in grid.items()}):
        items = [f"{key}={point[key]}" for key in grid]
        try:
            cfg = load_config(path, [*overrides, *items])
        except ConfigError as e:
            raise _from_grid(e, path, grid, items) from None
        trials.append(Trial(params={key: get_key(cfg, key) for key in grid}, config=cfg))
    return trials


def scoring(trials, cv=None):
    """(cv, how): the folds every trial is scored by, and how, in words that say why.

    cv as given; else None (each trial's validation split) when every trial has one; else DEFAULT_CV:
    one way of scoring for all trials, so their scores compare."""
    without = sum(t.config.data.val_size == 0 for t in trials)
    if cv is None and not without:
        return None, "accuracy on each trial's validation split (data.val_size)"
    if cv is not None:
        return cv, f"mean accuracy over {cv}-fold stratified cross-validation (--cv {cv})"
    which = "is 0" if without == len(trials) else f"is 0 in {without} of {len(trials)} trials"
    return DEFAULT_CV, (
        f"mean accuracy over {DEFAULT_CV}-fold stratified cross-validation: the default, "
        f"as data.val_size {which} (no validation split); choose the folds with --cv K"
    )


def _from_grid(error, path, grid, items):
    """The loader's error about one point of the grid, told as the --grid item(s) it names."""
    text = str(error)
    for item in items:
        text = text.removeprefix(f"--set {item}: ")
    text = re.sub(rf"^{re.escape(str(Path(path)))}(:\d+)?: ", "", text)  # a file line the grid value overrode
    named = [k for k in grid if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w.])", text)]
    return ConfigError(f"{', '.join('--grid ' + grid[k][0] for k in named or grid)}: {text}")


# ------------------------------------------------------------ one trial


def run_trial(cfg, cv):
    """One trial's outcome, a function of cfg and cv alone: a dict of Trial fields, or the
    TrainerError that stops the sweep, returned rather than raised so the other trials end cleanly."""
    # the job holds BLAS at one thread; train.threads would set a process-wide limit of its own,
    # lifting the job's and racing the limits of trials on other threads of this process
    cfg = replace(cfg, train=replace(cfg.train, threads=None))
    try:
        scores, losses, seconds = _cross_validate(cfg, cv) if cv else _validate(cfg)
    except DivergenceError as e:  # this trial's own failure: recorded, ranked last
        return {"error": str(e)}
    except TrainerError as e:  # bad data for the whole sweep
        return e
    return {"scores": scores, "losses": losses, "fit_time": seconds}


def _validate(cfg):
    """`trainer train`'s run of cfg (its data recreated, then fitted), scored on its validation split."""
    t0 = time.perf_counter()
    data, state = train_in_memory(cfg)
    seconds = time.perf_counter() - t0
    loss, accuracy = loss_and_accuracy(state.params, *data.val)
    return [accuracy], [loss], seconds


def _cross_validate(cfg, k):
    """Stratified k-fold accuracies on cfg's non-test rows (see the module docstring)."""
    rng = np.random.default_rng(cfg.seed)
    parts = raw_splits(cfg.data, rng)  # prepare's three draws: the same test split
    kept = [p for p in (parts.train, parts.val) if p is not None]
    X, y = np.concatenate([p[0] for p in kept]), np.concatenate([p[1] for p in kept])
    folds = StratifiedKFold(k, shuffle=True, random_state=int(rng.integers(SEED_BOUND)))
    est = TwoLayerNetClassifier.from_config(cfg).set_params(
        random_state=int(rng.integers(SEED_BOUND)),
        val_size=cfg.data.val_size / (1 - cfg.data.test_size),
        # y holds class indices here: the config's labels become indices (weights stay per fold)
        class_weight=_class_weight_by_index(cfg, parts.classes),
    )
    weight_key = "sample_weight"
    if cfg.data.missing in IMPUTERS:  # each fold's imputer fitted on its own training rows
        est = make_pipeline(SimpleImputer(strategy=cfg.data.missing), est)
        weight_key = f"{est.steps[-1][0]}__sample_weight"  # a Pipeline routes a fit parameter by step
    weights = [w for w in (parts.train_weight, parts.val_weight) if w is not None]
    fit_params = {weight_key: np.concatenate(weights)} if weights else {}
    try:
        result = cross_validate(
            est,
            X,
            y,
            cv=folds,
            scoring={"accuracy": "accuracy", "loss": cross_entropy},
            error_score="raise",
            params=fit_params,
        )
    except ValueError as e:  # too few rows of a class for k folds, or for a fold's validation split
        raise DataError(
            f"{k}-fold cross-validation on {len(y)} train and validation rows: {first_line(e)}"
        ) from None
    losses = [float(s) for s in result["test_loss"]]
    return [float(s) for s in result["test_accuracy"]], losses, float(result["fit_time"].sum())


def _class_weight_by_index(cfg, classes):
    """train.class_weight with its labels as class indices (ConfigError naming an unknown label)."""
    try:
        return class_weight_by_index(cfg.train.class_weight, classes, key=str)
    except ValueError as e:
        raise ConfigError(f"train.class_weight: {e}") from None


def cross_entropy(est, X, y):
    """A fitted estimator's mean cross-entropy on (X, y), from the logits as a run's summary has it
    (log_softmax: never clipped); a scorer for cross_validate, which reports it as is."""
    log_proba = est.predict_log_proba(X)
    return float(-np.mean(log_proba[np.arange(len(y)), np.searchsorted(est.classes_, y)]))


# ------------------------------------------------------------ running them all


def run_trials(
    trials, cv=None, n_jobs=None, backend="loky", scheduler=None, on_done=lambda trial: None, seeds=None
):
    """Fill in every trial's scores through jobs.run_jobs (see it for n_jobs, backend and scheduler);
    call on_done(trial) as each job finishes. Returns the trials ranked.

    seeds: train each trial once per seed (its config with only the seed changed); a trial's score
    is then the mean over seeds of each seed's score, its std the spread over seeds (ddof 1)."""
    per = [None] if seeds is None else list(seeds)
    calls = [(t.config if s is None else replace(t.config, seed=s), cv) for t in trials for s in per]
    outcomes_of = [[None] * len(per) for _ in trials]
    stop = {}  # job index -> the TrainerError it returned
    with closing(run_jobs(run_trial, calls, n_jobs, backend, scheduler)) as outcomes:
        for i, outcome in outcomes:
            if isinstance(outcome, TrainerError):
                stop[i] = outcome
            outcomes_of[i // len(per)][i % len(per)] = outcome
            on_done(trials[i // len(per)])
    if stop:
        raise stop[min(stop)]  # the first in grid order, whichever finished first
    for trial, results in zip(trials, outcomes_of, strict=True):
        _fill(trial, results, seeds)
    return rank(trials)


def _fill(trial, results, seeds):
    """A trial's fields from its jobs' outcomes: one job as it is; over seeds, one mean per seed."""
    if seeds is None:
        for name, value in results[0].items():
            setattr(trial, name, value)
        return
    trial.seeds = list(seeds)
    failed = [r["error"] for r in results if "error" in r]
    if failed:
        trial.error = failed[0]
        return
    trial.scores = [float(np.mean(r["scores"])) for r in results]
    trial.losses = [float(np.mean(r["losses"])) for r in results]
    trial.fit_time = sum(r["fit_time"] for r in results)


def rank(trials):
    """Trials best first: higher mean accuracy, then lower mean loss, then grid order; failed ones last."""
    done = [t for t in trials if t.error is None]

    def key(t):
        return (-t.mean, t.loss)

    for t in done:
        t.rank = 1 + sum(key(o) < key(t) for o in done)
    for t in trials:
        t.rank = t.rank if t.error is None else len(done) + 1
    return sorted(trials, key=lambda t: t.rank)  # sorted() is stable: ties keep grid order


# ------------------------------------------------------------ results


def check_out_dir(path, overwrite=False):
    """The sweep's output directory as a Path; refuse one holding an earlier sweep unless told to.

    Not created here: write_results makes it, so a sweep that fails leaves nothing behind."""
    return check_unused(path, SWEEP_FILES, "a sweep", overwrite)


def trial_record(t):
    return {
        "rank": t.rank,
        "params": t.params,
        "mean_val_score": t.mean,
        "std_val_score": t.std,
        "mean_val_loss": t.loss,
        "val_scores": t.scores,
        "val_losses": t.losses,
        "seeds": t.seeds,  # null, or the seeds whose scores val_scores holds (one per seed)
        "fit_time": t.fit_time,
        "error": t.error,
    }


def write_results(out, ranked, config_path, cv):
    """results.json, results.csv and best.yaml (the best trial's resolved config) in `out`, atomically."""
    best = ranked[0]
    if best.error is not None:
        raise DivergenceError(f"every trial failed; the first: {best.error}")
    how = f"{cv}-fold cross-validation" if cv else "the validation split"
    make_dir(out)
    write_json(
        out / "results.json",
        {
            "config": str(config_path),
            "grid": list(best.params),
            "cv": cv,
            "seeds": best.seeds,
            "score": "accuracy",
            "loss": "cross-entropy",
            "trials": [trial_record(t) for t in ranked],
        },
    )
    header = ["rank", *best.params, "mean_val_score", "std_val_score", "mean_val_loss", "fit_time", "error"]
    rows = [
        [t.rank, *map(_cell, t.params.values()), t.mean, t.std, t.loss, t.fit_time, t.error] for t in ranked
    ]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])  # None (a failed trial's score) -> ""
    atomic_write(out / "results.csv", text.getvalue())
    chosen = " ".join(f"{k}={_cell(v)}" for k, v in best.params.items())
    atomic_write(
        out / "best.yaml",
        f"# the best trial of a sweep of {config_path}: {chosen}\n"
        f"# mean accuracy {best.mean:.4f} on {how}; train it with: trainer train best.yaml\n"
        + dump_config(best.config),
    )
    return best


def _cell(v):
    """A grid value as YAML spells it (null, true, false), so it can be pasted back into --grid."""
    return {None: "null", True: "true", False: "false"}[v] if v is None or isinstance(v, bool) else v
