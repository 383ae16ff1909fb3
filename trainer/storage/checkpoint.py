"""Crash-safe checkpoints of a training run, and exact resume from them.

A checkpoint is the TrainState at an epoch end: params, optimizer state, epoch, history,
early-stopping state and the Generator's bit_generator state, with the resolved config and
digests of the config and the prepared data. It is written atomically as
run_dir/checkpoint.npz, the one before it kept as checkpoint.prev.npz, in the model file's
safe container (archive.py: no pickle, sizes bounded, SHA-256 checked).

Resuming (runs.run.resume_config checks the run's config, runs.run.train(resume=True)) recreates the
data and the initial state from the config (all from its seed), then loads the checkpoint over
them, so the run goes on bit for bit as if it had never stopped.
"""

import re
import signal
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer import __version__
from trainer.config.diff import config_hash, diff_keys, show_diff
from trainer.errors import ConfigError, DataError, ModelFileError
from trainer.model.network import PARAM_NAMES
from trainer.storage.archive import check_fields, digest, pack, unpack
from trainer.storage.files import atomic_write, dumps, json_records

CHECKPOINT, PREVIOUS = "checkpoint.npz", "checkpoint.prev.npz"
FORMAT = "trainer.storage.checkpoint"
FORMAT_VERSION = 1
_PARAM = "|".join(PARAM_NAMES)
MEMBERS = re.compile(rf"metadata|history|(params|best)\.({_PARAM})|optimizer\.(t|[a-z0-9_]+\.({_PARAM}))")
MAX_METADATA_BYTES = 1 << 20  # the resolved config and the RNG state: kilobytes
FIELDS = {
    "trainer_version": str,
    "epoch": int,
    "best_score": (float, int, type(None)),
    "best_epoch": int,
    "bad_epochs": int,
    "stopped_early": bool,
    "rng": dict,
    "config": dict,
    "config_sha256": str,
    "data_sha256": str,
    "sha256": str,
}


@dataclass
class Checkpoint:
    """A loaded checkpoint: the arrays by group and the metadata fields (FIELDS)."""

    params: dict
    optimizer: dict  # optimizer.state_dict()
    best_params: dict | None
    history: list
    meta: dict

    @property
    def epoch(self):
        return self.meta["epoch"]


def data_digest(data, parent_sha256=None):
    """SHA-256 of the prepared splits, and of the weights training started from when they came from
    a model file (its checksum, parent_sha256): resuming from other ones would not be exact."""
    parts = {"train": data.train, "val": data.val, "test": data.test}
    arrays = {f"{s}.{i}": a for s, part in parts.items() if part is not None for i, a in enumerate(part)}
    if parent_sha256 is not None:
        arrays["init_from"] = np.frombuffer(parent_sha256.encode(), dtype=np.uint8)
    return digest(arrays)


def checkpoint_bytes(state, history_bytes, config, data_sha):
    """The checkpoint file's bytes for `state`; history_bytes: its history as JSON lines."""
    arrays = {f"params.{k}": v for k, v in state.params.items()}
    arrays.update({f"optimizer.{k}": v for k, v in state.optimizer.state_dict().items()})
    if state.best_params is not None:
        arrays.update({f"best.{k}": v for k, v in state.best_params.items()})
    arrays["history"] = np.frombuffer(history_bytes, dtype=np.uint8)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "trainer_version": __version__,
        "epoch": state.epoch,
        "best_score": state.best_score if np.isfinite(state.best_score) else None,
        "best_epoch": state.best_epoch,
        "bad_epochs": state.bad_epochs,
        "stopped_early": state.stopped_early,
        "rng": state.rng.bit_generator.state,
        "config": config,
        "config_sha256": config_hash(config),
        "data_sha256": data_sha,
        "sha256": digest(arrays),
    }
    return pack(arrays, meta)


