"""The model file: a self-describing .npz that loads without pickle and without the training YAML.

Members: W1, b1, W2, b2 (the params); scaler_mean, scaler_scale (the standardisation of the
numeric inputs fitted on the training split; absent when the config did not standardise);
imputer_statistics (the values that fill missing numeric inputs; only with data.missing mean or
median); feature_low, feature_high, feature_mean, feature_std (each encoded feature's 1st and 99th
training percentiles, and the mean and spread of its values clipped to them: the drift guard's
reference, data/drift.py); and metadata, a uint8 array holding UTF-8 JSON: format, format_version,
trainer_version, schema (the input columns in order, the categories of the categorical ones, the
classes, the label column, whether inputs are matched by position), preprocessing (data.missing,
data.unknown_category, the missing-value markers, the category filling each categorical column),
the resolved config, the run's `summary` (summary.json: final metrics, epochs run; a model written
by `trainer train`) or the estimator's `history` (its epochs, best epoch and curves; a model written
by TwoLayerNetClassifier.save), and the SHA-256 of every other member; and, for a model whose training
started from another one's weights (model.init_from), parent_sha256: that model's SHA-256.

Files of format version 1 (numeric inputs only, written before categorical columns) load too.
"""

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from trainer import __version__
from trainer.data.preprocess import MISSING, UNKNOWN, Preprocessing
from trainer.data.schema import CATEGORICAL, Schema, numeric_schema
from trainer.data.table import Table, numeric_table
from trainer.errors import InputError, ModelFileError, did_you_mean_path
from trainer.model.network import PARAM_NAMES, check_inputs, scores, softmax
from trainer.storage import checkpoint
from trainer.storage.archive import check_fields, digest, pack, unpack
from trainer.storage.files import atomic_write

FORMAT = "trainer.model.network"
FORMAT_VERSION = 2
READS = (1, 2)  # the format versions this trainer reads
SCALER_NAMES = ("scaler_mean", "scaler_scale")
IMPUTER = "imputer_statistics"
DRIFT_NAMES = ("feature_low", "feature_high", "feature_mean", "feature_std")
MEMBERS = re.compile("|".join(PARAM_NAMES + SCALER_NAMES + DRIFT_NAMES + (IMPUTER, "metadata")))  # allow-list
MAX_METADATA_BYTES = 16 << 20  # a config, a summary and a schema of tens of thousands of columns; refuse more
RUN_MODEL = "model.npz"  # a run directory's model file
LABEL_TYPES = (bool, int, float, str)  # class labels: JSON scalars that read back as themselves (if finite)


def is_label(c):
    """Whether a model file can hold `c` as a class label (the rule of saving and of loading)."""
    return isinstance(c, LABEL_TYPES) and not (isinstance(c, float) and not math.isfinite(c))


