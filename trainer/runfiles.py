"""A finished run directory read back: its per-epoch records, summary and model, and its raw data splits."""
from pathlib import Path

import numpy as np

from trainer.data import fit_scaler, load_dataset, split
from trainer.errors import DataError, TrainerError
from trainer.files import read_json, read_jsonl
from trainer.modelfile import load_model


def read_run(run_dir):
    """(SavedModel, per-epoch records, summary) of a run directory; a one-line error if it is not a finished run."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise TrainerError(f"{run_dir}: {'not a directory' if run_dir.exists() else 'no such run directory'}; "
                           "give a run directory written by `trainer train`")
    missing = [f for f in ("metrics.jsonl", "model.npz", "summary.json") if not (run_dir / f).is_file()]
    if missing:
        raise TrainerError(f"{run_dir}: incomplete run: no {', '.join(missing)} (did training finish?)")
    history = read_jsonl(run_dir / "metrics.jsonl")
    if not history:
        raise TrainerError(f"{run_dir / 'metrics.jsonl'}: no epochs recorded")
    summary = read_json(run_dir / "summary.json")
    if not isinstance(summary, dict):
        raise TrainerError(f"{run_dir / 'summary.json'}: not a JSON object")
    return load_model(run_dir / "model.npz"), history, summary


def raw_splits(cfg, model=None):
    """(train, test) as (X, y) in raw feature units, drawn exactly as `data.prepare` drew them for cfg.

    Given the model trained on them, check that the data still are what it was trained on: the
    train split must give the model's scaler again (a CSV edited since would not).
    """
    rng = np.random.default_rng(cfg.seed)
    s = split(load_dataset(cfg.data, rng), cfg.data, rng)
    if model is not None and model.scaler_mean is not None:
        mean, scale = fit_scaler(s.train[0])
        if not (np.array_equal(mean, model.scaler_mean) and np.array_equal(scale, model.scaler_scale)):
            where = cfg.data.path if cfg.data.dataset == "csv" else f"dataset '{cfg.data.dataset}'"
            raise DataError(f"{where}: the data changed since this model was trained (its train split "
                            "no longer gives the model's scaler); the pictures would not show its data")
    return s.train, s.test
