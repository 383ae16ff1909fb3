"""How often does the band check (`trainer curve check --band`) fail when it should pass, and how
often does it catch changes that should fail? The table in docs/curves.md, "How often the band
check is wrong".

Each repeat r records a golden band over seeds r*S .. r*S+S-1 (S = --seeds) of the workload and
checks a band trained under one scenario against it, exactly as the check does
(trainer.curves.band.compare_bands, every metric including lr, Welch's t per epoch, Bonferroni).
A scenario is trained by this script in a fresh interpreter (`--worker`), so environment
variables and patches reach only it. The rate is the share of the repeats whose check failed,
at the default alpha 0.01 and at 0.05.

Should pass (a failure is a false alarm):
  BLAS 1 thread        threadpoolctl limits BLAS to 1 thread (the golden uses the default)
  numpy SIMD <= SSE4.2 NPY_DISABLE_CPU_FEATURES: numpy's kernels as on an x86-64-v2 CPU
  reference engine     train.engine=reference: the derivation instead of the fast step
  float32, 200 epochs  a float32 golden of 200 epochs, checked with numpy SIMD <= SSE4.2
  other seeds          the check trains seeds 100000 + r*S ...: another draw of the same process
Should fail (a pass is a miss); each a change of the code, so the config and the lr column stay:
  lr x 1.1, lr x 1.5   the optimizer steps with the scheduled lr times 1.1 or 1.5
  reg x 10             the L2 coefficient the steps use, times 10
  init scale x 2       the initial weights (W1, W2) doubled
  shuffling off        the training rows in the same order every epoch
  one epoch skipped    the first epoch runs two passes: every record is one epoch ahead
  grad x (1 +- 1e-3)   every gradient element scaled by 1 +- 1e-3 (random signs, fixed seed)

Usage:  python scripts/band_table.py [--repeats 40] [--seeds 10] [--epochs 50] [--json out.json]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.config.load import load_config  # noqa: E402
from trainer.curves.band import band_of, compare_bands  # noqa: E402
from trainer.runs import run  # noqa: E402
from trainer.storage.curvefile import make_curve  # noqa: E402
from trainer.training import loop  # noqa: E402
from trainer.training.optim import Optimizer  # noqa: E402

CONFIG = ROOT / "configs" / "moons.yaml"
SSE42 = "AVX512_ICL AVX512_SPR X86_V4 X86_V3"  # numpy features switched off: at most SSE4.2 is left
OTHER_SEEDS = 100_000


@contextmanager
def lr_scaled(factor):
    step = Optimizer.step
    with mock.patch.object(Optimizer, "step", lambda self, p, g, lr: step(self, p, g, lr * factor)):
        yield


@contextmanager
def reg_scaled(factor):
    engines = {
        k: (lambda X, y, p, b, reg, *weights, f=f: f(X, y, p, b, reg * factor, *weights))
        for k, f in loop.ENGINES.items()
    }
    with mock.patch.dict(loop.ENGINES, engines):
        yield


@contextmanager
def init_scaled(factor):
    init = run.init_params

    def scaled(*args, **kwargs):
        params = init(*args, **kwargs)
        return {k: v * factor if k.startswith("W") else v for k, v in params.items()}

    with mock.patch.object(run, "init_params", scaled):
        yield


@contextmanager
def first_epoch_twice():
    one_epoch = loop.one_epoch

    def twice(state, X, y, cfg, lr, batches=None):
        if state.epoch == 0:
            one_epoch(state, X, y, cfg, lr, batches)
        return one_epoch(state, X, y, cfg, lr, batches)

    with mock.patch.object(loop, "one_epoch", twice):
        yield


@contextmanager
def grads_perturbed(rel):
    step, rng = Optimizer.step, np.random.default_rng(54321)

    def perturbed(self, params, grads, lr):
        step(self, params, grads * (1 + rel * rng.choice(np.array([-1.0, 1.0]), grads.shape)), lr)

    with mock.patch.object(Optimizer, "step", perturbed):
        yield


@contextmanager
def blas_threads(n):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n, user_api="blas"):
        yield


# name -> (should pass, overrides, environment, patch, seed offset, baseline)
SCENARIOS = {
    "BLAS 1 thread": (True, [], {}, lambda: blas_threads(1), 0, "f64"),
    "numpy SIMD <= SSE4.2": (True, [], {"NPY_DISABLE_CPU_FEATURES": SSE42}, None, 0, "f64"),
    "reference engine": (True, ["train.engine=reference"], {}, None, 0, "f64"),
    "float32, 200 epochs, SIMD <= SSE4.2": (True, [], {"NPY_DISABLE_CPU_FEATURES": SSE42}, None, 0, "f32"),
    "other seeds, same process": (True, [], {}, None, OTHER_SEEDS, "f64"),
    "lr x 1.1": (False, [], {}, lambda: lr_scaled(1.1), 0, "f64"),
    "lr x 1.5": (False, [], {}, lambda: lr_scaled(1.5), 0, "f64"),
    "reg x 10": (False, [], {}, lambda: reg_scaled(10), 0, "f64"),
    "init scale x 2": (False, [], {}, lambda: init_scaled(2), 0, "f64"),
    "shuffling off": (False, ["train.shuffle=false"], {}, None, 0, "f64"),
    "one epoch skipped": (False, [], {}, first_epoch_twice, 0, "f64"),
    "grad x (1 +- 1e-3)": (False, [], {}, lambda: grads_perturbed(1e-3), 0, "f64"),
}
BASELINES = {"f64": [], "f32": ["model.dtype=float32"]}


def workload(baseline, epochs, extra=()):
    n = 200 if baseline == "f32" else epochs
    return load_config(CONFIG, [*BASELINES[baseline], f"train.epochs={n}", *extra])


def bands_of(cfg, cfg_trained, seed_sets, patch=None):
    """One band per seed set: cfg_trained trained at each seed (under patch), curves made for cfg."""
    out = []
    with ExitStack() as stack:
        if patch is not None:
            stack.enter_context(patch())
        for seeds in seed_sets:
            curves = {}
            for s in seeds:
                _, state = run.train_in_memory(replace(cfg_trained, seed=s))
                curves[s] = make_curve(replace(cfg, seed=s), state)
            out.append(band_of(curves))
    return out


def worker(name, seed_sets, epochs):
    if name in BASELINES:
        cfg = workload(name, epochs)
        return bands_of(cfg, cfg, seed_sets)
    _, overrides, _, patch, offset, baseline = SCENARIOS[name]
    cfg = workload(baseline, epochs)
    shifted = [[s + offset for s in seeds] for seeds in seed_sets]
    return bands_of(cfg, workload(baseline, epochs, overrides), shifted, patch)


def in_subprocess(name, seed_sets, epochs, env=None):
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            name,
            "--sets",
            json.dumps(seed_sets),
            "--epochs",
            str(epochs),
        ],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=40, help="checks per scenario, each on its own seed set")
    p.add_argument("--seeds", type=int, default=10, help="seeds in a band")
    p.add_argument("--epochs", type=int, default=50, help="epochs of the float64 workload")
    p.add_argument("--jobs", type=int, default=2, help="scenarios trained at once")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--sets", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, json.loads(args.sets), args.epochs)))
        return
    t0 = time.time()
    sets = [list(range(r * args.seeds, (r + 1) * args.seeds)) for r in range(args.repeats)]
    names = [*BASELINES, *SCENARIOS]
    with ThreadPoolExecutor(args.jobs) as pool:
        env = {n: SCENARIOS[n][2] if n in SCENARIOS else {} for n in names}
        futures = {n: pool.submit(in_subprocess, n, sets, args.epochs, env[n]) for n in names}
        bands = {n: f.result() for n, f in futures.items()}
    dtype = {"f64": "float64", "f32": "float32"}
    rows, results = [], {}
    for name, (should_pass, *_, baseline) in SCENARIOS.items():
        pairs = list(zip(bands[baseline], bands[name], strict=True))
        failed = {
            a: sum(not compare_bands(g, b, dtype[baseline], a).ok for g, b in pairs) for a in (0.01, 0.05)
        }
        smallest = float(np.median([compare_bands(g, b, dtype[baseline]).smallest.p for g, b in pairs]))
        results[name] = {"should_pass": should_pass, "failed": failed, "median_smallest_p": smallest}
        rates = [f"{failed[a]} of {args.repeats} ({failed[a] / args.repeats:.0%})" for a in (0.01, 0.05)]
        kind = "pass: failed = false alarm" if should_pass else "fail: failed = caught"
        rows.append(f"| {name} | {kind} | {rates[0]} | {rates[1]} | {smallest:.2g} |")
    print(
        f"workload: {CONFIG.relative_to(ROOT)} ({args.epochs} epochs; the float32 row 200), "
        f"bands of {args.seeds} seeds, {args.repeats} checks per row; {time.time() - t0:.0f} s\n"
    )
    print("| scenario | should | checks failed, alpha 0.01 (default) | alpha 0.05 | median smallest p |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
