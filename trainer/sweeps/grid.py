"""Hyperparameter sweeps: a grid over config keys, each trial scored on held-out data, run through joblib.

A trial (trial.py) is a function of its config alone (its seed included), never of the worker
that runs it, and runs with BLAS on one thread (jobs.py), whatever its train.threads: so its
scores are the same on every backend and any number of workers; only fit_time differs. Each job
(a trial, or a trial and one seed of --seeds) is keyed by the hash of what decides its outcome
(job_key); given a journal, run_trials appends every outcome to it as the job ends and runs only
the jobs it does not hold yet, so a sweep broken at any moment goes on where it stopped.

Scores are accuracies: on the config's validation split, or over cv folds. `scoring` picks cv:
as given, else the validation split when every trial has one, else DEFAULT_CV folds. Trials rank
by mean accuracy, then mean loss; trials at chance level after every trial that learned, failed
trials last.
"""

import csv
import io
import json
from contextlib import closing
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.model_selection import ParameterGrid

from trainer.config.diff import config_hash
from trainer.config.load import Config, config_to_dict, dump_config, get_key, load_config
from trainer.errors import ConfigError, DivergenceError, TrainerError
from trainer.storage.curvefile import file_sha256
from trainer.storage.files import atomic_write, make_dir, write_json
from trainer.storage.journal import latest
from trainer.sweeps.jobs import run_jobs
from trainer.sweeps.trial import mean_curve, run_trial

# written in this order: results.json, last, marks the sweep finished
RESULT_FILES = ("results.csv", "best.yaml", "results.json")
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
    chance: bool = False  # a fit of it ended at chance level (trial.run_trial): ranked after the rest
    curve: dict | None = None  # metric -> per-epoch mean over its fits and seeds (trial.mean_curve)
    models: list = field(default_factory=list)  # its model files (--keep-models), relative to the sweep
    error: str | None = None  # why the trial failed (one line); its scores are then empty
    failed: str | None = None  # "diverged", or "error" for any other failure
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
            raise _from_grid(e, grid) from None
        trials.append(Trial(params={key: get_key(cfg, key) for key in grid}, config=cfg))
    return trials


def scoring(trials, cv=None):
    """(cv, how): the folds every trial is scored by, and how, in words that say why.

    cv as given; else None (each trial's validation split) when every trial has one; else DEFAULT_CV:
    one way of scoring for all trials, so their scores compare. Folds are fitted from model.init,
    so trials that start from a saved model (model.init_from) are refused folds."""
    chosen, how = _scoring(trials, cv)
    if chosen is not None and any(t.config.model.init_from is not None for t in trials):
        why = f"--cv {cv}" if cv is not None else f"{chosen} folds, as data.val_size is 0"
        raise ConfigError(
            f"model.init_from: a sweep scored by cross-validation ({why}) fits each fold from "
            "model.init, not from a saved model's weights; score on the validation split instead "
            "(no --cv, data.val_size above 0)"
        )
    return chosen, how


def _scoring(trials, cv):
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


def _from_grid(error, grid):
    """The loader's error about one point of the grid, said where it came from: the --grid item(s) of
    the keys it names (its key, and those its problem names), else every --grid item."""
    named = [error.key] if error.key else []
    if callable(error.problem):
        error.problem(lambda key: named.append(key) or key)
    items = [grid[k][0] for k in dict.fromkeys(named) if k in grid] or [grid[k][0] for k in grid]
    return ConfigError(error.problem, error.key, ", ".join(f"--grid {item}" for item in items))


# ------------------------------------------------------------ running them all


@dataclass
class Job:
    trial: int  # index of its trial in grid order
    seed: int | None  # with --seeds: the seed it trains; else None (the trial's own)
    config: Config
    key: str  # job_key: what the journal knows it by


def jobs_of(trials, cv=None, seeds=None):
    """The jobs of a sweep, trial by trial (and seed by seed): what run_trials runs and journals."""
    hashes = {}  # data file -> its hash, read once
    jobs = []
    for i, t in enumerate(trials):
        for seed in [None] if seeds is None else seeds:
            cfg = t.config if seed is None else replace(t.config, seed=seed)
            jobs.append(Job(i, seed, cfg, job_key(cfg, cv, hashes)))
    return jobs


def job_key(cfg, cv, hashes=None):
    """SHA-256 of all that decides a job's outcome: its resolved config, its folds, and the bytes of
    a CSV data file (an edited file is other data). hashes: a cache of file hashes."""
    hashes = {} if hashes is None else hashes
    path = cfg.data.path
    if path is not None and path not in hashes:
        hashes[path] = file_sha256(path)
    config = json.loads(json.dumps(config_to_dict(cfg)))  # tuples -> lists, as a journal reads back
    return config_hash({"config": config, "cv": cv, "data": hashes.get(path)})


def run_trials(
    trials,
    cv=None,
    n_jobs=None,
    backend="loky",
    scheduler=None,
    on_done=lambda trial: None,
    seeds=None,
    journal=None,
    models_dir=None,
):
    """Fill in every trial's outcome through jobs.run_jobs (see it for n_jobs, backend, scheduler
    and Ctrl-C); call on_done(trial) as each job finishes. Returns the trials ranked.

    seeds: train each trial once per seed (its config with only the seed changed); a trial's score
    is then the mean over seeds of each seed's score, its std the spread over seeds (ddof 1).
    journal (storage.journal.Journal): jobs it holds are not run again; each job run is appended
    to it as it ends. models_dir: keep each fit's model there (model_name), written before the
    job is journaled."""
    jobs = jobs_of(trials, cv, seeds)
    held = latest(journal.records) if journal is not None else {}
    outcomes = [held[job.key]["outcome"] if job.key in held else None for job in jobs]
    todo = [j for j, outcome in enumerate(outcomes) if outcome is None]
    calls = [(jobs[j].config, cv, models_dir is not None) for j in todo]
    with closing(run_jobs(run_trial, calls, n_jobs, backend, scheduler, what="trials")) as finished:
        for n, outcome in finished:
            job = jobs[todo[n]]
            outcome = _keep_models(outcome, models_dir, job, cv)
            if journal is not None:
                journal.append(job_record(job, trials[job.trial], outcome))
            outcomes[todo[n]] = outcome
            on_done(trials[job.trial])
    per = 1 if seeds is None else len(seeds)
    for i, trial in enumerate(trials):
        _fill(trial, outcomes[i * per : (i + 1) * per], seeds)
    return rank(trials)


