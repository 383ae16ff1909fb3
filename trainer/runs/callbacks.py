"""Things that hang off the training loop: the progress bar, the metrics file, the last epoch's weights.

A callback has any of on_train_begin(state), on_epoch_end(state, record), on_train_end(state).
"""

import sys
import time

import numpy as np

from trainer.model.flat import flat_copy
from trainer.storage.files import write_jsonl


class MetricsWriter:
    """Keeps `metrics.jsonl` current: rewritten atomically at the end of an epoch when `every`
    seconds have passed since the last write (so after every epoch that takes longer), before
    every checkpoint (write is the Checkpointer's before_save: the file never lags the newest
    checkpoint), and at the end."""

    def __init__(self, path, every=1.0):
        self.path, self.every, self.last, self.epochs = path, every, 0.0, None

    def on_epoch_end(self, state, record):
        if time.monotonic() - self.last >= self.every:
            self.write(state)

    def on_train_end(self, state):
        self.write(state)

    def write(self, state):
        """Rewrite the file with state.history, unless it holds those epochs already."""
        if self.epochs != len(state.history):
            write_jsonl(self.path, state.history)
            self.epochs = len(state.history)
        self.last = time.monotonic()


class LastEpochWeights:
    """Keeps a copy of the params as the newest epoch ended (`epoch`, `params`), in one flat buffer.

    A diverging step has already changed the params in place when DivergenceError is raised, so
    this copy is what is left of the last finite weights (one_epoch checks them every epoch end).
    The buffer is allocated once: an epoch end costs one copy of the flat weights (state.w).
    """

    def on_train_begin(self, state):
        self.epoch = state.epoch
        self.w, self.params = flat_copy(state.params)  # params: views of w

    def on_epoch_end(self, state, record):
        np.copyto(self.w, state.w)
        self.epoch = state.epoch


class ProgressBar:
    """A tqdm bar over epochs on stderr with the latest loss and accuracy, refreshed a few times a second."""

    def __init__(self, total, desc=None, every=0.25):
        self.total, self.desc, self.every = total, desc, every
        self.bar, self.last = None, 0.0

    def on_train_begin(self, state):
        from tqdm import tqdm

        self.bar = tqdm(
            total=self.total,
            initial=state.epoch,
            desc=self.desc,
            unit="epoch",
            file=sys.stderr,
            mininterval=self.every,
            dynamic_ncols=True,
            leave=False,
        )

    def on_epoch_end(self, state, record):
        now = time.monotonic()
        if now - self.last >= self.every:
            # the validation accuracy when there is one, else the running train accuracy
            keys = (
                ("train_loss", "val_loss", "val_accuracy")
                if "val_loss" in record
                else ("train_loss", "train_accuracy")
            )
            shown = {k: record[k] for k in keys if k in record}
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in shown.items()}, refresh=False)
            self.last = now
        self.bar.update(1)

    def on_train_end(self, state):
        self.close()

    def close(self):
        """Close the bar; safe to call again, or before training began (an error, Ctrl-C)."""
        if self.bar is not None:
            self.bar.close()
