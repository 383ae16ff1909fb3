#!/usr/bin/env python3
"""Micro-benchmarks of each trick in the training step: the plain way against the way trainer does it.

    python scripts/bench_tricks.py            # shapes of workloads (b) and (c) of scripts/bench.py, float64
    python scripts/bench_tricks.py --dtype float32 --blocks 21

Each pair runs in this process, the two sides alternating in blocks of calls; the figure is the
median over blocks of the time per call (the min in brackets), so a busy spell hits both sides.
BLAS runs one thread (--threads) so the matmuls inside some pairs do not drown the difference.
(b): N=64 rows, D=2, H=100, C=2; (c): N=256, D=64, H=512, C=10.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.model import network
from trainer.model.fast import FastStep, one_hot, with_ones
from trainer.model.flat import flat_copy
from trainer.model.network import init_params
from trainer.training.loop import FastBatches
from trainer.training.optim import make_optimizer

SHAPES = {"b": (64, 2, 100, 2, 10000), "c": (256, 64, 512, 10, 100000)}  # N, D, H, C, rows in the split


def arrays(shape, dtype):
    """The step's arrays at one workload's shapes, seeded."""
    N, D, H, C, n = shape
    rng = np.random.default_rng(0)
    a = {
        "X": rng.standard_normal((N, D)).astype(dtype),
        "y": rng.integers(0, C, N),
        "z": rng.standard_normal((N, H)).astype(dtype),
        "dh": rng.standard_normal((N, H)).astype(dtype),
        "s": rng.standard_normal((N, C)).astype(dtype),
    }
    a["w"], a["params"] = flat_copy(
        init_params(D, H, C, rng, dtype=dtype)
    )  # views of one flat w, as in training
    a["Xa"], a["Y"] = with_ones(a["X"]), one_hot(a["y"], C, dtype)
    a["full"] = np.ones((N, H + 1), dtype)  # [hidden 1]
    a["full"][:, :H] = np.maximum(a["z"], 0)
    a["Xn"], a["yn"] = rng.standard_normal((n, D)).astype(dtype), rng.integers(0, C, n)
    return a


# each trick: name -> function(arrays, shape) returning (plain, fast) callables of one step's worth
def relu_mask(a, shape):
    dh, h, mask = a["dh"].copy(), np.maximum(a["z"], 0), np.empty(a["z"].shape, bool)
    return (lambda: dh.__setitem__(h <= 0, 0), lambda: np.multiply(dh, np.greater(h, 0, out=mask), out=dh))


def mask_full_width(a, shape):
    N, _, H, C, _ = shape
    full, dh, dhf = a["full"], np.empty((N, H), a["z"].dtype), np.empty((N, H + 1), a["z"].dtype)
    m, mf, W2a, s = (
        np.empty((N, H), bool),
        np.empty((N, H + 1), bool),
        a["params"]["W2"].base[-(H + 1) * C :].reshape(H + 1, C),
        a["s"],
    )
    return (
        lambda: (np.matmul(s, W2a[:H].T, out=dh), np.multiply(dh, np.greater(full[:, :H], 0, out=m), out=dh)),
        lambda: (np.matmul(s, W2a.T, out=dhf), np.multiply(dhf, np.greater(full, 0, out=mf), out=dhf)),
    )


def relu_zeros_array(a, shape):
    full, zeros = a["full"], np.zeros_like(a["full"])
    return lambda: np.maximum(full, 0, out=full), lambda: np.maximum(full, zeros, out=full)


def bias_folded(a, shape):
    N, D, H, _, _ = shape
    p, X, Xa, dh = a["params"], a["X"], a["Xa"], a["dh"]
    W1a = p["W1"].base[: (D + 1) * H].reshape(D + 1, H)
    z, dW1, db1, dW1a = (
        np.empty((N, H), X.dtype),
        np.empty((D, H), X.dtype),
        np.empty(H, X.dtype),
        np.empty((D + 1, H), X.dtype),
    )

    def plain():
        np.matmul(X, p["W1"], out=z)
        np.add(z, p["b1"], out=z)
        np.matmul(X.T, dh, out=dW1)
        np.add.reduce(dh, axis=0, out=db1)

    def fast():
        np.matmul(Xa, W1a, out=z)
        np.matmul(Xa.T, dh, out=dW1a)

    return plain, fast


def one_hot_labels(a, shape):
    N = shape[0]
    s, y, Y, p = a["s"], a["y"], a["Y"], a["s"].copy()
    rows = np.arange(N)
    return (
        lambda: (s[rows, y].sum(), p.__setitem__((rows, y), p[rows, y] - 1)),
        lambda: (np.vdot(s, Y), np.subtract(p, Y, out=p)),
    )


def row_reductions(a, shape):
    N, C = shape[0], shape[3]
    s, top, se, ones = (
        a["s"],
        np.empty((N, 1), a["s"].dtype),
        np.empty((N, 1), a["s"].dtype),
        np.ones((C, 1), a["s"].dtype),
    )
    return (
        lambda: (s.max(axis=1, keepdims=True), s.sum(axis=1, keepdims=True)),
        lambda: (np.maximum.reduce(s, axis=1, keepdims=True, out=top), np.matmul(s, ones, out=se)),
    )


def gather_per_epoch(a, shape):
    N, n = shape[0], shape[4]
    X, y = a["Xn"], a["yn"]
    order = np.random.default_rng(1).permutation(n)
    batches = FastBatches(X, y, a["params"], N, 0.0)

    def plain():  # an epoch's worth of batches by fancy indexing
        for start in range(0, n, N):
            idx = order[start : start + N]
            X[idx], y[idx]

    return plain, lambda: batches.gather(order)  # the gather; its batches are slices made once


def flat_optimizer(a, shape):
    p = a["params"]
    grads = {k: np.full_like(v, 1e-9) for k, v in p.items()}
    w, g = a["w"], np.full_like(a["w"], 1e-9)
    opt = make_optimizer("sgd", p)
    lr, scratch = 1e-9, {k: np.empty_like(v) for k, v in p.items()}

    def plain():  # one call per param and operation
        for k, v in p.items():
            np.multiply(grads[k], lr, out=scratch[k])
            v -= scratch[k]

    return plain, lambda: opt.step(w, g, lr)


def flat_l2(a, shape):
    N, D, H, C, _ = shape
    p, dtype = a["params"], a["X"].dtype
    ws = FastStep(N, D, H, C, dtype, 1e-5)
    w, t1, t2 = a["w"], np.empty_like(p["W1"]), np.empty_like(p["W2"])
    g1, g2 = ws.grads["W1"], ws.grads["W2"]

    def plain():
        0.5 * 1e-5 * (np.vdot(p["W1"], p["W1"]) + np.vdot(p["W2"], p["W2"]))
        np.multiply(p["W1"], 1e-5, out=t1)
        g1.__iadd__(t1)
        np.multiply(p["W2"], 1e-5, out=t2)
        g2.__iadd__(t2)

    def fast():
        np.multiply(w, ws.reg_or_0, out=ws.reg_w)
        0.5 * np.vdot(ws.reg_w, w)
        ws.grad.__iadd__(ws.reg_w)

    return plain, fast


def whole_step(a, shape):
    N, D, H, C, _ = shape
    step = FastStep(N, D, H, C, a["X"].dtype, 1e-5)
    return (
        lambda: network.loss_grads_scores(a["params"], a["X"], a["y"], 1e-5),
        lambda: step.loss(a["w"], a["Xa"], a["Y"]),
    )


def sample_weights(a, shape):
    """Not a trick but its cost: the step without weights (plain) against the step with a weight column."""
    N, D, H, C, _ = shape
    plain, weighted = FastStep(N, D, H, C, a["X"].dtype, 1e-5), FastStep(N, D, H, C, a["X"].dtype, 1e-5, True)
    sw = np.ones((N, 1), a["X"].dtype)
    return (
        lambda: plain.loss(a["w"], a["Xa"], a["Y"]),
        lambda: weighted.loss(a["w"], a["Xa"], a["Y"], sw),
    )


def running_accuracy(a, shape):
    """Not a trick but its price: the step alone, then the step also writing each row's argmax (pred)."""
    N, D, H, C, _ = shape
    step, pred = FastStep(N, D, H, C, a["X"].dtype, 1e-5), np.empty(N, np.intp)
    return (
        lambda: step.loss(a["w"], a["Xa"], a["Y"]),
        lambda: step.loss(a["w"], a["Xa"], a["Y"], pred=pred),
    )


