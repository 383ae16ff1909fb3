#!/usr/bin/env python3
"""Class weights on imbalanced data: minority recall and balanced accuracy over seeds, beside MLPClassifier.

    python scripts/compare_imbalanced.py                      # configs/imbalanced.yaml, seeds 0-9
    python scripts/compare_imbalanced.py --seeds 20 --blas-threads 1

For each seed the config is trained through the real code (load_config with `seed=S`, then
runs.run.train_in_memory) twice: as written (train.class_weight: balanced) and with
train.class_weight: null. The seed draws the data (make_classification), the splits, the initial
weights and the shuffles, so every seed is another data set too. scikit-learn's
MLPClassifier(hidden_layer_sizes=(H,), random_state=S) gets the same standardised training rows,
once without weights and once with sample_weight=compute_sample_weight("balanced", y), which is
what class_weight="balanced" does (MLPClassifier has no class_weight). Every model is scored on
the run's own test split: the recall of the minority class (fewest training rows), balanced
accuracy (the mean of the per-class recalls) and accuracy. Prints a markdown table of the mean
and standard deviation over the seeds (min-max in brackets), then, seed by seed, on how many the
weights raise the minority recall.
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, balanced_accuracy_score, recall_score
from sklearn.neural_network import MLPClassifier
from sklearn.utils.class_weight import compute_sample_weight
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.config.load import load_config  # noqa: E402
from trainer.model.network import predict  # noqa: E402
from trainer.runs.run import start, train_in_memory  # noqa: E402

METRICS = ("minority recall", "balanced accuracy", "accuracy")


def scores(y, pred, minority):
    """The three METRICS of predictions `pred` against `y`."""
    return (
        recall_score(y, pred, labels=[minority], average="macro"),
        balanced_accuracy_score(y, pred),
        accuracy_score(y, pred),
    )


def ours(path, seed, class_weight):
    """(scores, Config) of the config trained at `seed` with train.class_weight set to `class_weight`."""
    cfg = load_config(path, [f"seed={seed}", f"train.class_weight={class_weight}"])
    data, state = train_in_memory(cfg)
    minority = int(np.bincount(data.train[1]).argmin())
    return scores(data.test[1], predict(state.params, data.test[0]), minority), cfg


def mlp(cfg, balanced):
    """Scores of MLPClassifier on the run's standardised training rows (its test split scored)."""
    data = start(cfg)[0]
    X, y = data.train
    minority = int(np.bincount(y).argmin())
    weight = compute_sample_weight("balanced", y) if balanced else None
    net = MLPClassifier(hidden_layer_sizes=(cfg.model.hidden_size,), random_state=cfg.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=200 is its default; we keep it
        net.fit(X, y, sample_weight=weight)
    return scores(data.test[1], net.predict(data.test[0]), minority)


def summary(values):
    """'mean ± std (min-max)' of a list of numbers."""
    v = np.asarray(values)
    return f"{v.mean():.3f} ± {v.std():.3f} ({v.min():.3f}-{v.max():.3f})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?", type=Path, default=ROOT / "configs/imbalanced.yaml")
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument(
        "--blas-threads", type=int, default=None, help="cap BLAS threads (1 on a busy machine)"
    )
    args = parser.parse_args(argv)
    rows = {
        "trainer, class_weight: balanced": [],
        "trainer, class_weight: null": [],
        'MLPClassifier, sample_weight "balanced"': [],
        "MLPClassifier, no weights": [],
    }
    names = list(rows)
    with threadpool_limits(limits=args.blas_threads):
        for seed in range(args.seeds):
            balanced, cfg = ours(args.config, seed, "balanced")
            rows[names[0]].append(balanced)
            rows[names[1]].append(ours(args.config, seed, "null")[0])
            rows[names[2]].append(mlp(cfg, balanced=True))
            rows[names[3]].append(mlp(cfg, balanced=False))
            print(f"seed {seed}: " + ", ".join(f"{n}: {rows[n][-1][0]:.3f}" for n in names), file=sys.stderr)
    print(f"| model (seeds 0-{args.seeds - 1}) | " + " | ".join(METRICS) + " |")
    print("| --- | " + " | ".join("---:" for _ in METRICS) + " |")
    for name, values in rows.items():
        columns = list(zip(*values, strict=True))
        print(f"| {name} | " + " | ".join(summary(c) for c in columns) + " |")
    for ours_or_theirs in ((names[0], names[1]), (names[2], names[3])):
        gain = [w[0] - u[0] for w, u in zip(*(rows[n] for n in ours_or_theirs), strict=True)]
        raised = sum(g > 0 for g in gain)
        print(
            f"\n{ours_or_theirs[0]} raises minority recall over {ours_or_theirs[1].split(', ')[1]} on "
            f"{raised} of {len(gain)} seeds (by {min(gain):+.3f} to {max(gain):+.3f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
