"""The model file: a self-describing .npz that loads without pickle and without the training YAML.

Members: W1, b1, W2, b2 (the params), scaler_mean, scaler_scale (standardisation fitted on
the training split; absent when the config did not standardise), imputer_statistics (the values
that fill missing features, fitted on the training split; only with data.missing mean or median),
and metadata, a uint8 array holding UTF-8 JSON: format, format_version, trainer_version, classes,
feature_names, positional_features (the names are x0, x1, ... of data without column names),
target (the label column's header name, or its index in a CSV without a header; null when not
trained on a CSV), the resolved config, final metrics and the SHA-256 of every other member; and,
for a model whose training started from another one's weights (model.init_from), parent_sha256:
that model's SHA-256. Files without positional_features, target or imputer_statistics (older
ones) load too.
"""

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trainer import __version__
from trainer.data.columns import is_positional
from trainer.errors import InputError, ModelFileError
from trainer.model.network import PARAM_NAMES, check_inputs, scores, softmax
from trainer.model.scaling import checked_inputs
from trainer.storage import checkpoint
from trainer.storage.archive import check_fields, digest, pack, unpack
from trainer.storage.files import atomic_write

FORMAT = "trainer.model.network"
FORMAT_VERSION = 1
SCALER_NAMES = ("scaler_mean", "scaler_scale")
IMPUTER = "imputer_statistics"
MEMBERS = re.compile("|".join(PARAM_NAMES + SCALER_NAMES + (IMPUTER, "metadata")))  # the allow-list of names
MAX_METADATA_BYTES = 1 << 20  # a resolved config and a few metrics need kilobytes; refuse more
RUN_MODEL = "model.npz"  # a run directory's model file
LABEL_TYPES = (bool, int, float, str)  # class labels: JSON scalars that read back as themselves (if finite)


def is_label(c):
    """Whether a model file can hold `c` as a class label (the rule of saving and of loading)."""
    return isinstance(c, LABEL_TYPES) and not (isinstance(c, float) and not math.isfinite(c))


@dataclass
class SavedModel:
    """A trained network with everything needed to use it on raw feature rows."""

    params: dict
    classes: list  # the original label of each class index
    feature_names: list
    scaler_mean: np.ndarray | None = None
    scaler_scale: np.ndarray | None = None
    config: dict = field(default_factory=dict)  # the resolved config that trained it
    metrics: dict = field(default_factory=dict)
    trainer_version: str = __version__
    imputer_statistics: np.ndarray | None = None  # (D,) float64: fills a missing feature j
    target: str | int | None = None  # the label column: header name, or index without a header
    positional: bool | None = None  # feature names made up (x0, ...); None: decided by the names
    parent_sha256: str | None = None  # checksum() of the model whose weights training started from

    def __post_init__(self):
        if self.positional is None:
            self.positional = is_positional(self.feature_names)

    @property
    def n_features(self):
        return self.params["W1"].shape[0]

    @property
    def n_classes(self):
        return self.params["W2"].shape[1]

    def transform(self, X):
        """Raw features -> the imputed, standardised inputs of the network, in its dtype.

        InputError at a missing value the model cannot fill, or one that overflows once standardised."""
        dtype = self.params["W1"].dtype
        return checked_inputs(
            X, self.imputer_statistics, self.scaler_mean, self.scaler_scale, dtype, self.feature_names
        )

    def predict_proba(self, X):
        """Class probabilities (N, C) for raw feature rows; InputError at a row whose scores overflow."""
        Z = self.transform(X)
        check_inputs(self.params, Z)
        with np.errstate(over="ignore", invalid="ignore"):  # checked below, in one line
            s = scores(self.params, Z)
        bad = ~np.isfinite(s).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            j = int(np.argmax(np.abs(Z[i])))
            why = f"is too large for the network: its scores overflow {Z.dtype.name}"
            raise InputError(i, j, float(np.asarray(X, dtype=np.float64)[i, j]), why, self.feature_names[j])
        return softmax(s)

    def predict(self, X):
        """Class index (N,) for raw feature rows; `classes[i]` is its label."""
        return self.predict_proba(X).argmax(axis=1)

    def description(self):
        """What the model takes and gives and how it was trained, as a JSON-ready dict: its inputs
        (feature names, by position or by name; the label column), classes, network, input
        handling, training data and settings, final metrics and checksums."""
        data, train = self.config.get("data", {}), self.config.get("train", {})
        splits = {
            s: self.metrics[s] for s in ("train", "val", "test") if isinstance(self.metrics.get(s), dict)
        }
        return {
            "sha256": checksum(self),
            "trainer_version": self.trainer_version,
            "features": list(self.feature_names),
            "positional": self.positional,
            "target": self.target,
            "classes": list(self.classes),
            "network": {
                "inputs": self.n_features,
                "hidden": self.params["W1"].shape[1],
                "classes": self.n_classes,
                "dtype": self.params["W1"].dtype.name,
            },
            "standardized": self.scaler_mean is not None,
            "missing": data.get("missing", "error"),
            "data": {
                k: data.get(k)
                for k in ("dataset", "path", "params", "weight")
                if data.get(k) not in (None, {})
            },
            "seed": self.config.get("seed"),
            "train": {
                k: train.get(k)
                for k in ("optimizer", "lr", "lr_schedule", "epochs", "batch_size", "reg")
                if k in train
            },
            "epochs_run": self.metrics.get("epochs_run"),
            "metrics": {
                s: {k: m[k] for k in ("accuracy", "balanced_accuracy", "loss") if k in m}
                | {"rows": self.metrics.get(f"n_{s}")}
                for s, m in splits.items()
            },
            "parent_sha256": self.parent_sha256,
        }


