"""YAML config -> typed, validated Config; `--set key=value` overrides; resolved config -> YAML.

Each component owns its section and its defaults (DataConfig in data/datasets.py, ModelConfig in
model/network.py, TrainConfig in training/loop.py); this module only reads, checks and writes them.
Types are checked by convert.py (against the dataclass annotations), ranges here (RULES).
"""

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from trainer.config.convert import build, convert, dotted_keys
from trainer.data.csvfile import SEPARATORS, WHITESPACE
from trainer.data.datasets import DATASETS, DataConfig, check_dataset_params
from trainer.data.preprocess import MISSING, UNKNOWN
from trainer.data.weights import is_class_weight
from trainer.errors import ConfigError, DataError, did_you_mean
from trainer.model.network import INITS, ModelConfig
from trainer.training.loop import ENGINES, MONITORS, TrainConfig
from trainer.training.optim import OPTIMIZERS, RANGES, SCHEDULES


@dataclass
class Config:
    name: str = "run"  # names the run directory runs/<name>/<timestamp>/; defaults to the file's stem
    seed: int = 0  # seeds the one np.random.Generator behind data, splits, init and shuffling
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def _positive(v):
    return v > 0


def _non_negative(v):
    return v >= 0


def _fraction(v):
    return 0 <= v < 1


def _is_column(c):
    """A column named by its header name or its index."""
    return isinstance(c, str) or (isinstance(c, int) and not isinstance(c, bool))


def _one_of(choices):
    """A rule for a choice: (test, what, choices), the choices for a did-you-mean."""
    return (lambda v: v in choices), f"one of {', '.join(choices)}", choices


# dotted key -> (test, what the value must be[, choices]); type checks come from the dataclass annotations
RULES = {
    "name": (
        lambda v: re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", v) is not None,
        "a plain name (letters, digits, . _ -)",
    ),
    "seed": (_non_negative, "an integer >= 0"),
    "data.dataset": _one_of(DATASETS),
    "data.test_size": (_fraction, "a fraction in [0, 1)"),
    "data.val_size": (_fraction, "a fraction in [0, 1)"),
    "data.missing": _one_of(MISSING),
    "data.unknown_category": _one_of(UNKNOWN),
    "data.max_categories": (_positive, "an integer >= 1"),
    "data.skip_rows": (_non_negative, "an integer >= 0"),
    "data.sep": (
        lambda v: v is None or v in SEPARATORS or v == WHITESPACE or len(v) == 1,
        f"one character, {WHITESPACE}, one of {', '.join(SEPARATORS)}, or null to detect it",
    ),
    "data.drop": (lambda v: all(_is_column(c) for c in v), "a list of column names or indices"),
    "data.categorical": (lambda v: all(_is_column(c) for c in v), "a list of column names or indices"),
    "data.na_values": (lambda v: all(isinstance(c, str) for c in v), "a list of texts (quote numbers)"),
    "model.hidden_size": (_positive, "an integer >= 1"),
    "model.init": _one_of(INITS),
    "model.init_std": (_positive, "a number > 0"),
    "model.dtype": (lambda v: v in ("float64", "float32"), "float64 or float32"),
    "train.epochs": RANGES["epochs"],
    "train.batch_size": (lambda v: v is None or v > 0, "an integer >= 1, or null for the full batch"),
    "train.optimizer": _one_of(OPTIMIZERS),
    "train.lr": (_positive, "a number > 0"),
    "train.momentum": RANGES["momentum"],
    "train.beta1": RANGES["beta1"],
    "train.beta2": RANGES["beta2"],
    "train.eps": RANGES["eps"],
    "train.reg": (_non_negative, "a number >= 0"),
    "train.class_weight": (
        is_class_weight,
        "null, 'balanced', or a mapping label: weight (numbers >= 0)",
    ),
    "train.lr_schedule": _one_of(SCHEDULES),
    "train.lr_decay": (lambda v: 0 < v <= 1, "a number in (0, 1]"),
    "train.lr_step": RANGES["period"],  # the step schedule's period
    "train.lr_min": (_non_negative, "a number >= 0"),
    "train.monitor": _one_of(MONITORS),
    "train.patience": (_positive, "an integer >= 1"),
    "train.min_delta": (_non_negative, "a number >= 0"),
    "train.checkpoint_every": (_non_negative, "an integer >= 0 (0 = no checkpoints)"),
    "train.checkpoint_seconds": (_non_negative, "a number >= 0"),
    "train.engine": _one_of(ENGINES),
    "train.threads": (
        lambda v: v is None or v > 0,
        "an integer >= 1, or null for the BLAS default (all cores)",
    ),
}