def load_checkpoint(path):
    """Read and check a checkpoint file; ModelFileError saying which check failed."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ModelFileError(f"{path}: cannot read checkpoint: {e.strerror or e}") from None
    arrays, meta = unpack(data, path, MEMBERS, "checkpoint", MAX_METADATA_BYTES)
    if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: not a trainer checkpoint of format version {FORMAT_VERSION} "
            f"(format {meta.get('format')!r}, version {meta.get('format_version')!r})"
        )
    check_fields(meta, FIELDS, path)
    if "history" not in arrays or digest(arrays) != meta["sha256"]:
        raise ModelFileError(
            f"{path}: checksum mismatch: the checkpoint was changed after saving (SHA-256 differs)"
        )
    history = _history(arrays["history"], path)
    if len(history) != meta["epoch"]:
        raise ModelFileError(f"{path}: holds {len(history)} history records for epoch {meta['epoch']}")

    def group(prefix):
        return {k[len(prefix) :]: a for k, a in arrays.items() if k.startswith(prefix)}

    return Checkpoint(group("params."), group("optimizer."), group("best.") or None, history, meta)


def _history(raw, path):
    """The history member's JSON lines -> records (nulls stand for non-finite values, as in metrics.jsonl)."""
    try:
        text = raw.tobytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: history is not UTF-8 text") from None
    return json_records(text, f"{path}: history", ModelFileError)


def load_into(state, ckpt, path):
    """Load ckpt into the fresh TrainState of the same config; every check comes before any change."""
    # no best weights yet: the params stand in for them, so there is nothing more to check
    groups = {"params": ckpt.params, "best": ckpt.best_params or state.params}
    for name, group in groups.items():
        for k, p in state.params.items():
            a = group.get(k)
            if a is None or a.shape != p.shape or a.dtype != p.dtype:
                raise ModelFileError(
                    f"{path}: {name}.{k} does not fit the model: expected shape {p.shape} {p.dtype}"
                )
    try:
        np.random.Generator(type(state.rng.bit_generator)()).bit_generator.state = ckpt.meta["rng"]
        state.optimizer.load_state_dict(ckpt.optimizer)  # checks every key first, then loads
    except (ValueError, TypeError, KeyError, OverflowError) as e:
        raise ModelFileError(f"{path}: {e}") from None
    for k in state.params:
        state.params[k][...] = ckpt.params[k]
    state.rng.bit_generator.state = ckpt.meta["rng"]
    m = ckpt.meta
    state.epoch, state.history = m["epoch"], ckpt.history
    state.best_params = (
        None if ckpt.best_params is None else {k: a.copy() for k, a in ckpt.best_params.items()}
    )
    state.best_score = np.inf if m["best_score"] is None else float(m["best_score"])
    state.best_epoch, state.bad_epochs, state.stopped_early = (
        m["best_epoch"],
        m["bad_epochs"],
        m["stopped_early"],
    )


def unfinished(run_dir):
    """For a run directory whose run started and did not finish (config.yaml, no summary.json): a
    sentence saying so, with its newest checkpoint's epoch and the command that goes on; else ''."""
    run_dir = Path(run_dir)
    if (run_dir / "summary.json").exists() or not (run_dir / "config.yaml").exists():
        return ""
    where = "no checkpoint: it would start again"
    for name in (CHECKPOINT, PREVIOUS):
        if not (run_dir / name).exists():
            continue
        try:
            meta = load_checkpoint(run_dir / name).meta
        except ModelFileError:
            where = "its checkpoints are damaged: it would start again"
            continue
        of = meta["config"].get("train", {}).get("epochs", "?")
        where = f"{name} holds epoch {meta['epoch']} of {of}"
        break
    return (
        f"a run that has not finished (no summary.json; {where}); "
        f"if it was interrupted, go on with: {resume_command(run_dir)}"
    )


def resume_command(run_dir):
    """The command that goes on with an interrupted run."""
    return f"trainer train --resume {run_dir}"


def remove_checkpoints(run_dir):
    """Delete run_dir's checkpoints: a finished run holds none."""
    for name in (CHECKPOINT, PREVIOUS):
        (Path(run_dir) / name).unlink(missing_ok=True)


