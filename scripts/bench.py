#!/usr/bin/env python3
"""Time per epoch of trainer (both engines) against scikit-learn's MLPClassifier and a plain PyTorch loop.

    python scripts/bench.py                     # the full run (a few minutes): prints a markdown table
    python scripts/bench.py --quick             # fewer repeats and epochs (about a minute)
    python scripts/bench.py --workloads b --dtypes float32 --out bench-results/b32.json
    python scripts/bench.py --also-threads 1     # and trainer with train.threads: 1

Workloads (same data, hyperparameters and epochs on every side; plain SGD, lr 0.1, L2 reg 1e-5):
  a  digits (1797 x 64, standardised), hidden 100, batch 64
  b  make_moons 10,000 (standardised), hidden 100, batch 64
  c  make_classification 100,000 x 64, 10 classes (standardised), hidden 512, batch 256

Each measurement runs in a fresh subprocess (one side, one workload, one dtype, E epochs), and the
sides take turns within every repeat, so a busy spell of the machine hits them all. What is timed:
  trainer  `epoch_seconds` from the run's metrics.jsonl, written by trainer.runs.run.train (the code
           `trainer train` runs) on a Config built here: no val or test split, early stopping off;
  reference  the same with train.engine: reference, the derivation itself (model/network.py);
  sklearn  MLPClassifier(solver="sgd", momentum=0, nesterovs_momentum=False, learning_rate="constant",
           shuffle=True, alpha=reg * batch, so its L2 term equals ours on full batches) fitted once
           with max_iter=E; an epoch is the time between two of its epoch ends (stamped where fit
           calls _update_no_improvement_count, once per epoch), so input checks and set-up are left
           out, as they are from our epoch_seconds; tol and n_iter_no_change let every epoch run;
  torch    Linear-ReLU-Linear, CrossEntropyLoss, SGD (weight decay on weights only), each epoch a
           torch.randperm of the pre-built tensors, then minibatches sliced from it; only when torch
           is importable.
The first epoch of every run (warm-up: page faults, BLAS threads) is dropped; a run's figure is the
median of its other epochs; the table gives the median over repeats and the min-max.
Memory: "peak RSS" is the worker process's ru_maxrss (imports and data preparation included);
"training" is the high-water RSS of the training alone (VmHWM, reset through /proc/self/clear_refs
just before the first epoch, when imports, data and model are in place) minus the RSS at that
moment: what the training itself adds. GEMM peak: the best 2048^3 matmul of all repeats, with one
BLAS thread and with the default (on a busy machine one thread can win). FLOPs per example on (c):
4*D*H + 6*H*C (forward 2(DH + HC), weight gradients 2(DH + HC), the gradient into the hidden
layer 2HC; biases and element-wise work not counted). On the binary workload (b) MLPClassifier
has one logistic output unit where the others have two softmax units: a little less work.
--also-threads T adds a column: trainer with train.threads T (e.g. 1, for a busy machine).
"""

import argparse
import itertools
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LR, REG, SEED = 0.1, 1e-5, 0
SIDES = ("trainer", "reference", "sklearn", "torch")


@dataclass
class Workload:
    title: str
    data: dict  # the Config's data section
    hidden: int
    batch: int
    epochs: int  # per run, full benchmark
    quick_epochs: int


WORKLOADS = {
    "a": Workload("digits 1797x64", {"dataset": "digits"}, 100, 64, 30, 8),
    "b": Workload("moons 10,000", {"dataset": "moons", "params": {"n_samples": 10000}}, 100, 64, 20, 6),
    "c": Workload(
        "classification 100,000x64, 10 classes",
        {
            "dataset": "classification",
            "params": {"n_samples": 100000, "n_features": 64, "n_classes": 10, "n_informative": 10},
        },
        512,
        256,
        4,
        2,
    ),
}


# ---------------------------------------------------------------- workers (one per subprocess)


def make_config(w, dtype, epochs, threads="default", engine="fast"):
    """The Config `trainer train` would get; threads "default" keeps train.threads' default."""
    from trainer.config.load import config_from_dict

    return config_from_dict(
        {
            "name": "bench",
            "seed": SEED,
            "data": {**w.data, "test_size": 0, "val_size": 0, "standardize": True},
            "model": {"hidden_size": w.hidden, "dtype": dtype},
            "train": {
                "epochs": epochs,
                "batch_size": w.batch,
                "optimizer": "sgd",
                "lr": LR,
                "reg": REG,
                "early_stopping": False,
                "shuffle": True,
                "engine": engine,
                **({} if threads == "default" else {"threads": None if threads == "null" else int(threads)}),
            },
        }
    )