PATH_KEYS = ("data.path", "model.init_from")  # file paths: resolved to absolute ones when loaded


class _Where:
    """Says where a key came from: 'file.yaml:12' or '--set key=value'."""

    def __init__(self, source, lines=None, overrides=None):
        self.source, self.lines, self.overrides = source, lines or {}, overrides or {}

    def __call__(self, key):
        for set_key, item in self.overrides.items():  # `--set train.lr.x=1` is where train.lr went wrong
            if set_key == key or set_key.startswith(f"{key}."):
                return f"--set {item}"
        line = self.lines.get(key)
        return f"{self.source}:{line}" if line else str(self.source)

    def error(self, key, problem, named=True):
        """The ConfigError of `problem` about `key`, said where the key came from; named: the
        message leads with the key (a problem that names it itself passes named=False)."""
        return ConfigError(problem, key if named else None, self(key))


def _beside(path):
    """Did-you-mean for a missing config file: the nearest YAML file beside it, or, for a bare file
    name, in ./configs (where the shipped configs are), as a path to paste ('' when none is close)."""
    folders = [path.parent] + ([Path("configs")] if path.parent == Path() else [])
    for folder in folders:
        try:
            paths = {p.stem: str(folder / p.name) for p in folder.iterdir() if p.suffix in (".yaml", ".yml")}
        except OSError:
            continue
        close = did_you_mean(path.stem, paths, shown=paths.__getitem__)  # by stem: '.yaml' is in every name
        if close:
            return close
    return ""


def load_config(path, overrides=()):
    """Read a YAML config file, apply `--set` overrides, and return the validated Config."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file{_beside(path)}") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ConfigError(f"{path}: cannot read config: {e}") from None
    raw, lines = _parse_yaml(text, path)
    raw.setdefault("name", path.stem)
    raw, set_keys = apply_overrides(raw, overrides)
    base = path.resolve().parent
    where = _Where(path, lines, set_keys)
    return _with_paths(config_from_dict(raw, where), base, set_keys, where)


def _with_paths(cfg, base, set_keys, where):
    """cfg with its path keys absolute: relative to the config file's directory `base`; under --set,
    to the working directory."""
    for key in PATH_KEYS:
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value is not None:
            setattr(getattr(cfg, section), name, _resolve_path(key, value, base, key in set_keys, where))
    return cfg


CONFIG_SUFFIXES = (".yaml", ".yml")


def is_config_file(path):
    """Whether a path names a YAML config (by its suffix); anything else is read as a data file."""
    return Path(path).suffix.lower() in CONFIG_SUFFIXES


def config_for_csv(path, overrides=()):
    """The Config that trains on a CSV file with the defaults: data.path (absolute), the run named
    after the file, then the overrides (`--set`, data.target among them)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", path.stem).lstrip(".-") or "run"
    raw = {"name": name, "data": {"path": str(path.resolve())}}
    raw, set_keys = apply_overrides(raw, overrides)
    where = _Where(path, None, set_keys)
    return _with_paths(config_from_dict(raw, where), Path.cwd(), set_keys, where)


def _resolve_path(key, given, base, from_set, where):
    """A path key's value made absolute: relative to the config file's directory `base`, or under
    --set to the current directory (where the command line was typed). A data.path with no file
    there is a DataError saying which directory it was taken relative to; the model file of
    model.init_from is read, and its absence named, where it is loaded."""
    relative_to = Path.cwd() if from_set else base
    try:
        path = (relative_to / os.path.expanduser(given)).resolve()
        exists = path.exists()
    except (OSError, ValueError) as e:  # e.g. a NUL byte in the path
        raise where.error(key, f"not a usable path: {e}") from None
    if key == "data.path" and not exists:
        rule = (
            ""
            if Path(os.path.expanduser(given)).is_absolute()
            else " (a relative data.path given by --set is relative to the current directory)"
            if from_set
            else " (a relative data.path in a config file is relative to the file's directory)"
        )
        raise DataError(f"{where('data.path')}: data.path: {path}: no such file{rule}")
    return str(path)


