#!/usr/bin/env python3
"""Every shipped config's test accuracy beside scikit-learn's MLPClassifier on the same split.

    python scripts/compare_sklearn.py                 # all of configs/*.yaml
    python scripts/compare_sklearn.py configs/iris.yaml configs/wine.yaml
    python scripts/compare_sklearn.py --blas-threads 1   # steadier seconds when busy (docs/accuracy.md)

Each config is trained through the real code (load_config -> train into a temporary
directory). MLPClassifier keeps its own defaults except the hidden size (the config's) and
random_state (the config's seed). It sees the same standardised rows, and is given the
train and the validation split together: our run holds validation rows out of training (to
watch, or to stop early), MLPClassifier's default needs no such split, so it gets every row
we could have learned from. A config without a test split (spiral_cs231n) is compared
on its training rows, as the case study reports. A config that weighs its classes
(train.class_weight) is scored on both sides by balanced accuracy, the metric it trains for
(MLPClassifier has no class_weight and keeps its default: no weights); every other by accuracy.
Prints a markdown table; exits 1 if any config is below scikit-learn's score, so the script can
guard the claim of docs/accuracy.md.
"""

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.config.load import load_config  # noqa: E402
from trainer.runs.run import start, train  # noqa: E402


def metric(cfg):
    """The summary key and scorer a config is compared by: balanced accuracy when it weighs its classes."""
    if cfg.train.class_weight is not None:
        return "balanced_accuracy", balanced_accuracy_score
    return "accuracy", accuracy_score


def mlp_accuracy(cfg):
    """(score, seconds, split name) of MLPClassifier(hidden_layer_sizes=(H,)) on cfg's split."""
    data = start(cfg)[
        0
    ]  # the run's split, rows and scaler (in the config's dtype, float64 in every shipped one)
    parts = [data.train] + ([data.val] if data.val is not None else [])
    X = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    mlp = MLPClassifier(hidden_layer_sizes=(cfg.model.hidden_size,), random_state=cfg.seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=200 is its default; we keep it
        mlp.fit(X, y)
    seconds = time.perf_counter() - t0
    split, (X_eval, y_eval) = ("test", data.test) if data.test is not None else ("train", data.train)
    return float(metric(cfg)[1](y_eval, mlp.predict(X_eval))), seconds, split


def trainer_accuracy(cfg):
    """(score, seconds, summary) of cfg trained by train into a throwaway directory."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        summary = train(cfg, tmp).summary
        seconds = time.perf_counter() - t0
    split = "test" if "test" in summary else "train"
    return summary[split][metric(cfg)[0]], seconds, summary


def compare(cfg, label=None):
    """One table row (a dict) for a Config."""
    ours, ours_s, summary = trainer_accuracy(cfg)
    theirs, theirs_s, split = mlp_accuracy(cfg)
    return {
        "config": label or cfg.name,
        "dataset": cfg.data.dataset,
        "split": split,
        "metric": metric(cfg)[0].replace("_", " "),
        "rows": f"{summary['n_train']} / {summary['n_val']} / {summary['n_test']}",
        "trainer": ours,
        "mlp": theirs,
        "trainer_s": ours_s,
        "mlp_s": theirs_s,
    }


def markdown(rows):
    """The rows as a markdown table."""
    lines = [
        "| config | dataset | rows: train / val / test | scored on | score | trainer | MLPClassifier "
        "| trainer s | MLP s |",
        "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['dataset']} | {r['rows']} | {r['split']} | {r['metric']} "
            f"| {r['trainer']:.4f} | {r['mlp']:.4f} | {r['trainer_s']:.2f} | {r['mlp_s']:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("configs", nargs="*", type=Path, help="config files (default: configs/*.yaml)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="cap BLAS threads for both (1 steadies the seconds on a busy machine)",
    )
    args = parser.parse_args(argv)
    paths = args.configs or sorted((ROOT / "configs").glob("*.yaml"))
    rows = []
    for path in paths:
        with threadpool_limits(limits=args.blas_threads):
            rows.append(compare(load_config(path), label=path.name))
        print(
            f"{path.name}: trainer {rows[-1]['trainer']:.4f}, MLPClassifier {rows[-1]['mlp']:.4f}",
            file=sys.stderr,
        )
    print(markdown(rows))
    below = [r["config"] for r in rows if r["trainer"] < r["mlp"]]
    if below:
        print(f"below scikit-learn's MLPClassifier: {', '.join(below)}", file=sys.stderr)
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
