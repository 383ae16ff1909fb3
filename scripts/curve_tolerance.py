"""How far does a loss curve move under rounding-level changes, and under real behaviour changes?

The figures behind the default tolerance of `trainer curve check` (docs/tolerance.md,
"The study"). Each workload trains 50 epochs with early stopping off, once as the baseline and
once per perturbation, and the table gives the largest relative deviation from the baseline,
max over epochs of |got - base| / |base|, for the losses (train_loss, val_loss) and for
val_accuracy. Rounding-level perturbations:
  rerun, new process        the same run again in a fresh interpreter (must be 0)
  data +1 ulp               every input feature moved one ulp up (np.nextafter)
  data +-1 ulp              ... one ulp up or down at random
  BLAS 1 thread             threadpoolctl limits BLAS to 1 thread (the baseline uses all)
  BLAS kernel K             OPENBLAS_CORETYPE=K in a fresh process: another CPU's GEMM kernels
  numpy SIMD <= F           NPY_DISABLE_CPU_FEATURES in a fresh process: numpy's exp, log, sums ...
                            as on a CPU with at most F (AVX2 = x86-64-v3, SSE4.2 = x86-64-v2)
(the BLAS kernel and numpy SIMD rows need OpenBLAS and numpy dispatching on x86-64, else "n/a")
Behaviour changes:
  lr x 1.01                 the learning rate 1% higher
  grad x (1 +- 1e-6)        every gradient element scaled by 1 +- 1e-6 (random signs, fixed seed)
  grad x (1 + 1e-6)         all gradients scaled alike (Adam is nearly blind to this: its step
                            m / sqrt(v) does not change with the gradient's scale, only eps sees it)

Usage:  python scripts/curve_tolerance.py [--epochs 50] [--json results.json]
"""

import argparse
import json
import os
import platform
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainer.config.load import load_config  # noqa: E402
from trainer.curves.golden import record_curve  # noqa: E402
from trainer.runs import run  # noqa: E402
from trainer.training.optim import Optimizer  # noqa: E402

DIGITS_WIDE = ["data.dataset=digits", "data.params={}", "model.hidden_size=256", "train.batch_size=256"]
WORKLOADS = {  # name -> (config file, overrides); the wide one has GEMMs big enough for BLAS threads
    "moons f64": ("configs/moons.yaml", []),
    "moons f32": ("configs/moons.yaml", ["model.dtype=float32"]),
    "digits-wide f64": ("configs/moons.yaml", DIGITS_WIDE),
    "digits-wide f32": ("configs/moons.yaml", DIGITS_WIDE + ["model.dtype=float32"]),
}
KERNELS = ("SkylakeX", "Sandybridge", "Nehalem")  # the default on the development machine is Haswell
SIMD = {"AVX2": "AVX512_ICL AVX512_SPR X86_V4", "SSE4.2": "AVX512_ICL AVX512_SPR X86_V4 X86_V3"}


def openblas_x86():
    from trainer.storage.curvefile import blas_info

    return blas_info().get("name") == "openblas" and platform.machine() in ("x86_64", "AMD64")


def numpy_dispatch(features):
    """Those of the space-separated features numpy dispatches to on this build (disabling others fails)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:
        return ""
    return " ".join(f for f in features.split() if f in __cpu_dispatch__)


def load(workload, epochs, extra=()):
    path, overrides = WORKLOADS[workload]
    return load_config(
        ROOT / path, [*overrides, f"train.epochs={epochs}", "train.early_stopping=false", *extra]
    )


@contextmanager
def data_moved(direction):
    """Every split's features moved one ulp: direction 'up', or 'random' (each element up or down)."""
    prepare, rng = run.prepare, np.random.default_rng(12345)

    def moved(X):
        to = np.inf if direction == "up" else np.where(rng.random(X.shape) < 0.5, -np.inf, np.inf)
        return np.nextafter(X, np.asarray(to, dtype=X.dtype))

    def patched(*args, **kwargs):
        p = prepare(*args, **kwargs)
        for name in ("train", "val", "test"):
            part = getattr(p, name)
            if part is not None:
                setattr(p, name, (moved(part[0]), part[1]))
        return p

    with mock.patch.object(run, "prepare", patched):
        yield


