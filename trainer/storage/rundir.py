"""The run directory: its default name, claiming it for a new run, and a finished run read back."""

from datetime import datetime
from pathlib import Path

from trainer.errors import TrainerError
from trainer.storage.checkpoint import unfinished
from trainer.storage.files import make_dir, read_json, read_jsonl
from trainer.storage.modelfile import load_model

RUN_FILES = ("config.yaml", "metrics.jsonl", "model.npz", "summary.json", "curve.json")


def default_run_dir(cfg, root="runs"):
    """runs/<name>/<timestamp>/, with a suffix if that second is taken."""
    base = Path(root) / cfg.name / datetime.now().strftime("%Y%m%d-%H%M%S")
    path, i = base, 1
    while path.exists():
        path, i = base.with_name(f"{base.name}-{i}"), i + 1
    return path


def new_run_dir(path, overwrite=False):
    """Create the run directory; refuse to write over an earlier run unless told to (an unfinished
    one: saying how to go on with it)."""
    why = unfinished(path)
    if why and not overwrite:
        raise TrainerError(f"{path}: {why}; or choose another --out, or pass --overwrite to start again")
    path = check_unused(path, RUN_FILES, "a run", overwrite)
    make_dir(path)
    return path


def check_unused(path, files, what, overwrite=False):
    """path as a Path; TrainerError if it holds any of `files` (an earlier `what`'s), unless overwrite."""
    path = Path(path)
    taken = [f for f in files if (path / f).exists()]
    if taken and not overwrite:
        raise TrainerError(
            f"{path} already holds {what} ({', '.join(taken)}); choose another --out or pass --overwrite"
        )
    return path


def read_run(run_dir):
    """(SavedModel, per-epoch records, summary) of a run directory; a one-line error unless it is finished."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise TrainerError(
            f"{run_dir}: {'not a directory' if run_dir.exists() else 'no such run directory'}; "
            "give a run directory written by `trainer train`"
        )
    missing = [f for f in ("metrics.jsonl", "model.npz", "summary.json") if not (run_dir / f).is_file()]
    if missing:
        why = unfinished(run_dir) or f"incomplete run: no {', '.join(missing)}"
        raise TrainerError(f"{run_dir}: {why}")
    history = read_jsonl(run_dir / "metrics.jsonl")
    if not history:
        raise TrainerError(f"{run_dir / 'metrics.jsonl'}: no epochs recorded")
    summary = read_json(run_dir / "summary.json")
    if not isinstance(summary, dict):
        raise TrainerError(f"{run_dir / 'summary.json'}: not a JSON object")
    return load_model(run_dir / "model.npz"), history, summary
