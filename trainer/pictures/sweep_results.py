"""A finished sweep as its pictures read it: results.json's ranked trials and sweep.json's grid,
with the words and marks every sweep picture shares."""

from dataclasses import dataclass
from pathlib import Path

from trainer.errors import TrainerError
from trainer.pictures.plots import COLORS
from trainer.storage.files import read_json
from trainer.sweeps.sweepdir import SWEEP_FILE

CHANCE = COLORS[5]  # the mark of a trial at chance level; a failed one's is a black cross


@dataclass
class SweepResults:
    name: str  # the config's
    grid: dict  # swept key -> its values in grid order
    trials: list  # results.json's records, best first
    cv: int | None
    seeds: list | None

    @property
    def score(self):
        """The ranking metric, in words for an axis."""
        over = ([f"{self.cv} folds"] if self.cv else []) + (
            [f"{len(self.seeds)} seeds"] if self.seeds else []
        )
        what = "cross-validated accuracy" if self.cv else "validation accuracy"
        return f"{what} (mean over {' and '.join(over)})" if over else what

    @property
    def spread(self):
        """What the error bars are; None when each trial has one score."""
        if self.seeds:
            return f"±1 std over the {len(self.seeds)} seeds" if len(self.seeds) > 1 else None
        return f"±1 std over the {self.cv} folds" if self.cv else None


def read_sweep(sweep_dir):
    """The SweepResults of a finished sweep's directory; a one-line TrainerError when it is none."""
    sweep_dir = Path(sweep_dir)
    if not (sweep_dir / "results.json").is_file():
        raise TrainerError(
            f"{sweep_dir}: the sweep has not finished (no results.json); go on with it: "
            f"trainer sweep --resume {sweep_dir}"
        )
    results = read_json(sweep_dir / "results.json", "sweep results")
    definition = read_json(sweep_dir / SWEEP_FILE, "sweep file")["definition"]
    grid = {key: definition["grid"][key] for key in results["grid"]}
    return SweepResults(
        definition["config"]["name"], grid, results["trials"], results["cv"], results["seeds"]
    )


def value_text(v):
    """A grid value for an axis or a legend, as `--grid` takes it: null, true, 0.001, 1e+09."""
    if v is None or isinstance(v, bool):
        return {None: "null", True: "true", False: "false"}[v]
    return f"{v:g}" if isinstance(v, float) else str(v)


def params_text(trial):
    return " ".join(f"{k}={value_text(v)}" for k, v in trial["params"].items())