def _arrays(model):
    arrays = dict(model.params)
    if model.scaler_mean is not None:
        arrays.update(scaler_mean=model.scaler_mean, scaler_scale=model.scaler_scale)
    if model.imputer_statistics is not None:
        arrays[IMPUTER] = model.imputer_statistics
    return arrays


def checksum(model):
    """The SHA-256 of the model's arrays: its file's `sha256`, which loading checks."""
    return digest(_arrays(model))


def model_bytes(model):
    """The .npz file's bytes for `model`."""
    arrays = _arrays(model)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "trainer_version": model.trainer_version,
        "classes": list(model.classes),
        "feature_names": list(model.feature_names),
        "positional_features": bool(model.positional),
        "target": model.target,
        "config": model.config,
        "metrics": model.metrics,
        "sha256": digest(arrays),
    }
    if model.parent_sha256 is not None:
        meta["parent_sha256"] = model.parent_sha256
    return pack(arrays, meta)


def save_model(path, model):
    """Write `model` to `path` atomically."""
    atomic_write(path, model_bytes(model))


def load_model(path):
    """Read and check a model file, or the model.npz of a run directory; raise ModelFileError
    saying which check failed."""
    if Path(path).is_dir():
        path = _model_of_run(Path(path))
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        run_dir = Path(path).parent
        why = checkpoint.unfinished(run_dir) if Path(path).name == RUN_MODEL and run_dir.is_dir() else ""
        raise ModelFileError(f"{path}: no such model file" + (f"; {run_dir}: {why}" if why else "")) from None
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read model file: {e.strerror or e}") from None
    return model_from_bytes(data, path)


def _model_of_run(run_dir):
    """The model.npz of a run directory; a ModelFileError saying why there is none (an unfinished run)."""
    if (run_dir / RUN_MODEL).is_file():
        return run_dir / RUN_MODEL
    why = checkpoint.unfinished(run_dir) or (
        f"no {RUN_MODEL} in this directory; give a model file or a run directory written by `trainer train`"
    )
    raise ModelFileError(f"{run_dir}: {why}")


def model_from_bytes(data, path="<bytes>"):
    """Parse model-file bytes with every check of load_model; never unpickles, never executes code."""
    try:
        arrays, meta = unpack(data, path, MEMBERS, "model file", MAX_METADATA_BYTES)
    except ModelFileError:
        if _is_checkpoint(data, path):
            run_dir = Path(path).parent
            why = checkpoint.unfinished(run_dir) or f"a run; go on with: {checkpoint.resume_command(run_dir)}"
            raise ModelFileError(f"{path}: a training checkpoint, not a model file, of {why}") from None
        raise
    missing = [k for k in PARAM_NAMES if k not in arrays]
    if missing:
        raise ModelFileError(f"{path}: missing member(s) {', '.join(missing)}")
    _check_metadata(meta, path)
    _check_arrays(arrays, meta, path)
    if meta["trainer_version"] != __version__:
        warnings.warn(
            f"{path}: saved by trainer {meta['trainer_version']}, loading with {__version__}", stacklevel=2
        )
    has_scaler = "scaler_mean" in arrays
    return SavedModel(
        params={k: arrays[k] for k in PARAM_NAMES},
        classes=meta["classes"],
        feature_names=meta["feature_names"],
        scaler_mean=arrays["scaler_mean"] if has_scaler else None,
        scaler_scale=arrays["scaler_scale"] if has_scaler else None,
        config=meta["config"],
        metrics=meta["metrics"],
        trainer_version=meta["trainer_version"],
        imputer_statistics=arrays.get(IMPUTER),
        target=meta.get("target", _config_target(meta["config"])),
        positional=meta.get("positional_features"),
        parent_sha256=meta.get("parent_sha256"),
    )


