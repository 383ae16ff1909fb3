"""Two run directories or seed groups compared metric by metric, with the seeds' noise counted.

Each side is a run (one value per metric) or a seed group (one per finished seed; diverged seeds
left out). When both are groups over the same seeds the comparison is paired: the difference
B - A seed by seed, its mean and Student's t interval, and in how many seeds B is ahead. Otherwise
it is unpaired: the difference of the means with Welch's interval (stats.welch_difference, which
also says what a single run against a group means). Wall-clock numbers are left out: they measure
the machine, not the model. Runs of different datasets or class sets are not compared.
"""

from dataclasses import dataclass
from pathlib import Path

from trainer import stats
from trainer.config.diff import diff_keys
from trainer.config.load import config_to_dict, load_config
from trainer.config.seed_spec import seeds_text
from trainer.errors import DataError, TrainerError, did_you_mean_path
from trainer.groups.seed_group import GROUP_FILE, is_group, seed_dir
from trainer.storage.curvefile import CLOCK_SUFFIXES, canonical_config
from trainer.storage.files import read_json
from trainer.storage.modelfile import load_model
from trainer.storage.rundir import read_run


@dataclass
class Side:
    path: Path
    group: bool
    seeds: list  # the seeds with values (a run: its config's seed)
    values: dict  # metric -> one value per seed, in seeds' order
    config: dict  # the resolved config (a group's base), as config_to_dict gives it
    classes: list

    def describe(self):
        kind = f"seed group of {len(self.seeds)} seeds ({seeds_text(self.seeds)})" if self.group else "run"
        return f"{self.path} ({kind}{'' if self.group else f', seed {self.seeds[0]}'})"


def load_side(path):
    """A run directory or a finished seed group as a Side; a one-line TrainerError otherwise."""
    path = Path(path)
    if not path.exists():
        raise TrainerError(f"{path}: no such run directory or seed group{did_you_mean_path(path)}")
    if is_group(path):
        return _group_side(path)
    if (path / "summary.json").is_file() and (path / "config.yaml").is_file():
        model, _, summary = read_run(path)
        cfg = load_config(path / "config.yaml")
        return Side(path, False, [cfg.seed], _values([summary]), config_to_dict(cfg), model.classes)
    raise TrainerError(
        f"{path}: not a finished run directory or seed group (no summary.json or {GROUP_FILE}); "
        "give what `trainer train` or `trainer train --seeds` wrote"
    )


def _group_side(path):
    seeds = read_json(path / GROUP_FILE, "seed group file").get("seeds", [])
    unfinished = [s for s in seeds if not (seed_dir(path, s) / "summary.json").is_file()]
    if unfinished:
        raise TrainerError(
            f"{path}: {'seeds' if len(unfinished) > 1 else 'seed'} {', '.join(map(str, unfinished))} of the "
            f"group {'have' if len(unfinished) > 1 else 'has'} not finished; "
            f"finish it with: trainer train --resume {path}"
        )
    summaries = {s: read_json(seed_dir(path, s) / "summary.json") for s in seeds}
    kept = [s for s in seeds if "diverged" not in summaries[s]]
    if not kept:
        raise TrainerError(f"{path}: every seed of the group diverged; nothing to compare")
    classes = load_model(seed_dir(path, kept[0]) / "model.npz").classes
    cfg = load_config(path / "config.yaml")
    return Side(path, True, kept, _values([summaries[s] for s in kept]), config_to_dict(cfg), classes)


def _values(summaries):
    """metric -> values over the summaries, for the metrics every one of them holds, clocks left out."""
    flat = [stats.flatten_numbers(s) for s in summaries]
    keys = [k for k in flat[0] if all(k in f for f in flat) and not _is_clock(k)]
    return {k: [f[k] for f in flat] for k in keys}


def _is_clock(key):
    return key == "seconds" or key.endswith(CLOCK_SUFFIXES)


def direction(metric):
    """+1 when higher is better (accuracy), -1 when lower is (loss), 0 when neither is."""
    name = metric.rpartition(".")[2]
    return 1 if "accuracy" in name else -1 if "loss" in name else 0


def compare(a, b):
    """Compare two sides (paths): a dict with both sides, whether paired, the config keys that
    differ, and per metric both sides' statistics and the difference B - A with its interval."""
    return compare_sides(load_side(a), load_side(b))


def is_paired(a, b):
    """Both sides are groups over the same seeds (more than one): B - A is taken seed by seed."""
    return a.group and b.group and sorted(a.seeds) == sorted(b.seeds) and len(a.seeds) > 1


def paired_values(a, b, key):
    """(A's values, B's values) of a metric, both in A's seed order."""
    order = {s: i for i, s in enumerate(b.seeds)}
    return a.values[key], [b.values[key][order[s]] for s in a.seeds]


def compare_sides(a, b):
    """compare() of two loaded Sides."""
    _same_data(a, b)
    paired = is_paired(a, b)
    metrics = {}
    for key in (k for k in a.values if k in b.values):
        va, vb = a.values[key], b.values[key]
        if paired:
            va, vb = paired_values(a, b, key)
            diff = stats.paired_difference(va, vb)
        else:
            diff = stats.welch_difference(va, vb)
        metrics[key] = {"a": stats.describe(va), "b": stats.describe(vb), **diff, "verdict": _verdict(diff)}
    changed = diff_keys(_without_seed(a.config), _without_seed(b.config))
    return {
        "a": _side_record(a),
        "b": _side_record(b),
        "paired": paired,
        "interval": stats.CI_METHOD,
        "config_diff": [{"key": k, "a": x, "b": y} for k, x, y in changed],
        "metrics": metrics,
    }


def _same_data(a, b):
    """A DataError unless both sides learn the same dataset (and CSV bytes) and the same classes."""
    da, db = (canonical_config(_config(s))["data"] for s in (a, b))
    if (da["dataset"], da["path"]) != (db["dataset"], db["path"]):
        what = (da["dataset"], db["dataset"]) if da["dataset"] != db["dataset"] else ("a CSV", "another CSV")
        raise DataError(f"cannot compare {a.path} and {b.path}: trained on {what[0]} and {what[1]}")
    if a.classes != b.classes:
        raise DataError(
            f"cannot compare {a.path} and {b.path}: their class sets differ ({a.classes} and {b.classes})"
        )


def _config(side):
    from trainer.config.load import config_from_dict

    return config_from_dict(side.config)


def _without_seed(config):
    return {k: v for k, v in config.items() if k != "seed"}


def _verdict(diff):
    if diff["ci_low"] is None:
        return "no interval"
    if diff["ci_low"] > 0:
        return "B higher"
    if diff["ci_high"] < 0:
        return "B lower"
    return "no clear difference"


def _side_record(side):
    return {"path": str(side.path), "group": side.group, "seeds": side.seeds, "name": side.config["name"]}
