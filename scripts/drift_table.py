#!/usr/bin/env python3
"""How often the drift guard warns on honest rows, and how often on columns in another order.

    python scripts/drift_table.py              # every shipped config, 10 seeds
    python scripts/drift_table.py --seeds 20 configs/iris.yaml

The guard (trainer/data/drift.py) judges only the model's preprocessing: each encoded feature's
training mean and spread, fitted on the train split. So no network is trained here: for each
config and seed, the run's data are prepared as `trainer train` prepares them, and the guard sees

- honest rows: the whole test split, and many random draws of 1, 5, 20 and 50 of its rows
  (with replacement; a config without a test split uses its train split);
- shifted rows: the test split with its numeric columns in another order (a rotation by one),
  the headerless, reordered file the guard exists to catch; and its first 20 rows alone.

Prints a markdown table: the share of checks that warned, per kind of rows.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.config.load import load_config  # noqa: E402
from trainer.data.drift import DriftCheck  # noqa: E402
from trainer.data.prepare import prepare  # noqa: E402

SIZES = (1, 5, 20, 50)
DRAWS = 200  # random draws of each size per config and seed


def warns(prep, table):
    check = DriftCheck(prep)
    check.add(prep.encoded(table))
    return bool(check.findings())


def rotated(table):
    """The table with its numeric columns in another order: each takes the next one's values."""
    order = np.roll(np.arange(table.X.shape[1]), -1)
    out = table.take(np.arange(len(table)))
    out.X = np.ascontiguousarray(table.X[:, order])
    return out


def rates(cfg, seeds):
    """{kind of rows: share of checks that warned} for one config over the seeds."""
    counts = {}

    def count(kind, warned):
        n, k = counts.get(kind, (0, 0))
        counts[kind] = (n + 1, k + warned)

    for seed in seeds:
        cfg.seed = seed
        data = prepare(cfg.data, np.random.default_rng(seed))
        prep, honest = data.prep, data.raw.test if data.raw.test is not None else data.raw.train
        rng = np.random.default_rng(1000 + seed)
        count("whole test split", warns(prep, honest))
        for size in SIZES:
            for _ in range(DRAWS):
                count(f"{size} rows", warns(prep, honest.take(rng.integers(len(honest), size=size))))
        if honest.X.shape[1] > 1:
            count("columns rotated", warns(prep, rotated(honest)))
            count("20 rows rotated", warns(prep, rotated(honest.take(np.arange(min(20, len(honest)))))))
    return {kind: k / n for kind, (n, k) in counts.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="*", help="configs (default: every configs/*.yaml)")
    p.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    args = p.parse_args()
    paths = args.configs or sorted(str(c) for c in (ROOT / "configs").glob("*.yaml"))
    kinds = ["whole test split", *(f"{s} rows" for s in SIZES), "columns rotated", "20 rows rotated"]
    print("| config | " + " | ".join(kinds) + " |")
    print("| --- | " + " | ".join("---:" for _ in kinds) + " |")
    for path in paths:
        found = rates(load_config(path), range(args.seeds))
        cells = [f"{found[k]:.3f}" if k in found else "-" for k in kinds]
        print(f"| {Path(path).stem} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
