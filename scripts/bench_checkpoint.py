#!/usr/bin/env python3
"""What a checkpoint costs: one write (serialise + fsync + two renames) and the per-epoch check
when throttled, beside the epoch it protects. Prints a table; no arguments.

    python scripts/bench_checkpoint.py
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.config.load import config_from_dict, config_to_dict  # noqa: E402
from trainer.runs.run import start  # noqa: E402
from trainer.storage.checkpoint import Checkpointer  # noqa: E402
from trainer.training.loop import one_epoch  # noqa: E402

CASES = {  # name -> (config, epochs of history in the checkpoint)
    "moons (H=100, batch 32)": ({"data": {"dataset": "moons"}, "train": {"batch_size": 32}}, 200),
    "spiral_cs231n (full batch)": (
        {
            "data": {"dataset": "spiral"},
            "train": {"batch_size": None, "optimizer": "sgd", "lr": 1.0},
            "model": {"init": "normal"},
        },
        10_000,
    ),
    "digits (D=64, H=100)": ({"data": {"dataset": "digits"}, "train": {"batch_size": 32}}, 200),
}


def median_seconds(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(raw, epochs):
    cfg = config_from_dict(raw)
    data, state = start(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        epoch = median_seconds(lambda: one_epoch(state, *data.train, cfg.train, cfg.train.lr), 20)
        record = {
            "epoch": 1,
            "train_loss": 0.5,
            "val_loss": 0.5,
            "val_accuracy": 0.9,
            "lr": 0.01,
            "epoch_seconds": 0.001,
        }
        state.history = [dict(record, epoch=i + 1) for i in range(epochs)]
        state.epoch = epochs
        saver = Checkpointer(tmp, config_to_dict(cfg), data)
        write = median_seconds(lambda: saver.save(state), 30)
        saver.on_train_begin(state)
        saver.last = time.monotonic()  # throttled: the check alone
        check = median_seconds(lambda: saver.on_epoch_end(state, record), 2000)
        saver.close()
        size = (Path(tmp) / "checkpoint.npz").stat().st_size
    return epoch, write, check, size


def main():
    print(f"{'config':<28} {'epoch':>9} {'write':>9} {'write/epoch':>11} {'check':>8} {'file':>9}")
    for name, (raw, epochs) in CASES.items():
        epoch, write, check, size = bench(raw, epochs)
        print(
            f"{name:<28} {epoch * 1e3:7.3f}ms {write * 1e3:7.3f}ms {write / epoch:10.1f}x "
            f"{check * 1e6:6.2f}us {size / 1024:7.1f}kB"
        )


if __name__ == "__main__":
    main()