TRICKS = {
    "the whole step: the derivation (model/network.py) -> its twin FastStep (model/fast.py)": whole_step,
    "ReLU backward: boolean-mask assignment -> multiply by the mask": relu_mask,
    "mask over [hidden 1] (contiguous), not its view hidden (strided), and dhidden's matmul": mask_full_width,
    "ReLU forward: np.maximum(h, 0) -> np.maximum(h, zeros array)": relu_zeros_array,
    "bias add + bias-gradient sum -> folded into the matmuls ([X 1] @ [W1; b1])": bias_folded,
    "labels: fancy indexing s[rows, y], p[rows, y] -= 1 -> one-hot Y (vdot, p -= Y)": one_hot_labels,
    "row max, row sum: .max/.sum(axis=1) -> np.maximum.reduce, matvec with ones": row_reductions,
    "minibatches: fancy index per step -> one gather per epoch (training.loop.FastBatches)": gather_per_epoch,
    "SGD update: per-param calls -> one flat buffer": flat_optimizer,
    "L2 term: per weight matrix -> one flat reg-or-0 vector": flat_l2,
    "the cost of sample weights: FastStep without -> with a weight column": sample_weights,
    "the running train accuracy's price: the step -> the step with its argmax (< 1x)": running_accuracy,
}


def race(plain, fast, calls, blocks):
    """Median (and min) seconds per call of each side, the sides alternating block by block."""
    times = {"plain": [], "fast": []}
    plain(), fast()
    for _ in range(blocks):
        for name, f in (("plain", plain), ("fast", fast)):
            t0 = time.perf_counter()
            for _ in range(calls):
                f()
            times[name].append((time.perf_counter() - t0) / calls)
    return {k: (statistics.median(v), min(v)) for k, v in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--blocks", type=int, default=11, help="blocks of calls per side (default 11)")
    p.add_argument("--workloads", default="b,c")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    p.add_argument("--only", help="run the tricks whose name holds this text")
    args = p.parse_args()
    threadpool_limits(args.threads)
    print(f"| trick ({args.dtype}) | workload | plain us | fast us | speed-up |\n|---|---|---|---|---|")
    for name, make in TRICKS.items():
        if args.only and args.only not in name:
            continue
        for wl in args.workloads.split(","):
            shape = SHAPES[wl]
            plain, fast = make(arrays(shape, args.dtype), shape)
            calls = 3 if make is gather_per_epoch else (200 if wl == "b" else 20)
            r = race(plain, fast, calls, args.blocks)
            (pm, pmin), (fm, fmin) = r["plain"], r["fast"]
            print(
                f"| {name} | ({wl}) | {pm * 1e6:.1f} ({pmin * 1e6:.1f}) | "
                f"{fm * 1e6:.1f} ({fmin * 1e6:.1f}) | {pm / fm:.1f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
