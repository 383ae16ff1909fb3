#!/usr/bin/env python3
"""Reading and predicting on a big CSV: trainer against np.loadtxt and pandas.read_csv.

Writes a CSV of ROWS x 20 features and an integer label (np.random, ~260 MB for 1,000,000 rows)
into --dir (default: a new temp directory, deleted at the end), trains on it end to end
(`trainer train`, a few epochs), then measures, each run in a fresh process and the kinds
interleaved over --repeat rounds:

  read      trainer.data.csvfile.read_csv; np.loadtxt; pandas.read_csv (each library's own call);
            pandas.read_csv asked for what trainer's reader returns (the label as text, the
            features as one C-ordered float64 array); pandas.read_csv with mode.max_threads 1
            (pandas >= 3.1 reads a local file on several threads); and the floor of trainer's
            design: pandas.read_csv on each chunk of trainer's cut, on trainer's worker threads,
            to_numpy and one copy into the array, with none of trainer's checks, line numbers
            or labels
  predict   `trainer predict` (streaming) to a file; a one-shot predict on each library: read the
            whole file, the model's predict_proba, np.savetxt / DataFrame.to_csv
  predict on a file 3x as big (--big): memory that does not grow with the file

Prints a markdown table: median seconds (min-max), rows per second, and the peak RSS the step
added to its process, in MB and as a multiple of the final float64 feature array (ROWS x 20 x 8
bytes). It also checks that the readers give the same float64 bits.

With --wide, the file is 200 rows x 20,000 features (~32 MB, shaped like gene-expression data):
trainer's read against pandas asked for the same float64 array, and `trainer train` end to end
(3 epochs, pictures on) with its peak RSS.

    python scripts/bench_csv.py                 # 1,000,000 rows, 3 rounds
    python scripts/bench_csv.py --rows 200000 --repeat 5 --big 0
    python scripts/bench_csv.py --reads-only --repeat 7
    python scripts/bench_csv.py --wide --repeat 5
"""

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAME = "read pandas, trainer's result"
FEATURES = 20


WIDE = (200, 20_000)  # rows, features of --wide


def write_wide(path, seed=0):
    """WIDE rows x features (6 significant digits) and a text label that depends on the first two."""
    rng = np.random.default_rng(seed)
    rows, features = WIDE
    X = rng.standard_normal((rows, features)) * 3 + 10
    y = (X[:, 0] > 10).astype(int) + (X[:, 1] > 10)
    with open(path, "w") as f:
        f.write(",".join([f"g{j}" for j in range(features)] + ["label"]) + "\n")
        for i in range(rows):
            f.write(",".join(f"{v:.6g}" for v in X[i]) + f",c{y[i]}\n")


def write_csv(path, rows, seed=0):
    """ROWS x 20 normal features (10 significant digits) and a label that depends on them."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        f.write(",".join([f"f{j}" for j in range(FEATURES)] + ["label"]) + "\n")
        for start in range(0, rows, 100_000):
            X = rng.standard_normal((min(100_000, rows - start), FEATURES)) * 10
            y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 5)
            np.savetxt(f, np.column_stack([X, y]), delimiter=",", fmt=["%.10g"] * FEATURES + ["%d"])


# ---------------------------------------------------------------- one measurement, in a child


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(kind, path, model, out):
    """Run one kind once in this (fresh) process; print JSON: seconds, peak RSS added, X's digest."""
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from trainer.cli import main as trainer_main
    from trainer.data.csvfile import read_csv
    from trainer.storage.modelfile import load_model

    m = load_model(model) if model else None
    base, digest = rss(), None
    t0 = time.perf_counter()
    if kind == "read trainer":
        X = read_csv(path, target="label").X
    elif kind == "read np.loadtxt":
        X = np.loadtxt(path, delimiter=",", skiprows=1)[:, :FEATURES]
    elif kind == "read pandas":
        X = pd.read_csv(path).iloc[:, :-1].to_numpy()  # every column but the label, the last
    elif kind == "read pandas, trainer's result":
        frame = pd.read_csv(path, dtype={"label": object})
        X = np.ascontiguousarray(frame.iloc[:, :-1].to_numpy(np.float64))
    elif kind == "read pandas, 1 thread":
        pd.set_option("mode.max_threads", 1)
        X = pd.read_csv(path).iloc[:, :-1].to_numpy()
    elif kind == "read pandas per chunk (floor)":
        X = chunked_floor(path)
    elif kind == "predict trainer":
        assert trainer_main(["predict", model, path, "--proba", "-o", out]) == 0
    elif kind == "predict np.loadtxt":
        X = np.loadtxt(path, delimiter=",", skiprows=1)[:, :FEATURES]
        P = m.predict_proba(X)
        np.savetxt(out, np.column_stack([P.argmax(axis=1), P]), delimiter=",", fmt="%.17g")
    elif kind == "predict pandas":
        frame = pd.read_csv(path)
        P = m.predict_proba(frame[m.feature_names].to_numpy())
        pd.DataFrame(P).assign(prediction=P.argmax(axis=1)).to_csv(out, index=False)
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if kind.startswith("read"):
        digest = hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest()
    print(json.dumps({"seconds": seconds, "peak": peak - base, "digest": digest}))