def _parse_yaml(text, path):
    """YAML text -> (mapping, {dotted key: line}); errors carry the file and line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: malformed YAML: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: malformed YAML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{path}: malformed YAML: nested too deeply") from None
    if raw is None:
        raise ConfigError(
            f"{path}: config file is empty; expected a mapping with data, model and train sections"
        )
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}:1: expected a mapping of keys at the top level, got a {type(raw).__name__}"
        )
    lines = {}
    _key_lines(root, "", lines, path, set())
    return raw, lines


def _key_lines(node, prefix, lines, path, seen):
    """Record the line of every key below a mapping node; refuse duplicate keys.

    seen: ids of the mapping nodes walked; an anchor's alias points back at its node, so
    each node is walked once (and a self-containing mapping does not recurse forever)."""
    if not isinstance(node, yaml.MappingNode) or id(node) in seen:
        return
    seen.add(id(node))
    for key_node, value_node in node.value:
        key = f"{prefix}{key_node.value}"
        if key in lines:
            raise ConfigError(f"{path}:{key_node.start_mark.line + 1}: duplicate key '{key}'")
        lines[key] = key_node.start_mark.line + 1
        _key_lines(value_node, f"{key}.", lines, path, seen)


def apply_overrides(raw, overrides):
    """Apply `key=value` strings (values parsed as YAML scalars) to a raw mapping."""
    raw, set_keys = dict(raw), {}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item}: expected key=value, e.g. --set train.lr=0.01")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except (yaml.YAMLError, RecursionError):
            value = text  # not YAML: keep the text and let validation say what was expected
        parts = key.split(".")
        node = raw
        for part in parts[:-1]:
            child = node.get(part)
            node[part] = child = dict(child) if isinstance(child, dict) else {} if child is None else child
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item}: '{part}' is not a section")
            node = child
        node[parts[-1]] = value
        set_keys[key] = item
    return raw, set_keys


RENAMED = {"data.delimiter": "data.sep"}  # keys written differently now: named in their error


def config_from_dict(raw, where=None):
    """Validate a raw mapping against Config; every problem names its dotted key."""
    where = where or _Where("<config>")
    for old, new in RENAMED.items():
        section, name = old.split(".")
        if isinstance(raw.get(section), dict) and name in raw[section]:
            raise where.error(old, f"unknown key '{old}': write it as '{new}'", named=False)
    cfg = build(Config, raw, where)
    for key, (test, expected, *choices) in RULES.items():
        value = get_key(cfg, key)
        if not test(value):
            hint = did_you_mean(value, choices[0]) if choices and isinstance(value, str) else ""
            raise where.error(key, f"expected {expected}, got {value!r}{hint}")
    _check_together(cfg, where)
    return cfg


def get_key(cfg, key):
    """The value of a dotted key in a Config, data.params.* included (a dict inside it)."""
    for part in key.split("."):
        cfg = cfg[part] if isinstance(cfg, dict) else getattr(cfg, part)
    return cfg


def _check_together(cfg, where):
    """Rules that involve more than one key."""
    d, t = cfg.data, cfg.train
    if d.test_size + d.val_size >= 1:
        raise where.error(
            "data.val_size",
            lambda name: (
                f"{name('data.test_size')} + {name('data.val_size')} must be < 1, got "
                f"{d.test_size} + {d.val_size}"
            ),
            named=False,
        )
    if d.dataset == "csv" and not d.path:
        raise where.error("data.path", "dataset 'csv' needs data.path, the CSV file to read")
    for key, value in (("data.path", d.path), ("data.weight", d.weight)):
        if d.dataset != "csv" and value is not None:
            raise where.error(key, f"only used with dataset 'csv', but data.dataset is '{d.dataset}'")
    both = {str(c) for c in d.drop} & {str(c) for c in d.categorical}
    if both:
        raise where.error("data.drop", f"data.drop and data.categorical both name '{sorted(both)[0]}'", False)
    if t.early_stopping and t.monitor.startswith("val_") and d.val_size == 0:
        raise where.error(
            "train.monitor",
            lambda name: (
                f"'{t.monitor}' needs a validation split, but {name('data.val_size')} is 0 "
                f"(monitor train_loss, or set {name('data.val_size')})"
            ),
        )
    try:
        check_dataset_params(d.dataset, d.params)
    except ConfigError as e:
        raise ConfigError(e.problem, e.key, where("data.params")) from None
    defaults = DATASETS[d.dataset].defaults
    for name, value in d.params.items():  # the numbers rule for the generator's numeric arguments
        kind = type(defaults.get(name))
        if kind in (int, float) and isinstance(value, (bool, int, float, str)):  # not a list of centers
            d.params[name] = convert(value, kind, f"data.params.{name}", where)
    d.params = {**defaults, **d.params}  # resolved: the generator's defaults written out


def known_keys():
    """Every dotted key a config may hold."""
    return dotted_keys(Config)


def config_to_dict(cfg):
    """The resolved config as plain data (every default filled in)."""
    return dataclasses.asdict(cfg)


def dump_config(cfg):
    """The resolved config as YAML text that `load_config` reads back to an equal Config."""
    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False, default_flow_style=False)
