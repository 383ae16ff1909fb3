"""A finished run directory read back: its per-epoch records, summary and model, and a model's raw data splits."""
from pathlib import Path

import numpy as np

from trainer.config.load import config_from_dict
from trainer.data.datasets import data_source, fit_scaler, raw_splits
from trainer.errors import DataError, TrainerError
from trainer.storage.files import read_json, read_jsonl
from trainer.storage.modelfile import load_model


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


def model_splits(model):
    """The data.Splits a saved model was trained on, in raw feature units, recreated from its config
    (the same seed draws the same rows, as run.start drew them).

    The data must still be what the model was trained on: the train split must give the model's
    scaler again, else a one-line DataError (a CSV edited since would not). A model trained
    without standardisation has no scaler to check against.
    """
    cfg = config_from_dict(model.config)
    s = raw_splits(cfg.data, np.random.default_rng(cfg.seed))
    if model.scaler_mean is not None:
        mean, scale = fit_scaler(s.train[0], s.feature_names, data_source(cfg.data))
        if not (np.array_equal(mean, model.scaler_mean) and np.array_equal(scale, model.scaler_scale)):
            raise DataError(f"{data_source(cfg.data)}: the data changed since this model was trained "
                            "(its train split no longer gives the model's scaler)")
    return s