@dataclass
class SavedModel:
    """A trained network with everything needed to use it on raw rows."""

    params: dict
    prep: Preprocessing  # its schema (inputs, classes, label column) and the fitted preprocessing
    config: dict = field(default_factory=dict)  # the resolved config that trained it
    summary: dict = field(default_factory=dict)  # a run's summary.json (trainer train); {} otherwise
    history: dict = field(default_factory=dict)  # an estimator's epochs, best epoch and curves; {} otherwise
    trainer_version: str = __version__
    parent_sha256: str | None = None  # checksum() of the model whose weights training started from

    @property
    def schema(self):
        return self.prep.schema

    @property
    def classes(self):
        return self.prep.schema.classes

    @property
    def feature_names(self):
        """The encoded features' names, in the network's input order."""
        return self.prep.schema.feature_names

    @property
    def positional(self):
        return self.prep.schema.positional

    @property
    def target(self):
        return self.prep.schema.target

    @property
    def n_features(self):
        return self.params["W1"].shape[0]

    @property
    def n_classes(self):
        return self.params["W2"].shape[1]

    def table(self, X):
        """X as a Table of this model's inputs: a Table as it is, numeric rows (n, inputs) as numbers."""
        return X if isinstance(X, Table) else numeric_table(X, self.schema)

    def transform(self, X, unknown=None):
        """Raw rows (a Table, or numeric rows) -> the network's inputs in its dtype.

        InputError at a value the model cannot take (preprocess.Preprocessing.transform)."""
        return self.prep.transform(self.table(X), self.params["W1"].dtype, unknown)

    def predict_proba(self, X, unknown=None):
        """Class probabilities (N, C) for raw rows; InputError at a row whose scores overflow.
        unknown: as Preprocessing.transform takes it ("ignore" for the splits of its own data)."""
        table = self.table(X)
        try:
            return probabilities(self, self.prep.transform(table, self.params["W1"].dtype, unknown))
        except InputError as e:
            j = self.schema.input_of_feature(e.column)
            raise InputError(e.row, j, table.value(e.row, j), e.why, self.schema.inputs[j].name) from None

    def predict(self, X, unknown=None):
        """Class index (N,) for raw rows; `classes[i]` is its label."""
        return self.predict_proba(X, unknown).argmax(axis=1)

    def description(self):
        """What the model takes and gives and how it was trained, as a JSON-ready dict: its inputs
        (each column's kind and categories, by position or by name; the label column), classes,
        network, input handling, training data and settings, final metrics and checksums."""
        data, train = self.config.get("data", {}), self.config.get("train", {})
        splits = {
            s: self.summary[s] for s in ("train", "val", "test") if isinstance(self.summary.get(s), dict)
        }
        prep = self.prep
        return {
            "sha256": checksum(self),
            "trainer_version": self.trainer_version,
            "inputs": [
                {"name": c.name, "kind": c.kind}
                | ({"categories": list(c.categories)} if c.kind == CATEGORICAL else {})
                for c in self.schema.inputs
            ],
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
            "standardized": prep.scaler_mean is not None,
            "missing": prep.missing,
            "na_values": list(prep.na_values),
            "unknown_category": prep.unknown_category,
            "data": {
                k: data.get(k)
                for k in ("dataset", "path", "params", "weight", "drop")
                if data.get(k) not in (None, {}, [])
            },
            "seed": self.config.get("seed"),
            "train": {
                k: train.get(k)
                for k in ("optimizer", "lr", "lr_schedule", "epochs", "batch_size", "reg")
                if k in train
            },
            "epochs_run": self.summary.get("epochs_run", self.history.get("n_iter")),
            "metrics": {
                s: {k: m[k] for k in ("accuracy", "balanced_accuracy", "loss") if k in m}
                | {"rows": self.summary.get(f"n_{s}")}
                for s, m in splits.items()
            },
            "parent_sha256": self.parent_sha256,
        }


def probabilities(model, Z):
    """softmax of the network's scores of inputs Z (N, D); InputError (row, encoded feature) at the
    first row whose scores overflow, naming its largest input."""
    check_inputs(model.params, Z)
    with np.errstate(over="ignore", invalid="ignore"):  # checked below, in one line
        s = scores(model.params, Z)
    bad = ~np.isfinite(s).all(axis=1)
    if bad.any():
        i = int(np.argmax(bad))
        j = int(np.argmax(np.abs(Z[i])))
        why = f"is too large for the network: its scores overflow {Z.dtype.name}"
        raise InputError(i, j, float(Z[i, j]), why, model.feature_names[j])
    return softmax(s)


def _arrays(model):
    arrays = dict(model.params)
    prep = model.prep
    if prep.scaler_mean is not None:
        arrays.update(scaler_mean=prep.scaler_mean, scaler_scale=prep.scaler_scale)
    if prep.fill is not None:
        arrays[IMPUTER] = prep.fill
    if prep.feature_mean is not None:
        arrays.update({k: getattr(prep, k) for k in DRIFT_NAMES})
    return arrays


def checksum(model):
    """The SHA-256 of the model's arrays: its file's `sha256`, which loading checks."""
    return digest(_arrays(model))


def model_bytes(model):
    """The .npz file's bytes for `model`."""
    arrays = _arrays(model)
    prep = model.prep
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "trainer_version": model.trainer_version,
        "schema": prep.schema.to_json(),
        "preprocessing": {
            "missing": prep.missing,
            "unknown_category": prep.unknown_category,
            "na_values": list(prep.na_values),
            "fill_categories": prep.fill_categories,
        },
        "config": model.config,
        **({"summary": model.summary} if model.summary else {}),
        **({"history": model.history} if model.history else {}),
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
        raise ModelFileError(_no_model(Path(path))) from None
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read model file: {e.strerror or e}") from None
    return model_from_bytes(data, path)


def _no_model(path):
    """Why there is no model at `path`: an unfinished run's model.npz, or a path with nothing there
    (a model file, or without a suffix a run directory too), with the nearest that is there."""
    run_dir = path.parent
    why = checkpoint.unfinished(run_dir) if path.name == RUN_MODEL and run_dir.is_dir() else ""
    if why:
        return f"{path}: no such model file; {run_dir}: {why}"
    what = "model file" if path.suffix else "model file or run directory"
    return f"{path}: no such {what}{did_you_mean_path(path)}"


