"""The model file: a self-describing .npz that loads without pickle and without the training YAML.

Members: W1, b1, W2, b2 (the params), scaler_mean, scaler_scale (standardisation fitted on
the training split; absent when the config did not standardise), and metadata, a uint8 array
holding UTF-8 JSON: format, format_version, trainer_version, classes, feature_names, the
resolved config, final metrics and the SHA-256 of every other member.
"""
import hashlib
import io
import json
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from trainer import __version__
from trainer.data import standardize
from trainer.errors import ModelFileError
from trainer.files import atomic_write, dumps
from trainer.model import PARAM_NAMES, predict_proba

FORMAT = "trainer.model"
FORMAT_VERSION = 1
SCALER_NAMES = ("scaler_mean", "scaler_scale")
MEMBERS = frozenset(PARAM_NAMES + SCALER_NAMES + ("metadata",))
MAX_METADATA_BYTES = 1 << 20  # a resolved config and a few metrics need kilobytes; refuse more


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

    @property
    def n_features(self):
        return self.params["W1"].shape[0]

    @property
    def n_classes(self):
        return self.params["W2"].shape[1]

    def transform(self, X):
        """Raw features -> the standardised inputs of the network, in its dtype."""
        return standardize(X, self.scaler_mean, self.scaler_scale, self.params["W1"].dtype)

    def predict_proba(self, X):
        """Class probabilities (N, C) for raw feature rows."""
        return predict_proba(self.params, self.transform(X))

    def predict(self, X):
        """Class index (N,) for raw feature rows; `classes[i]` is its label."""
        return self.predict_proba(X).argmax(axis=1)


def _arrays(model):
    arrays = dict(model.params)
    if model.scaler_mean is not None:
        arrays.update(scaler_mean=model.scaler_mean, scaler_scale=model.scaler_scale)
    return arrays


def _digest(arrays):
    """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def model_bytes(model):
    """The .npz file's bytes for `model`."""
    arrays = _arrays(model)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "trainer_version": model.trainer_version,
        "classes": list(model.classes),
        "feature_names": list(model.feature_names),
        "config": model.config,
        "metrics": model.metrics,
        "sha256": _digest(arrays),
    }
    meta_bytes = np.frombuffer(dumps(meta).encode("utf-8"), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, metadata=meta_bytes, **arrays)
    return buf.getvalue()


def save_model(path, model):
    """Write `model` to `path` atomically."""
    atomic_write(path, model_bytes(model))


def load_model(path):
    """Read and check a model file; raise ModelFileError saying which check failed."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read model file: {e.strerror or e}") from None
    return model_from_bytes(data, path)


def model_from_bytes(data, path="<bytes>"):
    """Parse model-file bytes with every check of load_model."""
    arrays = _read_members(data, path)
    meta = _read_metadata(arrays.pop("metadata"), path)
    _check_arrays(arrays, meta, path)
    if meta["trainer_version"] != __version__:
        warnings.warn(f"{path}: saved by trainer {meta['trainer_version']}, loading with {__version__}", stacklevel=2)
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
    )


def _read_members(data, path):
    """The archive's arrays, read without pickle; the members must be our allow-list."""
    if data[:1] == b"\x80" or data[:2] in (b"(d", b"(l", b"}q", b"]q"):
        raise ModelFileError(f"{path}: is a Python pickle, not a trainer model; refusing to load it (unpickling can run code)")
    if not data.startswith(b"PK"):
        raise ModelFileError(f"{path}: not a trainer model file (not an .npz archive)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            members = {n[:-4] if n.endswith(".npy") else n for n in names}
            unknown = sorted(members - MEMBERS)
            if unknown:
                raise ModelFileError(f"{path}: unexpected member(s) {', '.join(unknown)}; a trainer model holds only {', '.join(sorted(MEMBERS))}")
            info = zf.getinfo("metadata.npy") if "metadata.npy" in names else None
            if info is not None and info.file_size > MAX_METADATA_BYTES + 1024:
                raise ModelFileError(f"{path}: metadata is {info.file_size} bytes, more than the {MAX_METADATA_BYTES} allowed")
            arrays = {}
            for name in names:
                with zf.open(name) as f:
                    arrays[name[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
    except ModelFileError:
        raise
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise ModelFileError(f"{path}: holds a Python object array; refusing to load it (only numeric arrays are allowed)") from None
        raise ModelFileError(f"{path}: damaged model file ({e})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, zlib.error) as e:
        raise ModelFileError(f"{path}: truncated or damaged model file ({e})") from None
    missing = sorted(set(PARAM_NAMES + ("metadata",)) - set(arrays))
    if missing:
        raise ModelFileError(f"{path}: missing member(s) {', '.join(missing)}")
    return arrays


def _read_metadata(raw, path):
    """The JSON metadata record, checked for format, version and required fields."""
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_METADATA_BYTES:
        raise ModelFileError(f"{path}: metadata must be at most {MAX_METADATA_BYTES} bytes of uint8 JSON")
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ModelFileError(f"{path}: metadata is not valid JSON") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a trainer model (format is {meta.get('format') if isinstance(meta, dict) else None!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: model format version {meta.get('format_version')!r} is not supported (this trainer reads version {FORMAT_VERSION})")
    kinds = {"trainer_version": str, "classes": list, "feature_names": list, "config": dict, "metrics": dict, "sha256": str}
    for key, kind in kinds.items():
        if not isinstance(meta.get(key), kind):
            raise ModelFileError(f"{path}: metadata field '{key}' is missing or not a {kind.__name__}")
    return meta


def _check_arrays(arrays, meta, path):
    """Dtypes, shapes, finiteness and checksum of the arrays against the metadata."""
    for name, a in arrays.items():
        if a.dtype not in (np.float32, np.float64):
            raise ModelFileError(f"{path}: member {name} has dtype {a.dtype}; expected float32 or float64")
    if ("scaler_mean" in arrays) != ("scaler_scale" in arrays):
        raise ModelFileError(f"{path}: scaler_mean and scaler_scale must come together")
    W1, b1, W2, b2 = (arrays[k] for k in PARAM_NAMES)
    D, H = W1.shape if W1.ndim == 2 else (-1, -1)
    C = W2.shape[1] if W2.ndim == 2 else -1
    expected = {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,), "scaler_mean": (D,), "scaler_scale": (D,)}
    for name, a in arrays.items():
        if D < 1 or C < 1 or a.shape != expected[name]:
            raise ModelFileError(f"{path}: member {name} has shape {a.shape}; expected {expected[name]}")
    if len({arrays[k].dtype for k in PARAM_NAMES}) != 1:
        raise ModelFileError(f"{path}: params mix dtypes")
    if len(meta["classes"]) != C or len(meta["feature_names"]) != D:
        raise ModelFileError(f"{path}: metadata lists {len(meta['classes'])} classes and {len(meta['feature_names'])} features; the weights have {C} and {D}")
    if _digest(arrays) != meta["sha256"]:
        raise ModelFileError(f"{path}: checksum mismatch: the arrays were changed after saving (SHA-256 differs)")
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise ModelFileError(f"{path}: member {name} contains NaN or inf")
