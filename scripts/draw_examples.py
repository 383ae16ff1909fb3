#!/usr/bin/env python3
"""Draw one example of every picture trainer draws, from the shipped configs: docs/pictures.md's.

    python scripts/draw_examples.py                     # every example, into docs/images/
    python scripts/draw_examples.py --only run evaluation --out /tmp/pictures

Each example runs the commands a user would type (trainer.cli.main, in this process, each printed)
in a scratch directory holding a copy of configs/, so that the paths a picture names read as a
user's (runs/..., tests/golden/...), and copies each picture into OUT under the name PICTURES gives
it. Every config's seed is fixed, so one checkout, numpy and matplotlib draw the same pictures.

The failed curve check needs a curve that departs from its golden while the config stays: a change
of the code. Here the change is made in this process only: from epoch 16 on, the optimizer's steps
use a learning rate 10% higher than the schedule's.
"""

import argparse
import contextlib
import io
import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.cli import main  # noqa: E402
from trainer.training import loop  # noqa: E402

DPI = 80  # small files for the manual; each command's --dpi draws its pictures at any size
OUT = ROOT / "docs" / "images"


def trainer(*args, codes=(0,)):
    """Run `trainer ARGS` in this process, printing the command; exit with its output when its exit
    code is not one of `codes`."""
    print("$ trainer", shlex.join(args), flush=True)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    if code not in codes:
        sys.exit(f"trainer {shlex.join(args)}: exit {code}\n{out.getvalue()}{err.getvalue()}")


def run(dpi):
    """moons: its curves, test confusion matrix and decision regions, drawn again by `trainer plot`."""
    trainer("train", "configs/moons.yaml", "--out", "runs/moons", "-q", "--no-plots")
    trainer("plot", "runs/moons", "--out", "pictures/run", "--dpi", dpi)


def _seed_group(out, *overrides):
    """moons over seeds 0-4 for 60 epochs into `out`, unless an earlier example trained it."""
    if not Path(out).exists():
        sets = ("--set", "train.epochs=60", *overrides)
        trainer("train", "configs/moons.yaml", *sets, "--seeds", "0-4", "--out", out, "-q", "--no-plots")


def group(dpi):
    """moons over seeds 0-4, 60 epochs: the band of every curve."""
    _seed_group("runs/moons-seeds")
    trainer("plot", "runs/moons-seeds", "--out", "pictures/group", "--dpi", dpi)


def comparison(dpi):
    """The moons seed group (A) against the same seeds with 8 hidden units instead of 100 (B)."""
    _seed_group("runs/moons-seeds")
    _seed_group("runs/moons-h8", "--set", "model.hidden_size=8")
    trainer("compare", "runs/moons-seeds", "runs/moons-h8", "--plot", "pictures/compare.png", "--dpi", dpi)


def sweep(dpi):
    """moons over 5 learning rates x 3 hidden sizes, 3 seeds a trial, 30 epochs: lr 10 at chance."""
    trainer(
        "sweep", "configs/moons.yaml",
        "--grid", "train.lr=0.001,0.01,0.1,1,10",
        "--grid", "model.hidden_size=4,16,64",
        "--seeds", "3", "--set", "train.epochs=30",
        "--out", "sweeps/moons", "--dpi", dpi, "-q",
    )  # fmt: skip


@contextlib.contextmanager
def faster_steps_from_epoch(epoch, factor):
    """Training whose steps from `epoch` (1-based) on use `factor` times the schedule's learning
    rate; the lr recorded stays the schedule's, as a bug in the step would leave it."""
    one_epoch = loop.one_epoch

    def changed(state, X, y, cfg, lr, batches=None, sample_weight=None):
        scale = factor if state.epoch + 1 >= epoch else 1.0
        return one_epoch(state, X, y, cfg, lr * scale, batches, sample_weight)

    with mock.patch.object(loop, "one_epoch", changed):
        yield


def curve_check(dpi):
    """moons' golden of 30 epochs, checked after a change of the code: it departs at epoch 16."""
    trainer("curve", "update", "configs/moons.yaml", "--epochs", "30")
    with faster_steps_from_epoch(16, 1.1):
        trainer("curve", "check", "configs/moons.yaml", "--dpi", dpi, codes=(1,))


def evaluation(dpi):
    """imbalanced (two classes, 1 row in 10 of class 1) on its test split: confusion, ROC, PR."""
    trainer("train", "configs/imbalanced.yaml", "--out", "runs/imbalanced", "-q", "--no-plots")
    trainer("evaluate", "runs/imbalanced", "--plot", "pictures/evaluation", "--dpi", dpi)


# example -> (what draws it, {the picture's name in OUT: the file it draws, in the scratch directory})
PICTURES = {
    "run": (run, {f"run_{n}.png": f"pictures/run/{n}.png" for n in ("curves", "confusion", "boundary")}),
    "group": (group, {"group_band.png": "pictures/group/curves.png"}),
    "comparison": (comparison, {"compare.png": "pictures/compare.png"}),
    "sweep": (
        sweep,
        {
            "sweep_lr.png": "sweeps/moons/sweep_train.lr.png",
            "sweep_hidden_size.png": "sweeps/moons/sweep_model.hidden_size.png",
            "sweep_heatmap.png": "sweeps/moons/sweep_heatmap.png",
            "sweep_curves.png": "sweeps/moons/sweep_curves.png",
        },
    ),
    "curve_check": (curve_check, {"curve_check_failed.png": "tests/golden/moons.failed.png"}),
    "evaluation": (
        evaluation,
        {f"eval_{n}.png": f"pictures/evaluation/{n}.png" for n in ("confusion", "roc", "precision_recall")},
    ),
}


def draw(examples, out, dpi=DPI):
    """Draw `examples` (keys of PICTURES) into directory `out`; {picture name: the path written}."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    written, here = {}, os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            shutil.copytree(ROOT / "configs", "configs")
            for example in examples:
                make, pictures = PICTURES[example]
                make(str(dpi))
                for name, source in pictures.items():
                    written[name] = Path(shutil.copyfile(source, out / name))
        finally:
            os.chdir(here)
    return written


def cli(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", nargs="+", choices=list(PICTURES), default=list(PICTURES), help="these examples")
    p.add_argument("--out", type=Path, default=OUT, help="directory of the pictures (default docs/images)")
    p.add_argument("--dpi", type=int, default=DPI, help=f"dots per inch (default {DPI})")
    args = p.parse_args(argv)
    for name, path in draw(args.only, args.out, args.dpi).items():
        print(f"{name:26} {path.stat().st_size / 1024:6.1f} KB")


if __name__ == "__main__":
    cli()
