#!/usr/bin/env python3
"""Start-up of the commands that load a model, each a whole process, against bare imports.

Trains a tiny model once (configs/csv_example.yaml, a few epochs, no pictures) into --dir (default:
a new temp directory, deleted at the end) and writes small.csv, the first rows of its CSV; then
runs every command below as a fresh process, --warmup times unmeasured (the .pyc files, the page
cache) and --repeat times measured, the commands taking turns within every round so a busy spell of the
machine hits them all:

  import numpy           python -c "import numpy": the floor of anything that loads a model
  import numpy, pandas   python -c "import numpy, pandas": the floor of reading a CSV with pandas
  help                   trainer --help
  inspect                trainer inspect MODEL
  predict                trainer predict MODEL small.csv
  evaluate               trainer evaluate MODEL (its own test split, recreated from its config)

What is timed is the process from start to exit, as a shell sees it. Prints a markdown table of
median seconds (min-max) and each median as a multiple of the two baselines' medians, measured in
the same rounds; then the targets and whether each holds: inspect within 3x `import numpy`,
predict within 2x `import numpy, pandas`.

    python scripts/bench_startup.py                   # 15 rounds, about a minute
    python scripts/bench_startup.py --repeat 5 --commands inspect,predict
    python scripts/bench_startup.py --model runs/fruit/model.npz --csv data/example.csv
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINES = {"import numpy": ["-c", "import numpy"], "import numpy, pandas": ["-c", "import numpy, pandas"]}
COMMANDS = ("help", "inspect", "predict", "evaluate")
TARGETS = {"inspect": ("import numpy", 3.0), "predict": ("import numpy, pandas", 2.0)}  # within N x
SMALL_ROWS = 20  # data rows of small.csv


def env():
    """os.environ with this checkout first on PYTHONPATH: the processes run this checkout's trainer."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def run(python, args):
    """Seconds from start to exit of `python ARGS`; RuntimeError with its stderr when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [python, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env(), cwd=ROOT, text=True
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return seconds


def train(python, directory):
    """A tiny CSV model, trained once: its model.npz."""
    run_dir, config = directory / "run", ROOT / "configs/csv_example.yaml"
    args = ["train", str(config), "--set", "train.epochs=3", "--out", str(run_dir), "--no-plots", "-q"]
    run(python, ["-m", "trainer", *args])
    return run_dir / "model.npz"


def small_csv(directory):
    """The header and first SMALL_ROWS rows of data/example.csv (the tiny model's own columns)."""
    path = directory / "small.csv"
    with open(ROOT / "data/example.csv") as f:
        path.write_text("".join(line for _, line in zip(range(SMALL_ROWS + 1), f, strict=False)))
    return path


def command_args(name, model, csv):
    return {
        "help": ["-m", "trainer", "--help"],
        "inspect": ["-m", "trainer", "inspect", str(model)],
        "predict": ["-m", "trainer", "predict", str(model), str(csv)],
        "evaluate": ["-m", "trainer", "evaluate", str(model)],
    }[name]


def rounds(python, kinds, repeat, warmup=1):
    """{kind: [seconds per round]}: each kind `warmup` times unmeasured, then `repeat` rounds, each
    in a rotated order."""
    for _ in range(warmup):
        for args in kinds.values():
            run(python, args)
    names, seconds = list(kinds), {k: [] for k in kinds}
    for r in range(repeat):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            seconds[name].append(run(python, kinds[name]))
    return seconds


def report(seconds, shown):
    """The markdown table and the targets, as lines."""
    med = {k: statistics.median(v) for k, v in seconds.items()}
    lines = [
        "| command | median s (min-max) | / import numpy | / import numpy, pandas |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind, runs in seconds.items():
        lines.append(
            f"| {shown[kind]} | {med[kind]:.3f} ({min(runs):.3f}-{max(runs):.3f}) "
            f"| {med[kind] / med['import numpy']:.2f}x | {med[kind] / med['import numpy, pandas']:.2f}x |"
        )
    lines.append("")
    for kind, (baseline, most) in TARGETS.items():
        if kind in med:
            ratio = med[kind] / med[baseline]
            verdict = "holds" if ratio <= most else "misses"
            lines.append(f"target: {shown[kind]} within {most:g}x `{baseline}`: {ratio:.2f}x, {verdict}")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=15, help="measured rounds (default 15)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured runs of each command first (default 1)")
    p.add_argument(
        "--commands", default=",".join(COMMANDS), help=f"comma-separated subset of {','.join(COMMANDS)}"
    )
    p.add_argument("--model", help="time this model file instead of training a tiny one")
    p.add_argument("--csv", help="predict's CSV (default: the first rows of data/example.csv)")
    p.add_argument(
        "--dir", help="where the model and small.csv go (default: a temp directory, deleted after)"
    )
    p.add_argument("--python", default=sys.executable, help="the interpreter (default: this one)")
    args = p.parse_args(argv)
    chosen = args.commands.split(",")
    unknown = set(chosen) - set(COMMANDS)
    if unknown:
        p.error(f"--commands: unknown {', '.join(sorted(unknown))} (choose from {', '.join(COMMANDS)})")
    directory = Path(args.dir or tempfile.mkdtemp(prefix="bench_startup_"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        needs_model = set(chosen) - {"help"}
        model = args.model or (train(args.python, directory) if needs_model else None)
        csv = args.csv or small_csv(directory)
        kinds = {**BASELINES, **{c: command_args(c, model, csv) for c in chosen}}
        shown = {k: k for k in BASELINES} | {
            "help": "trainer --help",
            "inspect": "trainer inspect MODEL",
            "predict": f"trainer predict MODEL {Path(csv).name}",
            "evaluate": "trainer evaluate MODEL",
        }
        print(
            f"python {platform.python_version()}, {args.repeat} rounds, {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        seconds = rounds(args.python, kinds, args.repeat, args.warmup)
        print("\n".join(["", *report(seconds, shown)]))
        print(f"load average now {os.getloadavg()[0]:.1f}")
    finally:
        if not args.dir:
            shutil.rmtree(directory)


if __name__ == "__main__":
    main()