def chunked_floor(path):
    """pandas.read_csv on each chunk of trainer's cut, on trainer's threads, each copied into one
    array as it comes: the least that trainer's design costs. The array is sized for the most rows
    the file can hold (untouched pages cost no memory), so it never grows."""
    import io

    import pandas as pd

    from trainer.data.csvchunks import cut
    from trainer.data.csvfile import open_csv
    from trainer.data.csvparse import CHUNK_BYTES, WORKERS

    f = open_csv(path)
    dtype = {j: "float64" for j in range(FEATURES)} | {FEATURES: object}

    def parse(data):
        frame = pd.read_csv(io.BytesIO(data), header=None, dtype=dtype, na_filter=False)
        return frame.iloc[:, :FEATURES].to_numpy()

    X, n = np.empty((os.path.getsize(path) // (FEATURES + 1), FEATURES)), 0
    chunks = (data for _, data in cut(f.path, f.data_offset, CHUNK_BYTES))
    with ThreadPoolExecutor(WORKERS) as pool:
        ahead = deque(pool.submit(parse, data) for data in islice(chunks, WORKERS + 1))  # as trainer
        while ahead:
            part = ahead.popleft().result()
            ahead.extend(pool.submit(parse, data) for data in islice(chunks, 1))
            X[n : n + len(part)] = part
            n += len(part)
    return X[:n]


def has_max_threads():
    import pandas as pd

    try:
        pd.get_option("mode.max_threads")
    except KeyError:  # pandas' OptionError is a KeyError
        return False
    return True


def measure(kind, path, model="", out=""):
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(model), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def train(directory, path, epochs, pictures=False):
    """`trainer train` on the file, end to end, in a child: (seconds, peak RSS of the child)."""
    config = directory / "big.yaml"
    config.write_text(
        f"data: {{dataset: csv, path: {path.name}, target: label}}\n"
        f"train: {{epochs: {epochs}, batch_size: 256, checkpoint_every: 0}}\n"
    )
    t0 = time.perf_counter()
    cmd = [
        sys.executable,
        "-m",
        "trainer",
        "train",
        str(config),
        "--out",
        str(directory / "run"),
        "--overwrite",
        "-q",
    ]
    proc = subprocess.Popen(
        [*cmd] + ([] if pictures else ["--no-plots"]), cwd=ROOT, stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, "trainer train failed"
    return time.perf_counter() - t0, usage.ru_maxrss * 1024


# ---------------------------------------------------------------- the table


def rounds(kinds, repeat, **args):
    """kind -> [measurements], the kinds interleaved round by round (a shared machine drifts)."""
    found = {k: [] for k in kinds}
    for _ in range(repeat):
        for kind in kinds:
            found[kind].append(measure(kind, **args))
    return found


def row(what, runs, rows, nbytes):
    seconds = [r["seconds"] for r in runs]
    peak = statistics.median(r["peak"] for r in runs)
    median = statistics.median(seconds)
    return (
        f"| {what} | {median:.2f} ({min(seconds):.2f}-{max(seconds):.2f}) | {rows / median:,.0f} "
        f"| {peak / 1e6:,.0f} | {peak / nbytes:.2f}x |"
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--big", type=int, default=3, help="rows of the memory check, as a multiple (0: skip)")
    p.add_argument("--epochs", type=int, default=2, help="epochs of the end-to-end train")
    p.add_argument("--reads-only", action="store_true", help="measure the reads only (no train, no predict)")
    p.add_argument("--dir", help="where the CSV files go (default: a temp directory, deleted after)")
    p.add_argument("--wide", action="store_true", help="200 rows x 20,000 features instead (see above)")
    args = p.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="bench_csv_"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        (report_wide if args.wide else report)(directory, args)
    finally:
        if not args.dir:
            shutil.rmtree(directory)


def report(directory, args):
    path, out, nbytes = directory / "big.csv", directory / "out.csv", args.rows * FEATURES * 8
    write_csv(path, args.rows)
    print(
        f"{path.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows x {FEATURES} features + label; "
        f"the float64 array is {nbytes / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f}"
    )
    kinds = [
        "read trainer",
        "read np.loadtxt",
        "read pandas",
        "read pandas, trainer's result",
        "read pandas per chunk (floor)",
    ]
    if has_max_threads():
        kinds.append("read pandas, 1 thread")
    if args.reads_only:
        reads = rounds(kinds, args.repeat, path=path)
        table(reads, args.rows, nbytes)
        print(ratios(statistics_of(reads)))
        return
    seconds, peak = train(directory, path, args.epochs)
    model = directory / "run/model.npz"
    summary = json.loads((directory / "run/summary.json").read_text())
    print(
        f"train end to end ({args.epochs} epochs): {seconds:.1f} s, peak RSS {peak / 1e6:,.0f} MB, "
        f"test accuracy {summary['test']['accuracy']:.4f}"
    )
    reads = rounds(kinds, args.repeat, path=path)
    predicts = rounds(
        ["predict trainer", "predict np.loadtxt", "predict pandas"],
        args.repeat,
        path=path,
        model=model,
        out=out,
    )
    table({**reads, **predicts}, args.rows, nbytes)
    if args.big:
        big = directory / "bigger.csv"
        write_csv(big, args.rows * args.big, seed=1)
        more = rounds(["predict trainer", "predict pandas"], 1, path=big, model=model, out=out)
        for kind, runs in more.items():
            print(row(f"{kind}, {args.big}x the rows", runs, args.rows * args.big, nbytes))
    med = statistics_of({**reads, **predicts})
    print(
        f"{ratios(med)}; predict: trainer / pandas {med['predict trainer'] / med['predict pandas']:.2f}x; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )


def report_wide(directory, args):
    """The wide file: reads (trainer, pandas for the same array, pandas' own), and the run end to end."""
    path = directory / "wide.csv"
    rows, features = WIDE
    nbytes = rows * features * 8
    write_wide(path)
    print(
        f"{path.stat().st_size / 1e6:.0f} MB, {rows:,} rows x {features:,} features + label; "
        f"the float64 array is {nbytes / 1e6:.0f} MB; load average {os.getloadavg()[0]:.1f}"
    )
    reads = rounds(["read trainer", SAME, "read pandas"], args.repeat, path=path)
    table(reads, rows, nbytes)
    med = statistics_of(reads)
    print(f"\nread: trainer / pandas for trainer's result {med['read trainer'] / med[SAME]:.2f}x")
    runs = [train(directory, path, 3, pictures=True) for _ in range(args.repeat)]
    seconds = statistics.median(s for s, _ in runs)
    peak = max(p for _, p in runs)
    print(
        f"train end to end (3 epochs, pictures on), median of {len(runs)}: {seconds:.1f} s "
        f"({seconds / med['read trainer']:.1f}x trainer's read), peak RSS {peak / 1e6:,.0f} MB"
    )


def table(found, rows, nbytes):
    """The markdown table of every kind measured; the readers must agree bit for bit."""
    digests = {k: {r["digest"] for r in runs} for k, runs in found.items() if k.startswith("read")}
    assert len(set.union(*digests.values())) == 1, f"the readers disagree: {digests}"
    print("\n| step | median s (min-max) | rows/s | peak RSS added, MB | of the float64 array |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for kind, runs in found.items():
        print(row(kind, runs, rows, nbytes))


def statistics_of(found):
    return {k: statistics.median(r["seconds"] for r in v) for k, v in found.items()}


def ratios(med):
    """The read ratios of the medians, one line."""
    parts = [
        f"read: trainer / pandas {med['read trainer'] / med['read pandas']:.2f}x",
        f"trainer / np.loadtxt {med['read trainer'] / med['read np.loadtxt']:.2f}x",
        f"trainer / pandas for trainer's result {med['read trainer'] / med[SAME]:.2f}x",
        f"floor / pandas {med['read pandas per chunk (floor)'] / med['read pandas']:.2f}x",
        f"trainer / floor {med['read trainer'] / med['read pandas per chunk (floor)']:.2f}x",
    ]
    if "read pandas, 1 thread" in med:
        parts.append(
            f"trainer / pandas on 1 thread {med['read trainer'] / med['read pandas, 1 thread']:.2f}x"
        )
    return "\n" + ", ".join(parts)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
    else:
        main()