@contextmanager
def grads_scaled(rel, random_signs):
    """Every gradient the optimizer receives multiplied by (1 + rel * s), s = +-1 at random or 1."""
    step, rng = Optimizer.step, np.random.default_rng(54321)

    def scaled(g):
        s = rng.choice(np.array([-1.0, 1.0]), g.shape) if random_signs else np.ones(g.shape)
        return g * (1 + rel * s).astype(g.dtype)

    def perturbed(self, params, grads, lr):  # grads: training's one flat array, or a dict of arrays
        step(
            self,
            params,
            {k: scaled(g) for k, g in grads.items()} if isinstance(grads, dict) else scaled(grads),
            lr,
        )

    with mock.patch.object(Optimizer, "step", perturbed):  # every optimizer, however it was made
        yield


@contextmanager
def blas_threads(n):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n, user_api="blas"):
        yield


def in_process(workload, epochs, context=None, extra=()):
    cfg = load(workload, epochs, extra)
    if context is None:
        return record_curve(cfg)
    with context:
        return record_curve(cfg)


def in_subprocess(workload, epochs, env=None):
    """The workload's curve trained by this script in a fresh interpreter (with extra env)."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", workload, "--epochs", str(epochs)],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def deviation(base, got):
    """The largest relative deviation of the losses and val_accuracy; the largest absolute of the losses."""
    if got is None:
        return {"loss": None, "val_accuracy": None, "loss_abs": None, "min_loss": None}

    def worst(names, relative=True):
        devs = [
            np.max(
                np.abs(np.subtract(got["metrics"][k], base["metrics"][k]))
                / (np.abs(base["metrics"][k]) if relative else 1.0)
            )
            for k in names
            if k in base["metrics"]
        ]
        return float(max(devs)) if devs else float("nan")

    losses = ("train_loss", "val_loss")
    return {
        "loss": worst(losses),
        "val_accuracy": worst(("val_accuracy",)),
        "loss_abs": worst(losses, False),
        "min_loss": float(min(min(base["metrics"][k]) for k in losses)),
    }


def perturbations(workload, epochs):
    """name -> curve under that perturbation."""
    lr = load(workload, epochs).train.lr
    runs = {
        "rerun, new process": lambda: in_subprocess(workload, epochs),
        "data +1 ulp": lambda: in_process(workload, epochs, data_moved("up")),
        "data +-1 ulp": lambda: in_process(workload, epochs, data_moved("random")),
        "BLAS 1 thread": lambda: in_process(workload, epochs, blas_threads(1)),
        **{
            f"BLAS kernel {k}": (
                lambda k=k: (
                    in_subprocess(workload, epochs, {"OPENBLAS_CORETYPE": k}) if openblas_x86() else None
                )
            )
            for k in KERNELS
        },
        **{
            f"numpy SIMD <= {name}": (
                lambda off=off: (
                    in_subprocess(workload, epochs, {"NPY_DISABLE_CPU_FEATURES": numpy_dispatch(off)})
                    if numpy_dispatch(off)
                    else None
                )
            )
            for name, off in SIMD.items()
        },
        "lr x 1.01": lambda: in_process(workload, epochs, extra=[f"train.lr={lr * 1.01!r}"]),
        "grad x (1 +- 1e-6)": lambda: in_process(workload, epochs, grads_scaled(1e-6, True)),
        "grad x (1 + 1e-6)": lambda: in_process(workload, epochs, grads_scaled(1e-6, False)),
    }
    return {name: make() for name, make in runs.items()}


def _cell(figures, fmt):
    return "n/a" if figures["loss"] is None else fmt.format(**figures)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=50)
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--worker", help=argparse.SUPPRESS)  # internal: print one workload's curve
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(in_process(args.worker, args.epochs)))
        return
    results = {}
    for workload in WORKLOADS:
        base = in_process(workload, args.epochs)
        results[workload] = {
            name: deviation(base, c) for name, c in perturbations(workload, args.epochs).items()
        }
        print(f"done: {workload} ({base['platform']['blas']})", file=sys.stderr)
    names = list(next(iter(results.values())))
    print(f"largest relative deviation from the baseline over {args.epochs} epochs: losses / val_accuracy\n")
    print("| perturbation | " + " | ".join(results) + " |")
    print("| --- |" + " --- |" * len(results))
    for name in names:
        cells = [_cell(r[name], "{loss:.1e} / {val_accuracy:.1e}") for r in results.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nlargest absolute deviation of the losses (smallest loss on the baseline curve)\n")
    print("| perturbation | " + " | ".join(results) + " |")
    print("| --- |" + " --- |" * len(results))
    for name in names:
        cells = [_cell(r[name], "{loss_abs:.1e} ({min_loss:.2g})") for r in results.values()]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
