"""Seed groups: one config trained once per seed, through the sweep's jobs, and statistics over them.

OUT/ holds
  group.json       what the group is (format, name, seeds); written first, so --resume finds it
  config.yaml      the resolved config every seed shares but for its seed
  seed-<k>/        the run directory `trainer train CONFIG --set seed=<k> --out OUT/seed-<k>` writes,
                   bit for bit (wall-clock fields aside) at the same BLAS thread count: each job runs
                   BLAS on one thread (jobs.py); its summary.json marks that seed finished
  summary.json     per scalar of the seeds' summaries: n, mean, std, min, median, max, the 95%
                   interval of the mean (stats.py), and every seed's value; the seeds that
                   diverged and those at chance level (with their warnings); written last, it marks
                   the group finished
A run of a group (run_group) trains the seeds not yet finished: a seed directory with a
config.yaml but no summary.json goes on from its checkpoint, so a broken group resumes where it
stopped, never training a finished seed again; the group's directory is locked meanwhile
(storage.rundir), and Ctrl-C is the jobs' (jobs.py). Each seed is a function of its config alone:
the same on every backend and n_jobs.
"""

from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from trainer import stats
from trainer.config.load import Config, dump_config, load_config
from trainer.errors import ConfigError, DivergenceError, TrainerError
from trainer.runs.run import start, train
from trainer.storage.checkpoint import unfinished
from trainer.storage.files import atomic_write, make_dir, read_json, write_json
from trainer.storage.rundir import RUN_FILES, DirLock, check_unused, claim_dir
from trainer.sweeps.jobs import run_jobs

FORMAT, VERSION = "trainer-seed-group", 1
GROUP_FILE = "group.json"
GROUP_FILES = (GROUP_FILE, "summary.json", "curves.png")


@dataclass
class Group:
    out: Path
    config: Config  # the resolved config; each seed replaces its seed
    seeds: list
    lock: DirLock | None = None  # its directory's, while this process works on it

    @property
    def name(self):
        return self.config.name

    def seed_dir(self, seed):
        return seed_dir(self.out, seed)

    def seed_config(self, seed):
        return replace(self.config, seed=seed)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.lock is not None:
            self.lock.release()


def seed_dir(out, seed):
    return Path(out) / f"seed-{seed}"


def is_group(path):
    """True when path is a seed group's directory (it holds group.json)."""
    return (Path(path) / GROUP_FILE).is_file()


def new_group(cfg, seeds, out, overwrite=False):
    """Claim `out` for a new group of cfg over seeds (storage.rundir.claim_dir: the Group holds its
    lock); its data is checked before anything is written. A directory another process is using is
    refused as such; an unfinished group or run there, with the command that goes on with it."""
    files = (*RUN_FILES, *GROUP_FILES)
    out = Path(out)
    DirLock(out).check_free()  # a group or run going on there is in use, not unfinished
    why = None if overwrite else _unfinished(out)
    if why:
        raise TrainerError(f"{out}: {why}; or choose another --out, or pass --overwrite to start again")
    check_unused(out, files, "a run or seed group", overwrite)
    start(replace(cfg, seed=seeds[0]))  # bad data fails here, before the group is made
    lock = claim_dir(out, files, "a run or seed group", overwrite)
    try:
        _write_group(cfg, seeds, out)
    except BaseException:
        lock.release()
        raise
    return Group(out, cfg, list(seeds), lock)


def _unfinished(out):
    """A sentence naming the unfinished group or run in `out`, with the command that goes on; else ''."""
    if is_group(out) and not (out / "summary.json").exists():
        return (
            f"a seed group that has not finished (no summary.json); go on with: trainer train --resume {out}"
        )
    return unfinished(out)


def _write_group(cfg, seeds, out):
    for stale in ("summary.json", "curves.png"):  # an --overwrite'n group's: they would mark it finished
        (out / stale).unlink(missing_ok=True)
    atomic_write(out / "config.yaml", dump_config(cfg))
    write_json(out / GROUP_FILE, {"format": FORMAT, "version": VERSION, "name": cfg.name, "seeds": seeds})


def open_group(out):
    """The unfinished group in `out`, for --resume; a one-line error when there is none to go on with."""
    out = Path(out)
    meta = read_json(out / GROUP_FILE, "seed group file")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise TrainerError(f"{out / GROUP_FILE}: not a version-{VERSION} {FORMAT} file")
    seeds = meta.get("seeds")
    if not isinstance(seeds, list) or not seeds or not all(type(s) is int and s >= 0 for s in seeds):
        raise TrainerError(f"{out / GROUP_FILE}: 'seeds' is not a list of seeds")
    if (out / "summary.json").exists():
        raise TrainerError(f"{out}: the group has finished (it holds summary.json); nothing to resume")
    return Group(out, load_config(out / "config.yaml"), seeds)


