#!/usr/bin/env python3
"""trainer's defaults beside scikit-learn's pipeline on a public table of mixed types, over seeds.

    python scripts/compare_mixed.py            # 5 seeds (needs the dev extra: pip install -e ".[dev]")
    python scripts/compare_mixed.py --seeds 10

The table is the Palmer penguins (344 rows: species, island and sex as text, four measurements
and the year as numbers, NA cells), read from the `palmerpenguins` package, a data package that
ships the CSV: nothing is downloaded. For each seed, a stratified 20% of the rows is held out as
the test set (scikit-learn's train_test_split) and both sides learn `species` from the same
training rows:

- trainer: `trainer train` with its defaults and data.missing: median (the train CSV, the label
  column, no test split of its own), then `trainer evaluate --csv` on the test rows: the real
  command line, in this process;
- scikit-learn: Pipeline(ColumnTransformer(text columns: SimpleImputer(most_frequent) then
  OneHotEncoder(handle_unknown='ignore'); numbers: SimpleImputer(median) then StandardScaler),
  MLPClassifier(random_state=seed)), its defaults otherwise.

Prints a markdown table of test accuracy per seed with the mean and standard deviation of each,
and exits 1 when trainer's mean is more than 0.01 below scikit-learn's.
"""

import argparse
import contextlib
import io
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.cli import main  # noqa: E402

TARGET = "species"
TOLERANCE = 0.01


def penguins_csv():
    """The path of the penguins CSV the palmerpenguins package ships."""
    try:
        from importlib.resources import files

        return Path(str(files("palmerpenguins") / "data" / "penguins.csv"))
    except ModuleNotFoundError:
        sys.exit("needs the palmerpenguins package: pip install -e '.[dev]' (or pip install palmerpenguins)")


def trainer_accuracy(train, test, seed, work):
    """Test accuracy of `trainer train` (defaults, missing: median) on the train rows."""
    train_csv, test_csv, run = work / f"train-{seed}.csv", work / f"test-{seed}.csv", work / f"run-{seed}"
    train.to_csv(train_csv, index=False)
    test.to_csv(test_csv, index=False)
    sets = ["data.missing=median", "data.test_size=0", f"seed={seed}"]
    args = ["train", str(train_csv), "--target", TARGET, "--out", str(run), "-q", "--no-plots"]
    _quiet(args + [a for s in sets for a in ("--set", s)])
    return json.loads(_quiet(["evaluate", str(run), "--csv", str(test_csv), "--json"]))["accuracy"]


def _quiet(argv):
    """trainer's command line in this process; its stdout, or exit with its error."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if code:
        sys.exit(f"trainer {' '.join(argv)}: exit {code}: {err.getvalue().strip()}")
    return out.getvalue()


def sklearn_accuracy(train, test, seed):
    """Test accuracy of scikit-learn's imputer, encoder, scaler and MLPClassifier on the same rows."""
    X, y = train.drop(columns=TARGET), train[TARGET]
    text = [c for c in X.columns if X[c].dtype == object or pd.api.types.is_string_dtype(X[c])]
    numbers = [c for c in X.columns if c not in text]
    prepare = ColumnTransformer(
        [
            (
                "text",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                text,
            ),
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
        ]
    )
    model = make_pipeline(prepare, MLPClassifier(random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=200 is its default; we keep it
        model.fit(X.astype({c: object for c in text}), y)
    return float(model.score(test.drop(columns=TARGET).astype({c: object for c in text}), test[TARGET]))


def main_():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 (default 5)")
    args = p.parse_args()
    frame = pd.read_csv(penguins_csv(), keep_default_na=False, na_values=["NA"])
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for seed in range(args.seeds):
            train, test = train_test_split(frame, test_size=0.2, stratify=frame[TARGET], random_state=seed)
            rows.append(
                (seed, trainer_accuracy(train, test, seed, Path(d)), sklearn_accuracy(train, test, seed))
            )
    ours, theirs = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    print(f"Palmer penguins, {len(frame)} rows, label `{TARGET}`, stratified 20% test split per seed\n")
    print("| seed | trainer (defaults, missing: median) | scikit-learn (pipeline + MLPClassifier) |")
    print("| ---: | ---: | ---: |")
    for seed, a, b in rows:
        print(f"| {seed} | {a:.4f} | {b:.4f} |")
    spread = [f"{v.mean():.4f} ± {v.std(ddof=1):.4f}" for v in (ours, theirs)]
    print(f"| mean ± std | {spread[0]} | {spread[1]} |")
    gap = ours.mean() - theirs.mean()
    print(f"\ntrainer - scikit-learn: {gap:+.4f} (target: >= -{TOLERANCE})")
    return 0 if gap >= -TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main_())