class Checkpointer:
    """Callback: a checkpoint every `checkpoint_every` epochs, at most one per `checkpoint_seconds`,
    and on Ctrl-C (SIGINT) at the end of the epoch under way; then it raises KeyboardInterrupt.

    A second Ctrl-C stops at once (the checkpoint before it stays). Everything else costs an
    epoch end a comparison or two. config: the resolved config as plain data (config_to_dict), as
    a checkpoint stores it. before_save(state) runs just before each checkpoint is written (the
    metrics file, so that on disk it never lags the newest checkpoint).
    """

    def __init__(self, run_dir, config, data, parent_sha256=None, before_save=lambda state: None):
        self.run_dir = Path(run_dir)
        self.parent_sha256 = parent_sha256  # of the model.init_from model the run started from
        self.before_save = before_save
        self.every, self.seconds = config["train"]["checkpoint_every"], config["train"]["checkpoint_seconds"]
        self.config = config
        self.data, self._data_sha = data, None
        self.lines = []  # history records already serialised, one JSON line each
        self.last = 0.0
        self.saved_epoch = 0  # of the newest checkpoint written
        self.interrupted = False
        self._previous_handler = None

    @property
    def data_sha(self):
        """data_digest(data), hashed at the first checkpoint written or read: no checkpoint, no cost."""
        if self._data_sha is None:
            self._data_sha = data_digest(self.data, self.parent_sha256)
        return self._data_sha

    def restore(self, state):
        """Load the newest good checkpoint of run_dir into state; 0 epochs when there is none."""
        for tmp in self.run_dir.glob(".*.tmp"):  # left by a kill in the middle of a write
            tmp.unlink(missing_ok=True)
        for name in (CHECKPOINT, PREVIOUS):
            path = self.run_dir / name
            if not path.exists():
                continue
            try:
                ckpt = load_checkpoint(path)
            except ModelFileError as e:
                warnings.warn(f"{e}; trying the one before it", stacklevel=2)
                continue
            self._check_same_run(ckpt, path)
            load_into(state, ckpt, path)
            return state.epoch
        return 0

    def _check_same_run(self, ckpt, path):
        if ckpt.meta["config_sha256"] != config_hash(self.config):
            changed = show_diff(diff_keys(ckpt.meta["config"], self.config)) or "the hash only"
            raise ConfigError(
                f"{path}: was written with another config ({changed}); "
                "config.yaml was changed after the run started"
            )
        if ckpt.meta["data_sha256"] != self.data_sha:
            what, files = (
                ("data", "CSV") if self.parent_sha256 is None else ("data or model.init_from", "files")
            )
            raise DataError(
                f"{path}: the {what} differ from those the run was trained on (were the {files} changed?)"
            )

    def on_train_begin(self, state):
        self.last = time.monotonic()
        if self.every:
            self._catch_sigint()

    def on_epoch_end(self, state, record):
        if self.interrupted:
            self.save(state)
            raise KeyboardInterrupt(f"checkpoint of epoch {state.epoch} saved")
        if self.every and state.epoch % self.every == 0 and time.monotonic() - self.last >= self.seconds:
            self.save(state)

    def on_train_end(self, state):
        self.close()

    def save(self, state):
        """Write state as the newest checkpoint; the newest before it becomes checkpoint.prev.npz."""
        self.before_save(state)
        self.lines += [dumps(r) + "\n" for r in state.history[len(self.lines) :]]
        data = checkpoint_bytes(state, "".join(self.lines).encode("utf-8"), self.config, self.data_sha)
        atomic_write(self.run_dir / CHECKPOINT, data, backup=self.run_dir / PREVIOUS)
        self.saved_epoch = state.epoch
        self.last = time.monotonic()

    def remove(self):
        """Delete the checkpoints once the run's own files are written."""
        remove_checkpoints(self.run_dir)

    def _catch_sigint(self):
        """Turn Ctrl-C into a flag read at the next epoch end (main thread only; not if SIGINT is ignored)."""
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None):
            self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, signum, frame):
        self.interrupted = True
        signal.signal(signal.SIGINT, self._previous_handler)  # a second Ctrl-C stops at once

    def close(self):
        """Give SIGINT back its previous handler."""
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None
