"""A sweep's output directory: claimed under a lock (storage.rundir), described by sweep.json,
every finished job journaled (storage.journal) as it ends, and resumed from that journal.

OUT/ holds
  sweep.json      what the sweep is: the config file, --grid, --set, --cv, --seeds, --keep-models,
                  and the resolved definition a --resume must match; written first
  journal.jsonl   one line per finished job (a trial, or a trial and a seed): its key (grid.job_key),
                  trial number, params, seed and outcome; fsynced line by line
  models/         with --keep-models: trial-<k>[-seed-<s>][-fold-<f>].npz (grid.model_name)
  results.csv, best.yaml, results.json   the ranked results (grid.write_results); results.json,
                  written last, marks the sweep finished
  trainer.lock    while a process works on the sweep
"""

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from trainer.config.diff import diff_keys, show_diff
from trainer.config.load import config_to_dict, get_key, load_config
from trainer.config.seed_spec import parse_seeds, seeds_text
from trainer.errors import ConfigError, TrainerError, did_you_mean_path
from trainer.storage.files import read_json, write_json
from trainer.storage.journal import Journal, latest, read_journal
from trainer.storage.rundir import DirLock, claim_dir
from trainer.sweeps.grid import RESULT_FILES, expand, jobs_of, parse_grid, scoring

FORMAT, VERSION = "trainer-sweep", 1
SWEEP_FILE, JOURNAL_FILE, MODELS_DIR = "sweep.json", "journal.jsonl", "models"
OWN_FILES = (SWEEP_FILE, JOURNAL_FILE, *RESULT_FILES)


@dataclass
class Sweep:
    """A planned sweep (plan); once started or resumed, also its directory's lock and journal."""

    config: str  # the config file as given: results.json names it
    config_path: str  # the same file, absolute: --resume reads it from anywhere
    grid_items: list  # --grid, as given
    overrides: list  # --set, as given
    cv_asked: int | None  # --cv
    seeds: list | None  # of --seeds
    keep_models: bool
    trials: list
    cv: int | None  # as scoring chose
    how: str
    out: Path | None = None
    lock: DirLock | None = None
    journal: Journal | None = None

    @property
    def models_dir(self):
        return self.out / MODELS_DIR if self.keep_models else None

    @property
    def jobs(self):
        return jobs_of(self.trials, self.cv, self.seeds)

    def journaled(self):
        """How many of this sweep's jobs the journal holds."""
        held = latest(self.journal.records)
        return sum(job.key in held for job in self.jobs)

    def definition(self):
        """What a --resume must match, resolved (so 0.1 and 1e-1 agree), as JSON reads it back: the
        config file, the --set values, the grid's values per key, the folds, seeds, --keep-models."""
        base = load_config(self.config_path)
        with_set = load_config(self.config_path, self.overrides)
        keys = [o.partition("=")[0].strip() for o in self.overrides]
        grid = {k: list(dict.fromkeys(t.params[k] for t in self.trials)) for k in self.trials[0].params}
        return json.loads(
            json.dumps(
                {
                    "config": config_to_dict(base),
                    "set": {k: get_key(with_set, k) for k in keys},
                    "grid": grid,
                    "cv": self.cv,
                    "seeds": self.seeds,
                    "keep_models": self.keep_models,
                }
            )
        )

    def close(self):
        if self.journal is not None:
            self.journal.close()
        if self.lock is not None:
            self.lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def is_sweep(path):
    """True when path is a sweep's directory (it holds sweep.json)."""
    return (Path(path) / SWEEP_FILE).is_file()


def plan(config, grid_items, overrides=(), cv=None, seeds_spec=None, keep_models=False, seeds=None):
    """The Sweep of a config file, --grid items, --set overrides, --cv, --seeds (spec text, or the
    list itself) and --keep-models; every trial's config is checked here."""
    grid = parse_grid(grid_items, overrides)
    trials = expand(config, grid, overrides)
    if (seeds_spec is not None or seeds is not None) and "seed" in grid:
        raise ConfigError("--grid seed=...: the seeds are given by --seeds; drop one of them")
    if seeds_spec is not None:
        seeds = parse_seeds(seeds_spec, trials[0].config.seed)
    chosen, how = scoring(trials, cv)
    if seeds is not None:
        how += f"; each trial trained on {len(seeds)} seeds ({seeds_text(seeds)}): mean and std over seeds"
    return Sweep(
        config=str(config),
        config_path=str(Path(config).resolve()),
        grid_items=list(grid_items),
        overrides=list(overrides),
        cv_asked=cv,
        seeds=seeds,
        keep_models=bool(keep_models),
        trials=trials,
        cv=chosen,
        how=how,
    )