def rss_bytes():
    """The process's resident set size now, after resetting its high-water mark (read back by hwm_bytes)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # Linux >= 4.0: VmHWM := VmRSS
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def hwm_bytes():
    """The process's peak resident set size since the last rss_bytes()."""
    with open("/proc/self/status") as f:
        kib = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    return int(kib) * 1024


def load_data(cfg):
    """The train split exactly as trainer sees it (same config, same seed)."""
    from trainer.runs.run import start

    return start(cfg)[0].train


def worker_trainer(w, dtype, epochs, threads="default", engine="fast"):
    from trainer.runs.run import train

    class RssProbe:
        def on_train_begin(self, state):
            self.rss = rss_bytes()

    probe = RssProbe()
    with tempfile.TemporaryDirectory() as tmp:
        result = train(make_config(w, dtype, epochs, threads, engine), tmp, [probe])
    records = result.state.history
    return {
        "epoch_seconds": [r["epoch_seconds"] for r in records],
        "rss_before": probe.rss,
        "final_loss": records[-1]["train_loss"],
        "n": result.summary["n_train"],
    }


def worker_sklearn(w, dtype, epochs):
    import warnings

    from sklearn.neural_network import MLPClassifier

    class TimedMLP(MLPClassifier):
        """MLPClassifier that stamps the clock at each epoch's end (sklearn calls this once per epoch)."""

        def _update_no_improvement_count(self, *args, **kwargs):
            self.stamps_.append(time.perf_counter())
            return super()._update_no_improvement_count(*args, **kwargs)

    X, y = load_data(make_config(w, dtype, epochs))
    clf = TimedMLP(
        hidden_layer_sizes=(w.hidden,),
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=LR,
        momentum=0.0,
        nesterovs_momentum=False,
        batch_size=w.batch,
        alpha=REG * w.batch,
        shuffle=True,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        early_stopping=False,
        random_state=SEED,
    )
    clf.stamps_ = []
    rss = rss_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as intended
        t0 = time.perf_counter()
        clf.fit(X, y)
    stamps = [t0] + clf.stamps_  # the first interval also holds fit's set-up; it is dropped as warm-up
    if len(clf.stamps_) != epochs:
        raise RuntimeError(f"sklearn ran {len(clf.stamps_)} epochs, expected {epochs}")
    return {
        "epoch_seconds": [b - a for a, b in itertools.pairwise(stamps)],
        "rss_before": rss,
        "final_loss": float(clf.loss_curve_[-1]),
        "n": len(y),
    }