def _model_of_run(run_dir):
    """The model.npz of a run directory; a ModelFileError saying why there is none (an unfinished run)."""
    if (run_dir / RUN_MODEL).is_file():
        return run_dir / RUN_MODEL
    why = checkpoint.unfinished(run_dir) or (
        f"no {RUN_MODEL} in this directory; give a model file or a run directory written by `trainer train`"
        f"{_newest_run_inside(run_dir)}"
    )
    raise ModelFileError(f"{run_dir}: {why}")


def _newest_run_inside(directory):
    """' — the newest run in it: DIR' for a directory of runs (`runs/<name>/`, whose runs are
    `<timestamp>/` directories by default), the one whose model was written last; or ''."""
    models = list(directory.glob(f"*/{RUN_MODEL}"))
    return f" — the newest run in it: {max(models, key=lambda m: m.stat().st_mtime).parent}" if models else ""


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
    _check_format(meta, path)
    schema, prep_meta = _schema(meta, path) if meta["format_version"] >= 2 else _schema_v1(meta, path)
    _check_arrays(arrays, meta, schema, path)
    if meta["trainer_version"] != __version__:
        warnings.warn(
            f"{path}: saved by trainer {meta['trainer_version']}, loading with {__version__}", stacklevel=2
        )
    prep = Preprocessing(
        schema,
        prep_meta["missing"],
        prep_meta["unknown_category"],
        tuple(prep_meta["na_values"]),
        fill=arrays.get(IMPUTER),
        fill_categories=prep_meta.get("fill_categories"),
        scaler_mean=arrays.get("scaler_mean"),
        scaler_scale=arrays.get("scaler_scale"),
        **{k: arrays.get(k) for k in DRIFT_NAMES},
    )
    return SavedModel(
        params={k: arrays[k] for k in PARAM_NAMES},
        prep=prep,
        config=meta["config"],
        summary=meta.get("summary", {}),
        history=meta.get("history", {}),
        trainer_version=meta["trainer_version"],
        parent_sha256=meta.get("parent_sha256"),
    )


def _is_checkpoint(data, path):
    """Whether the bytes are a checkpoint's (storage/checkpoint.py): readable as one, of its format."""
    try:
        _, meta = unpack(data, path, checkpoint.MEMBERS, "checkpoint", checkpoint.MAX_METADATA_BYTES)
    except ModelFileError:
        return False
    return meta.get("format") == checkpoint.FORMAT


def _check_format(meta, path):
    """Format, a version this trainer reads, and the fields every version has."""
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a trainer model (format is {meta.get('format')!r})")
    if meta.get("format_version") not in READS:
        raise ModelFileError(
            f"{path}: model format version {meta.get('format_version')!r} is not supported "
            f"(this trainer reads versions {', '.join(map(str, READS))})"
        )
    check_fields(meta, {"trainer_version": str, "config": dict, "sha256": str}, path)
    check_fields(meta, {k: dict for k in ("summary", "history", "metrics") if k in meta}, path)
    if "parent_sha256" in meta:
        check_fields(meta, {"parent_sha256": str}, path)


def _schema(meta, path):
    """(Schema, preprocessing fields) of a version 2 file, every field checked."""
    check_fields(meta, {"schema": dict, "preprocessing": dict}, path)
    s, p = meta["schema"], meta["preprocessing"]
    check_fields(
        s,
        {
            "inputs": list,
            "categories": dict,
            "classes": list,
            "target": (str, int, type(None)),
            "positional": bool,
        },
        f"{path}: schema",
    )
    check_fields(p, {"missing": str, "unknown_category": str, "na_values": list}, f"{path}: preprocessing")
    _check_classes(s["classes"], path)
    names = s["inputs"]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise ModelFileError(f"{path}: metadata field 'schema.inputs' must list distinct strings")
    known = set(names)
    for name, categories in s["categories"].items():
        if (
            name not in known
            or not isinstance(categories, list)
            or not categories
            or not all(isinstance(c, str) for c in categories)
            or len(set(categories)) != len(categories)
        ):
            raise ModelFileError(
                f"{path}: metadata field 'schema.categories' must map input names to lists of "
                "distinct strings"
            )
    if p["missing"] not in MISSING or p["unknown_category"] not in UNKNOWN:
        raise ModelFileError(f"{path}: metadata field 'preprocessing' names an unknown policy")
    if not all(isinstance(v, str) for v in p["na_values"]):
        raise ModelFileError(f"{path}: metadata field 'preprocessing.na_values' must list strings")
    schema = Schema.from_json(s)
    fill = p.get("fill_categories")
    sizes = [len(c.categories) for c in schema.categorical]
    if fill is not None and not _indices_within(fill, sizes):
        raise ModelFileError(
            f"{path}: metadata field 'preprocessing.fill_categories' does not fit the schema"
        )
    return schema, p