def start(sweep, out, overwrite=False):
    """Claim `out` for the planned sweep (an earlier sweep there is refused unless overwrite), write
    sweep.json and open an empty journal; the Sweep, holding the lock until closed."""
    out = Path(out)
    DirLock(out).check_free()  # a sweep running there is in use, not unfinished
    if (out / SWEEP_FILE).exists() and not (out / "results.json").exists() and not overwrite:
        raise TrainerError(
            f"{out} holds an unfinished sweep; go on with it: trainer sweep --resume {out}, "
            "or choose another --out, or pass --overwrite"
        )
    sweep.out, sweep.lock = out, claim_dir(out, OWN_FILES, "a sweep", overwrite)
    try:
        for name in OWN_FILES:  # an overwritten sweep's: its journal must not pass for this one's
            (out / name).unlink(missing_ok=True)
        for model in (out / MODELS_DIR).glob("trial-*.npz"):
            model.unlink()
        write_json(out / SWEEP_FILE, _meta(sweep))
        sweep.journal = Journal(out / JOURNAL_FILE)
    except BaseException:
        sweep.close()
        raise
    return sweep


def _meta(sweep):
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": sweep.config,
        "config_path": sweep.config_path,
        "grid": sweep.grid_items,
        "set": sweep.overrides,
        "cv": sweep.cv_asked,
        "seeds": sweep.seeds,
        "keep_models": sweep.keep_models,
        "definition": sweep.definition(),
    }


def resume(out, config=None, grid_items=(), overrides=(), cv=None, seeds_spec=None, keep_models=False):
    """The unfinished sweep in `out`, locked, with its journal: what is given (CONFIG, --grid, ...)
    must match the sweep it began as; what is not is taken from sweep.json. A one-line error
    naming the keys that differ, before anything in `out` is touched."""
    out = Path(out)
    meta = _read_meta(out)
    sweep = plan(
        config or meta["config_path"],
        grid_items or meta["grid"],
        overrides or meta["set"],
        meta["cv"] if cv is None else cv,
        seeds_spec,
        keep_models or meta["keep_models"],
        seeds=meta["seeds"] if seeds_spec is None else None,
    )
    changed = diff_keys(meta["definition"], sweep.definition())
    if changed:
        raise ConfigError(
            f"cannot resume {out}: the sweep differs from the one it holds ({show_diff(changed)}); "
            "resume without changes, or start a new sweep"
        )
    read_journal(out / JOURNAL_FILE)  # a damaged journal is refused before the lock is taken
    sweep.config, sweep.out = meta["config"], out
    sweep.lock = DirLock(out).acquire()
    try:
        _read_meta(out)  # again under the lock: another process may have finished it meanwhile
        for tmp in [*out.glob(".*.tmp"), *(out / MODELS_DIR).glob(".*.tmp")]:  # left by a kill mid-write
            tmp.unlink(missing_ok=True)
        sweep.journal = Journal(out / JOURNAL_FILE)
    except BaseException:
        sweep.close()
        raise
    _warn_unmatched(sweep)
    return sweep


def _read_meta(out):
    """sweep.json of an unfinished sweep in `out`; a one-line error when there is none to go on with."""
    if not out.is_dir():
        raise ConfigError(f"{out}: no such sweep directory{did_you_mean_path(out)}")
    if not (out / SWEEP_FILE).is_file():
        raise ConfigError(f"{out}: not a sweep directory (no {SWEEP_FILE}); start a new sweep instead")
    if (out / "results.json").exists():
        raise TrainerError(f"{out}: the sweep has finished (it holds results.json); nothing to resume")
    meta = read_json(out / SWEEP_FILE, "sweep file")
    if not isinstance(meta, dict) or (meta.get("format"), meta.get("version")) != (FORMAT, VERSION):
        raise TrainerError(f"{out / SWEEP_FILE}: not a version-{VERSION} {FORMAT} file")
    missing = [
        k for k in ("config_path", "grid", "set", "cv", "seeds", "keep_models", "definition") if k not in meta
    ]
    if missing:
        raise TrainerError(f"{out / SWEEP_FILE}: no {', '.join(missing)}")
    return meta


def _warn_unmatched(sweep):
    """Journal records that are no job of this sweep: the data file changed since they were run."""
    keys = {job.key for job in sweep.jobs}
    stray = [r for r in latest(sweep.journal.records).values() if r["key"] not in keys]
    if stray:
        warnings.warn(
            f"{sweep.journal.path}: {len(stray)} of its records match no trial of this sweep "
            "(was the data file changed?); those trials run again",
            stacklevel=2,
        )


def discard(sweep):
    """Remove what the sweep wrote (when no trial succeeded, there is nothing to keep), then the
    directory itself if that leaves it empty."""
    sweep.close()
    for name in OWN_FILES:
        (sweep.out / name).unlink(missing_ok=True)
    for model in (sweep.out / MODELS_DIR).glob("trial-*.npz"):
        model.unlink()
    for path in (sweep.out / MODELS_DIR, sweep.out):
        try:
            path.rmdir()
        except OSError:  # not empty, or not there
            pass
