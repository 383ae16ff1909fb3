"""A Dask worker killed mid-sweep costs only the trial it was running, which the cluster runs
again elsewhere: the sweep's results are those of an undisturbed sweep, every trial journaled once."""

import json
import os

import dying_trial

from trainer.storage.journal import Journal, read_journal
from trainer.sweeps import grid

TINY = """\
name: tiny
data: {dataset: moons, params: {n_samples: 200, noise: 0.3}, val_size: 0.1}
train: {epochs: 15, batch_size: 32}
"""


def test_a_worker_killed_mid_sweep_costs_only_its_trial(tmp_path, monkeypatch):
    (tmp_path / "tiny.yaml").write_text(TINY)

    def trials():
        values = grid.parse_grid(["train.lr=0.01,0.1", "model.hidden_size=4,16"])
        return grid.expand(tmp_path / "tiny.yaml", values)

    undisturbed = grid.run_trials(trials(), backend="threading", n_jobs=2)
    monkeypatch.setenv("DYING_TRIAL_DIR", str(tmp_path))  # the workers inherit it
    monkeypatch.setattr(grid, "run_trial", dying_trial.run_trial)  # pickled by name for the workers
    with Journal(tmp_path / "journal.jsonl") as journal:
        disturbed = grid.run_trials(trials(), backend="dask", n_jobs=2, journal=journal)

    def outcome(ranked):
        return [(t.params, t.scores, t.losses, t.chance, t.error, t.rank) for t in ranked]

    assert outcome(disturbed) == outcome(undisturbed)
    starts = [json.loads(line) for line in (tmp_path / "starts").read_text().splitlines()]
    counts = {(lr, h): sum(s[:2] == [lr, h] for s in starts) for lr in (0.01, 0.1) for h in (4, 16)}
    assert (tmp_path / "killed").exists()
    assert counts == {(0.01, 4): 2, (0.01, 16): 1, (0.1, 4): 1, (0.1, 16): 1}  # only its trial ran again
    dying = [pid for lr, h, pid in starts if (lr, h) == dying_trial.DYING]
    assert dying[0] != dying[1] and os.getpid() not in dying  # two worker processes, the first one killed
    assert sorted(r["trial"] for r in read_journal(tmp_path / "journal.jsonl")) == [1, 2, 3, 4]