def job_record(job, trial, outcome):
    """A job's line in the journal: its key, then what it was and how it ended."""
    return {
        "key": job.key,
        "trial": job.trial + 1,
        "params": trial.params,
        "seed": job.seed,
        "outcome": outcome,
    }


def model_name(job, fold=None):
    """models/trial-<k>[-seed-<s>][-fold-<f>].npz: k the trial's place in grid order, from 1."""
    seed = "" if job.seed is None else f"-seed-{job.seed}"
    return f"trial-{job.trial + 1}{seed}{'' if fold is None else f'-fold-{fold + 1}'}.npz"


def _keep_models(outcome, models_dir, job, cv):
    """The outcome with its models' bytes written into models_dir and replaced by their names."""
    if "models" not in outcome:
        return outcome
    names = [f"models/{model_name(job, f if cv else None)}" for f in range(len(outcome["models"]))]
    make_dir(models_dir)
    for name, data in zip(names, outcome["models"], strict=True):
        atomic_write(models_dir.parent / name, data)
    return {**outcome, "models": names}


def _fill(trial, results, seeds):
    """A trial's fields from its jobs' outcomes: one job as it is; over seeds, one mean per seed."""
    if seeds is None:
        for name, value in results[0].items():
            setattr(trial, name, value)
        return
    trial.seeds = list(seeds)
    failed = [r for r in results if "error" in r]
    if failed:
        trial.error, trial.failed = failed[0]["error"], failed[0]["failed"]
        return
    trial.scores = [float(np.mean(r["scores"])) for r in results]
    trial.losses = [float(np.mean(r["losses"])) for r in results]
    trial.fit_time = sum(r["fit_time"] for r in results)
    trial.chance = any(r["chance"] for r in results)
    trial.curve = mean_curve([r.get("curve") for r in results])
    trial.models = [name for r in results for name in r.get("models", [])]


def rank(trials):
    """Trials best first: those that learned before those at chance level, then by higher mean
    accuracy, then lower mean loss, then grid order; failed ones last."""
    done = [t for t in trials if t.error is None]

    def key(t):
        return (t.chance, -t.mean, t.loss)

    for t in done:
        t.rank = 1 + sum(key(o) < key(t) for o in done)
    for t in trials:
        t.rank = t.rank if t.error is None else len(done) + 1
    return sorted(trials, key=lambda t: t.rank)  # sorted() is stable: ties keep grid order


# ------------------------------------------------------------ results


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
        "chance": t.chance,
        "models": t.models,
        "fit_time": t.fit_time,
        "error": t.error,
        "curve": t.curve,  # null for a failed trial, or one whose journal record holds no curve
    }


def all_failed(ranked):
    """The error to raise when no trial succeeded (exit 3 when every one diverged), else None."""
    if ranked[0].error is None:
        return None
    kind = DivergenceError if all(t.failed == "diverged" for t in ranked) else TrainerError
    return kind(f"every trial failed; the first: {ranked[0].error}")  # failed trials keep grid order


def failures(ranked):
    """A one-line TrainerError naming the trials that failed other than by diverging, else None."""
    failed = [t for t in ranked if t.failed == "error"]
    if not failed:
        return None
    named = "; ".join(f"{_params_text(t)}: {t.error}" for t in failed)
    return TrainerError(
        f"{len(failed)} of {len(ranked)} trials failed ({named}); results.json holds their errors"
    )


def write_results(out, ranked, config_path, cv):
    """results.csv, best.yaml (the best trial's resolved config) and, last, results.json in `out`,
    each atomically."""
    error = all_failed(ranked)
    if error is not None:
        raise error
    best = ranked[0]
    how = f"{cv}-fold cross-validation" if cv else "the validation split"
    make_dir(out)
    header = [
        "rank",
        *best.params,
        "mean_val_score",
        "std_val_score",
        "mean_val_loss",
        "fit_time",
        "chance",
        "error",
    ]
    rows = [
        [t.rank, *map(_cell, t.params.values()), t.mean, t.std, t.loss, t.fit_time, _cell(t.chance), t.error]
        for t in ranked
    ]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])  # None (a failed trial's score) -> ""
    atomic_write(out / "results.csv", text.getvalue())
    chance = "; every trial is at chance level, this one too (results.json)" if best.chance else ""
    atomic_write(
        out / "best.yaml",
        f"# the best trial of a sweep of {config_path}: {_params_text(best)}\n"
        f"# mean accuracy {best.mean:.4f} on {how}{chance}; train it with: trainer train best.yaml\n"
        + dump_config(best.config),
    )
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
    return best


def _params_text(trial):
    return " ".join(f"{k}={_cell(v)}" for k, v in trial.params.items())


def _cell(v):
    """A grid value as YAML spells it (null, true, false), so it can be pasted back into --grid."""
    return {None: "null", True: "true", False: "false"}[v] if v is None or isinstance(v, bool) else v
