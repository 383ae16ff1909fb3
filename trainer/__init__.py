"""trainer: a tiny, exact and fast two-layer neural network trainer.

    import trainer
    cfg = trainer.load_config("configs/moons.yaml", ["train.lr=0.01"])
    result = trainer.train(cfg, "runs/try1")        # a RunResult: run_dir, state, model, summary
    model = trainer.load_model("runs/try1/model.npz")
    report = trainer.evaluate(model)                 # its own test split; or trainer.evaluate_csv(model, path, target)
"""

__version__ = "0.1.0"

# name -> module that defines it; imported on first use so `trainer --version` stays quick
_API = {
    "load_config": "trainer.config",
    "train": "trainer.run",
    "load_model": "trainer.modelfile",
    "save_model": "trainer.modelfile",
    "evaluate": "trainer.evaluate",
    "evaluate_csv": "trainer.evaluate",
    "TwoLayerNetClassifier": "trainer.estimator",
}


def __getattr__(name):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'trainer' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])
