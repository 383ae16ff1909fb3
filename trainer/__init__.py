"""trainer: a tiny, exact and fast two-layer neural network trainer.

import trainer
cfg = trainer.load_config("configs/moons.yaml", ["train.lr=0.01"])
result = trainer.train(cfg, "runs/try1")           # a RunResult: run_dir, state, model, summary
model = trainer.load_model("runs/try1")          # a run directory or its model.npz
report = trainer.evaluate_model(model)           # its own test split, or evaluate_model(model, X, y)
"""

__version__ = "0.1.0"

# name -> module that defines it; imported on first use so `trainer --version` stays quick
_API = {
    "load_config": "trainer.config.load",
    "load_model": "trainer.storage.modelfile",
    "save_model": "trainer.storage.modelfile",
    "evaluate_csv": "trainer.evaluate",
    "TwoLayerNetClassifier": "trainer.estimator",
}


def train(config, out=None, callbacks=(), overwrite=False):
    """Train a config into a run directory, as `trainer train` does.

    config: a Config, or the path of a YAML config file.
    out: the run directory (default runs/<name>/<timestamp>/); it must not hold an earlier run
        unless overwrite is true.
    callbacks: objects with any of on_train_begin(state), on_epoch_end(state, record), on_train_end(state).
    Returns a RunResult with run_dir, state (params, history, ...), model (SavedModel) and summary.
    """
    from trainer.config.load import load_config
    from trainer.runs import run
    from trainer.storage.rundir import default_run_dir, new_run_dir

    if not hasattr(config, "train"):
        config = load_config(config)
    with new_run_dir(out or default_run_dir(config), overwrite) as run_dir:  # locked while it is written
        return run.train(config, run_dir, callbacks)


def evaluate_model(model, X=None, y=None, split="test"):
    """Metrics of a SavedModel, as `trainer evaluate --json` prints them.

    With X and y (raw feature rows, class indices), on those; without, on a split of the model's
    own data ("train", "val" or "test") recreated from its stored config (equal to that split's
    metrics in its summary.json).
    """
    from trainer.evaluate import evaluate

    return evaluate(model, X, y, split)


def __getattr__(name):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'trainer' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