def _config_target(config):
    """The label column of a model file older than the metadata field: its config's data.target."""
    data = config.get("data", {})
    return data.get("target") if data.get("dataset") == "csv" else None


def _is_checkpoint(data, path):
    """Whether the bytes are a checkpoint's (storage/checkpoint.py): readable as one, of its format."""
    try:
        _, meta = unpack(data, path, checkpoint.MEMBERS, "checkpoint", checkpoint.MAX_METADATA_BYTES)
    except ModelFileError:
        return False
    return meta.get("format") == checkpoint.FORMAT


def _check_metadata(meta, path):
    """Format, version and the type of every field; classes and feature names distinct."""
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a trainer model (format is {meta.get('format')!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model format version {meta.get('format_version')!r} is not supported "
            f"(this trainer reads version {FORMAT_VERSION})"
        )
    check_fields(
        meta,
        {
            "trainer_version": str,
            "classes": list,
            "feature_names": list,
            "config": dict,
            "metrics": dict,
            "sha256": str,
        },
        path,
    )
    if "parent_sha256" in meta:
        check_fields(meta, {"parent_sha256": str}, path)
    if not all(is_label(c) for c in meta["classes"]):
        raise ModelFileError(
            f"{path}: metadata field 'classes' must list booleans, integers, finite floats or strings"
        )
    if not all(isinstance(f, str) for f in meta["feature_names"]):
        raise ModelFileError(f"{path}: metadata field 'feature_names' must list strings")
    optional = {"positional_features": bool, "target": (str, int, type(None))}  # absent in older files
    check_fields(meta, {k: kind for k, kind in optional.items() if k in meta}, path)
    for key in ("classes", "feature_names"):
        if len({str(v) for v in meta[key]}) != len(meta[key]):
            raise ModelFileError(f"{path}: metadata field '{key}' lists a name twice")


def _check_arrays(arrays, meta, path):
    """Dtypes, shapes, finiteness and checksum of the arrays against the metadata."""
    for name, a in arrays.items():
        if a.dtype not in (np.float32, np.float64):
            raise ModelFileError(f"{path}: member {name} has dtype {a.dtype}; expected float32 or float64")
    if ("scaler_mean" in arrays) != ("scaler_scale" in arrays):
        raise ModelFileError(f"{path}: scaler_mean and scaler_scale must come together")
    W1, W2 = arrays["W1"], arrays["W2"]
    if W1.ndim != 2 or W2.ndim != 2 or 0 in W1.shape + W2.shape:
        raise ModelFileError(
            f"{path}: W1 and W2 must be non-empty matrices, got shapes {W1.shape} and {W2.shape}"
        )
    (D, H), C = W1.shape, W2.shape[1]
    expected = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,), "scaler_mean": (D,), "scaler_scale": (D,)}
    expected[IMPUTER] = (D,)
    for name, a in arrays.items():
        if a.shape != expected[name]:
            raise ModelFileError(f"{path}: member {name} has shape {a.shape}; expected {expected[name]}")
    if len({arrays[k].dtype for k in PARAM_NAMES}) != 1:
        raise ModelFileError(f"{path}: params mix dtypes")
    if len(meta["classes"]) != C or len(meta["feature_names"]) != D:
        raise ModelFileError(
            f"{path}: metadata lists {len(meta['classes'])} classes and {len(meta['feature_names'])} "
            f"features; the weights have {C} and {D}"
        )
    if digest(arrays) != meta["sha256"]:
        raise ModelFileError(
            f"{path}: checksum mismatch: the arrays were changed after saving (SHA-256 differs)"
        )
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise ModelFileError(f"{path}: member {name} contains NaN or inf")
    if "scaler_scale" in arrays and not (arrays["scaler_scale"] > 0).all():
        raise ModelFileError(f"{path}: member scaler_scale must be > 0 (it divides the features)")