def _indices_within(values, sizes):
    """Whether `values` is a list of one integer in range(n) per n of sizes."""
    return (
        isinstance(values, list)
        and len(values) == len(sizes)
        and all(_is_index(i, n) for i, n in zip(values, sizes, strict=True))
    )


def _is_index(i, n):
    return isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n


def _schema_v1(meta, path):
    """(Schema, preprocessing fields) of a version 1 file: numeric inputs, the policy in its config."""
    check_fields(meta, {"classes": list, "feature_names": list}, path)
    _check_classes(meta["classes"], path)
    names = meta["feature_names"]
    if not all(isinstance(f, str) for f in names) or len(set(names)) != len(names):
        raise ModelFileError(f"{path}: metadata field 'feature_names' must list distinct strings")
    optional = {"positional_features": bool, "target": (str, int, type(None))}
    check_fields(meta, {k: kind for k, kind in optional.items() if k in meta}, path)
    metrics = meta.pop(
        "metrics", {}
    )  # format 1 kept a run's summary and an estimator's history under one key
    meta["history" if "n_iter" in metrics else "summary"] = metrics
    data = meta["config"].get("data", {})
    if isinstance(data, dict) and "delimiter" in data:  # the key's name in format 1's configs
        data["sep"] = data.pop("delimiter")
    target = meta.get("target", data.get("target") if data.get("dataset") == "csv" else None)
    schema = numeric_schema(names, meta["classes"], target, meta.get("positional_features"))
    missing = data.get("missing", "error")
    return schema, {
        "missing": missing if missing in MISSING else "error",
        "unknown_category": "error",
        "na_values": ["", "nan", "NaN", "NAN", "-nan", "+nan"],
    }


def _check_classes(classes, path):
    if not all(is_label(c) for c in classes):
        raise ModelFileError(
            f"{path}: metadata field 'classes' must list booleans, integers, finite floats or strings"
        )
    if len({str(v) for v in classes}) != len(classes):
        raise ModelFileError(f"{path}: metadata field 'classes' lists a name twice")


def _check_arrays(arrays, meta, schema, path):
    """Dtypes, shapes, finiteness and checksum of the arrays against the schema."""
    for name, a in arrays.items():
        if a.dtype not in (np.float32, np.float64):
            raise ModelFileError(f"{path}: member {name} has dtype {a.dtype}; expected float32 or float64")
    for group in (SCALER_NAMES, DRIFT_NAMES):
        if 0 < len(set(group) & set(arrays)) < len(group):
            raise ModelFileError(f"{path}: {' and '.join(group)} must come together")
    W1, W2 = arrays["W1"], arrays["W2"]
    if W1.ndim != 2 or W2.ndim != 2 or 0 in W1.shape + W2.shape:
        raise ModelFileError(
            f"{path}: W1 and W2 must be non-empty matrices, got shapes {W1.shape} and {W2.shape}"
        )
    (D, H), C = W1.shape, W2.shape[1]
    d = len(schema.numeric)
    expected = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,), "scaler_mean": (d,), "scaler_scale": (d,)}
    expected.update({IMPUTER: (d,), **dict.fromkeys(DRIFT_NAMES, (D,))})
    if len(schema.classes) != C or schema.n_features != D:
        raise ModelFileError(
            f"{path}: metadata lists {len(schema.classes)} classes and {schema.n_features} "
            f"features; the weights have {C} and {D}"
        )
    for name, a in arrays.items():
        if a.shape != expected[name]:
            raise ModelFileError(f"{path}: member {name} has shape {a.shape}; expected {expected[name]}")
    if len({arrays[k].dtype for k in PARAM_NAMES}) != 1:
        raise ModelFileError(f"{path}: params mix dtypes")
    if digest(arrays) != meta["sha256"]:
        raise ModelFileError(
            f"{path}: checksum mismatch: the arrays were changed after saving (SHA-256 differs)"
        )
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise ModelFileError(f"{path}: member {name} contains NaN or inf")
    if "scaler_scale" in arrays and not (arrays["scaler_scale"] > 0).all():
        raise ModelFileError(f"{path}: member scaler_scale must be > 0 (it divides the features)")