def lock_group(group):
    """Lock the group's directory to resume it (group.lock); a group finished meanwhile is refused."""
    group.lock = DirLock(group.out).acquire()
    if (group.out / "summary.json").exists():
        group.lock.release()
        raise TrainerError(f"{group.out}: the group has finished (it holds summary.json); nothing to resume")


def finished(group):
    """The seeds whose run directory holds summary.json."""
    return [s for s in group.seeds if (group.seed_dir(s) / "summary.json").exists()]


def _todo(group):
    """(seed, resume) for each unfinished seed: resume when its directory holds a config.yaml,
    which must be this group's config for that seed."""
    done, todo = set(finished(group)), []
    for seed in group.seeds:
        stored = group.seed_dir(seed) / "config.yaml"
        if seed in done:
            continue
        if stored.exists() and load_config(stored) != group.seed_config(seed):
            raise ConfigError(
                f"{stored}: differs from the group's config.yaml with seed {seed}; "
                "move that directory away or start a new group"
            )
        todo.append((seed, stored.exists()))
    return todo


def run_seed(cfg, run_dir, resume, finish=None):
    """One seed's run into run_dir (a job): its summary; {"diverged": message} when it diverged;
    or the TrainerError that stops the group, returned so that the other seeds end cleanly.
    finish(result): called with the RunResult while its data are in memory (the run's pictures);
    what it raises is left for the caller to find (the pictures missing) and say."""
    try:
        if not resume:
            make_dir(run_dir)  # the group owns its seed directories, under its lock
        result = train(cfg, run_dir, resume=resume, in_job=True)
        if finish is not None:
            try:
                finish(result)
            except Exception:  # a picture must not fail the saved run
                pass
        return result.summary
    except DivergenceError as e:  # this seed's own failure: its directory keeps the finite weights
        return {"diverged": str(e)}
    except TrainerError as e:
        return e


def run_group(group, n_jobs=None, backend="loky", scheduler=None, on_done=lambda seed: None, finish=None):
    """Train every unfinished seed of the group through jobs.run_jobs, calling on_done(seed) as each
    finishes and finish(result) in the job (run_seed); then write and return its summary
    (summarize). Returns (summary, seeds trained now)."""
    todo, stop = _todo(group), {}
    calls = [(group.seed_config(s), group.seed_dir(s), resume, finish) for s, resume in todo]
    with closing(run_jobs(run_seed, calls, n_jobs, backend, scheduler, what="seeds")) as outcomes:
        for i, outcome in outcomes:
            if isinstance(outcome, TrainerError):
                stop[i] = outcome
            on_done(todo[i][0])
    if stop:
        raise stop[min(stop)]  # the first in seed order, whichever finished first
    return summarize(group), [s for s, _ in todo]


def summarize(group):
    """Write OUT/summary.json: statistics of every number of the seeds' summaries; return it.

    Diverged seeds are listed and left out of the statistics; seeds at chance level (their
    summary's "warning") are listed in "chance" and counted: they are what the config does."""
    summaries = {s: read_json(group.seed_dir(s) / "summary.json") for s in group.seeds}
    diverged = {str(s): v["diverged"] for s, v in summaries.items() if "diverged" in v}
    chance = {  # a diverged seed is listed as such, whatever its kept weights say
        str(s): v["warning"] for s, v in summaries.items() if "warning" in v and "diverged" not in v
    }
    values = {s: stats.flatten_numbers(v) for s, v in summaries.items() if str(s) not in diverged}
    keys = list(dict.fromkeys(k for v in values.values() for k in v))
    per_seed = {k: [values[s].get(k) if s in values else None for s in group.seeds] for k in keys}
    summary = {
        "format": "trainer-seed-group-summary",
        "name": group.name,
        "seeds": group.seeds,
        "runs": [f"seed-{s}" for s in group.seeds],
        "n_finite": len(values),
        "diverged": diverged,
        "chance": chance,
        "interval": stats.CI_METHOD,
        "metrics": {
            k: stats.describe([v for v in per_seed[k] if v is not None])
            for k in keys
            if any_value(per_seed[k])
        },
        "per_seed": per_seed,
    }
    write_json(group.out / "summary.json", summary)
    return summary


def any_value(values):
    return any(v is not None for v in values)