def worker_torch(w, dtype, epochs):
    import torch

    X, y = load_data(make_config(w, dtype, epochs))
    torch.manual_seed(SEED)
    tdtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    D, C, n = X.shape[1], int(y.max()) + 1, len(y)
    model = torch.nn.Sequential(
        torch.nn.Linear(D, w.hidden), torch.nn.ReLU(), torch.nn.Linear(w.hidden, C)
    ).to(tdtype)
    weights = [model[0].weight, model[2].weight]
    biases = [model[0].bias, model[2].bias]
    opt = torch.optim.SGD(
        [{"params": weights, "weight_decay": REG}, {"params": biases, "weight_decay": 0.0}],
        lr=LR,
        momentum=0.0,
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    rss = rss_bytes()
    seconds = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        Xp, yp = Xt[perm], yt[perm]
        total = 0.0
        for start in range(0, n, w.batch):
            xb, yb = Xp[start : start + w.batch], yp[start : start + w.batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        seconds.append(time.perf_counter() - t0)
    blas = "mkl" if torch.backends.mkl.is_available() else "not mkl"
    return {
        "epoch_seconds": seconds,
        "rss_before": rss,
        "final_loss": total / n,
        "n": n,
        "torch": f"{torch.__version__}, BLAS {blas}",
        "torch_threads": torch.get_num_threads(),
    }


def worker_peak(dtype, size=2048, repeats=5):
    """The GEMM peak: the best GFLOP/s of a size^3 matmul on one BLAS thread and on all cores."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(dtype) for _ in range(2))
    out = a @ b
    result = {}
    for name, limit in (("one_thread", 1), ("all_threads", None)):
        with threadpool_limits(limit, user_api="blas"):
            best = math.inf
            for _ in range(repeats):
                t0 = time.perf_counter()
                np.matmul(a, b, out=out)
                best = min(best, time.perf_counter() - t0)
        result[name] = 2 * size**3 / best / 1e9
    result["gflops"] = max(result["one_thread"], result["all_threads"])
    return result


def environment():
    """What the figures depend on: CPU, cores, versions, BLAS and its threads."""
    import numpy as np
    import sklearn
    from threadpoolctl import threadpool_info

    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    blas = [
        {k: i.get(k) for k in ("filepath", "internal_api", "version", "num_threads", "architecture")}
        for i in threadpool_info()
    ]
    blas.sort(key=lambda i: "numpy" not in i["filepath"])  # numpy's own BLAS first (scipy may load another)
    variables = {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "GOTO"))}
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "variables": variables,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "blas": blas,
    }


def worker_reference(w, dtype, epochs):
    return worker_trainer(w, dtype, epochs, engine="reference")


WORKERS = {
    "trainer": worker_trainer,
    "reference": worker_reference,
    "sklearn": worker_sklearn,
    "torch": worker_torch,
}


def worker(args):
    """Run one measurement in this process and print it as one JSON line."""
    if args[0] == "peak":
        result = worker_peak(args[1])
    elif args[0] == "env":
        result = environment()
    else:
        side, name, dtype, epochs, *threads = args
        result = WORKERS[side](WORKLOADS[name], dtype, int(epochs), *threads)
        result["maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        result["train_hwm"] = hwm_bytes()
    print(json.dumps(result))


# ---------------------------------------------------------------- the driver


def run_worker(*args):
    """One measurement in a fresh subprocess; its JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, "--worker", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=1800,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"worker {' '.join(map(str, args))} failed:\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def torch_available():
    return (
        subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, check=False).returncode
        == 0
    )


def measure(names, dtypes, sides, repeats, quick, progress):
    """Every (workload, dtype, side) `repeats` times, the sides taking turns; the GEMM peak each repeat."""
    runs, peaks = {}, {dt: [] for dt in dtypes}
    for rep in range(repeats):
        for dt in dtypes:
            peaks[dt].append(run_worker("peak", dt))
        for name in names:
            w = WORKLOADS[name]
            epochs = w.quick_epochs if quick else w.epochs
            for dt in dtypes:
                for side in sides[rep % len(sides) :] + sides[: rep % len(sides)]:  # rotate who goes first
                    side_args = (
                        ("trainer", name, dt, epochs, side[8:]) if "@" in side else (side, name, dt, epochs)
                    )
                    r = run_worker(*side_args)
                    runs.setdefault((name, dt, side), []).append(r)
                    progress(
                        f"repeat {rep + 1}/{repeats} {name} {dt} {side}: "
                        f"{statistics.median(r['epoch_seconds'][1:]) * 1e3:.2f} ms/epoch"
                    )
    return runs, peaks


def best_peak(peaks, dtype):
    """The best GEMM GFLOP/s of any repeat, with any thread count."""
    return max(p["gflops"] for p in peaks[dtype])


def summarize(runs, peaks):
    """Per (workload, dtype, side): median/min/max over repeats of each run's median epoch, memory, rates."""
    rows = []
    for (name, dt, side), rs in runs.items():
        w = WORKLOADS[name]
        per_run = [statistics.median(r["epoch_seconds"][1:]) for r in rs]
        med = statistics.median(per_run)
        n = rs[0]["n"]
        row = {
            "workload": name,
            "dtype": dt,
            "side": side,
            "epoch_s": med,
            "epoch_min": min(per_run),
            "epoch_max": max(per_run),
            "runs": per_run,
            "steps": math.ceil(n / w.batch),
            "n": n,
            "maxrss_mb": max(r["maxrss"] for r in rs) / 2**20,
            "train_mb": max(r["train_hwm"] - r["rss_before"] for r in rs) / 2**20,
            "final_loss": rs[-1]["final_loss"],
        }
        row["us_per_step"] = med / row["steps"] * 1e6
        if name == "c":
            D = WORKLOADS[name].data["params"]["n_features"]
            H, C = w.hidden, WORKLOADS[name].data["params"]["n_classes"]
            row["gflops"] = n * (4 * D * H + 6 * H * C) / med / 1e9
            row["gflops_best"] = n * (4 * D * H + 6 * H * C) / min(per_run) / 1e9
            row["pct_of_peak"] = 100 * row["gflops"] / best_peak(peaks, dt)
        rows.append(row)
    return rows


def table(rows, peaks, sides):
    """The markdown table: per workload and dtype, each side's ms per epoch, the ratios baseline/trainer."""
    by = {(r["workload"], r["dtype"], r["side"]): r for r in rows}
    others = [s for s in sides if not s.startswith("trainer")]
    head = [
        "workload",
        "dtype",
        *[f"{s} ms/epoch (min-max)" for s in sides],
        *[f"{s}/trainer" for s in others],
        "training MB " + "/".join(sides),
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in dict.fromkeys(r["workload"] for r in rows):
        for dt in dict.fromkeys(r["dtype"] for r in rows):
            if (name, dt, "trainer") not in by:
                continue
            cells = [f"({name}) {WORKLOADS[name].title}", dt]
            for s in sides:
                r = by[(name, dt, s)]
                cells.append(
                    f"{r['epoch_s'] * 1e3:.2f} ({r['epoch_min'] * 1e3:.2f}-{r['epoch_max'] * 1e3:.2f})"
                )
            t = by[(name, dt, "trainer")]["epoch_s"]
            cells += [f"{by[(name, dt, s)]['epoch_s'] / t:.2f}x" for s in others]
            cells.append("/".join(f"{by[(name, dt, s)]['train_mb']:.0f}" for s in sides))
            lines.append("| " + " | ".join(cells) + " |")
    notes = []
    for r in rows:
        if r["workload"] == "b":
            notes.append(f"(b) {r['dtype']} {r['side']}: {r['us_per_step']:.1f} us per step")
    for r in rows:
        if r["workload"] == "c":
            notes.append(
                f"(c) {r['dtype']} {r['side']}: {r['gflops']:.1f} GFLOP/s (best run {r['gflops_best']:.1f}), "
                f"{r['pct_of_peak']:.0f}% of the GEMM peak {best_peak(peaks, r['dtype']):.1f} GFLOP/s"
            )
    for r in rows:
        notes.append(
            f"{r['workload']} {r['dtype']} {r['side']}: training adds {r['train_mb']:.0f} MB; "
            f"peak RSS {r['maxrss_mb']:.0f} MB"
        )
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="2 repeats and fewer epochs (about a minute)")
    p.add_argument("--workloads", default="a,b,c", help="comma-separated subset of a,b,c (default all)")
    p.add_argument("--dtypes", default="float64,float32", help="comma-separated subset of float64,float32")
    p.add_argument(
        "--repeats", type=int, help="runs of each side per workload and dtype (default 5; --quick 2)"
    )
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even when it is installed")
    p.add_argument("--no-reference", action="store_true", help="leave the reference engine out")
    p.add_argument(
        "--also-threads",
        metavar="T",
        help="also time trainer with train.threads T (an integer, or null: the BLAS default): side trainer@T",
    )
    p.add_argument("--out", type=Path, help="JSON results file (default bench-results/bench-<time>.json)")
    args = p.parse_args(argv)
    names = [n for n in args.workloads.split(",") if n]
    dtypes = [d for d in args.dtypes.split(",") if d]
    bad = [n for n in names if n not in WORKLOADS] + [d for d in dtypes if d not in ("float64", "float32")]
    if bad:
        p.error(f"unknown workload or dtype: {', '.join(bad)}")
    sides = [
        s
        for s in SIDES
        if (s != "torch" or (not args.no_torch and torch_available()))
        and (s != "reference" or not args.no_reference)
    ]
    if args.also_threads:
        sides.insert(1, f"trainer@{args.also_threads}")
    repeats = args.repeats or (2 if args.quick else 5)

    started, load_before = datetime.now(), os.getloadavg()
    env = run_worker("env")
    runs, peaks = measure(
        names, dtypes, sides, repeats, args.quick, lambda m: print(m, file=sys.stderr, flush=True)
    )
    rows = summarize(runs, peaks)
    torch_info = next((r for rs in runs.values() for r in rs if "torch" in r), None)
    if torch_info:
        env.update(torch=torch_info["torch"], torch_threads=torch_info["torch_threads"])
    env.update(
        load_before=load_before,
        load_after=os.getloadavg(),
        seconds=(datetime.now() - started).total_seconds(),
    )
    text = table(rows, peaks, sides)
    print(text)
    blas = env["blas"][0] if env["blas"] else {}
    print(
        f"\n{env['cpu']}, {env['usable_cpus']} CPUs; numpy {env['numpy']} ({blas.get('internal_api')} "
        f"{blas.get('version')}, {blas.get('num_threads')} threads, {blas.get('architecture')} kernels); "
        f"scikit-learn {env['sklearn']}"
        + (f"; torch {env['torch']} ({env['torch_threads']} threads)" if torch_info else "")
        + "".join(f"; {k}={v}" for k, v in env["variables"].items())
        + f"; load average {env['load_before'][0]:.1f} before, {env['load_after'][0]:.1f} after; "
        f"{repeats} repeats, {env['seconds']:.0f} s"
    )
    out = args.out or ROOT / "bench-results" / f"bench-{started:%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "environment": env,
                "repeats": repeats,
                "quick": args.quick,
                "peaks_gflops": peaks,
                "rows": rows,
                "table": text,
            },
            indent=1,
        )
    )
    print(f"results: {out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        main()
