"""Curve files: a run's per-epoch metrics with its config and platform, exact to the last bit.

curve.json (format "trainer-curve", version 1) holds:
  name, epochs          the config's name; the epochs it was trained for (a golden may cap them)
  config, config_hash   the canonical resolved config (see canonical_config) and its SHA-256
  platform              numpy, scikit-learn, BLAS, dtype, python, machine, trainer versions
  epochs_run, best_epoch, stopped_early
  metrics               {metric: [one value per epoch]}: train_loss, train_accuracy, val_loss,
                        val_accuracy, lr, ...

Every per-epoch value of the history except wall-clock ones (names ending in CLOCK_SUFFIXES) is a
metric. A curve is written by files.write_json: atomically, indented, one value a line, so that a
diff of two goldens shows the epoch. Floats are written by `json` as Python's `repr` writes them,
the shortest text that reads back to the same float64, so a curve read back is bitwise the curve
written. No timestamps: the same run writes the same bytes.
"""

import hashlib
import json
import platform
from pathlib import Path

import numpy as np

from trainer import __version__
from trainer.config.diff import config_hash
from trainer.config.load import config_to_dict
from trainer.errors import DataError, TrainerError, did_you_mean_path
from trainer.storage.files import read_json

FORMAT, VERSION = "trainer-curve", 1
CLOCK_SUFFIXES = ("_seconds", "_time")  # wall-clock fields change run to run: never compared
METRIC_ORDER = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr")  # reports list these first
FILE_NAME = "curve.json"  # inside a run directory
# config keys added after the first golden curves: left out while at their default, so that a config
# that does not use them keeps the hash its golden holds
ADDED_KEYS = {("data", "missing"): "error"}


def canonical_config(cfg):
    """The resolved config as JSON data, keeping only what can change the numbers.

    `name` is dropped (it only names the run directory), and so are train.checkpoint_* and
    train.engine (the two engines compute one curve, to rounding). A CSV's `data.path` and a
    `model.init_from` model file, absolute after loading and so different on every machine, become
    {"file": its name, "sha256": its bytes' hash}: moving the file leaves the hash alone, editing it
    changes the hash. ADDED_KEYS appear only when moved from their default.
    """
    config = json.loads(json.dumps(config_to_dict(cfg)))  # tuples -> lists, as read back from a file
    config.pop("name", None)
    for (section, key), default in ADDED_KEYS.items():
        if config[section].get(key) == default:
            del config[section][key]
    for key in ("checkpoint_every", "checkpoint_seconds", "engine"):  # never the numbers, beyond rounding
        config["train"].pop(key, None)
    for section, key in (("data", "path"), ("model", "init_from")):
        path = config[section].get(key)
        if path is not None:
            config[section][key] = {"file": Path(path).name, "sha256": file_sha256(path)}
    return config


def file_sha256(path):
    """Hex SHA-256 of a file's bytes; a one-line DataError when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as e:
        raise DataError(f"{path}: cannot read the file to hash it: {e.strerror or e}") from None


def platform_info(dtype):
    """What the numbers may depend on beyond the config: library versions, BLAS, dtype, machine."""
    import sklearn

    return {
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "blas": blas_info(),
        "dtype": str(dtype),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.system(),
        "trainer": __version__,
    }


def blas_info():
    """The BLAS numpy runs on: from threadpoolctl (name, version, kernel, threads), else numpy's build."""
    try:
        from threadpoolctl import threadpool_info

        blas = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
        if blas:  # scipy may load a BLAS of its own: prefer the one shipped with numpy
            lib = next((b for b in blas if "numpy" in str(b.get("filepath"))), blas[0])
            return {
                "name": lib.get("internal_api"),
                "version": lib.get("version"),
                "architecture": lib.get("architecture"),
                "threads": lib.get("num_threads"),
            }
    except ImportError:  # threadpoolctl comes with scikit-learn, but numpy alone also knows its build
        pass
    try:
        built = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"name": built.get("name"), "version": built.get("version")}
    except (TypeError, KeyError):  # numpy < 1.26 has no mode="dicts"
        return {"name": "unknown"}


def is_metric(key):
    """A per-epoch field curves hold and compare: not the epoch number, not a wall-clock measure."""
    return key != "epoch" and not key.endswith(CLOCK_SUFFIXES)


def curve_metrics(history):
    """{metric: [value per epoch]} from the loop's history records, wall-clock fields left out."""
    names = [k for k in history[0] if is_metric(k)] if history else []
    names.sort(key=lambda k: (METRIC_ORDER.index(k) if k in METRIC_ORDER else len(METRIC_ORDER), k))
    return {k: [None if r.get(k) is None else float(r[k]) for r in history] for k in names}


def make_curve(cfg, state, epochs=None):
    """The curve of a finished TrainState trained from cfg (for `epochs`, default train.epochs)."""
    config = canonical_config(cfg)
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": cfg.name,
        "epochs": cfg.train.epochs if epochs is None else epochs,
        "config_hash": config_hash(config),
        "config": config,
        "platform": platform_info(cfg.model.dtype),
        "epochs_run": state.epoch,
        "best_epoch": state.best_epoch,
        "stopped_early": state.stopped_early,
        "metrics": curve_metrics(state.history),
    }


def read_curve(path):
    """Read a curve file, or the curve.json of a run directory; one-line TrainerError if it is not one."""
    path = Path(path)
    if not path.exists():
        what = "curve file" if path.suffix else "curve file or run directory"
        raise TrainerError(f"{path}: no such {what}{did_you_mean_path(path)}")
    if path.is_dir():
        path = path / FILE_NAME
    curve = read_json(path, "curve file")
    _check_curve(curve, path)
    return curve


def _check_curve(curve, path):
    """Raise a one-line TrainerError unless `curve` is a readable trainer-curve of this version."""
    if not isinstance(curve, dict) or curve.get("format") != FORMAT:
        raise TrainerError(f'{path}: not a trainer curve file (no "format": "{FORMAT}")')
    if curve.get("version") != VERSION:
        raise TrainerError(
            f"{path}: curve format version {curve.get('version')!r}; this trainer reads version {VERSION}"
        )
    kinds = {"epochs": int, "config": dict, "metrics": dict, "platform": dict}
    for key, kind in kinds.items():
        if not isinstance(curve.get(key), kind):
            raise TrainerError(f"{path}: curve file has no valid '{key}' (expected {kind.__name__})")
    lengths = {len(v) if isinstance(v, list) else -1 for v in curve["metrics"].values()}
    if len(lengths) > 1 or -1 in lengths:
        raise TrainerError(f"{path}: curve file's metrics are not lists of one value per epoch")
