"""`trainer plot DIR`: which kind of directory DIR is, told by the files it holds, and its pictures
drawn again from them.

KINDS is the one place a kind is added: what it is, the files that mark it (any one is enough),
and draw(directory, out, fmt, dpi) -> the paths written. The first kind whose files DIR holds is
its kind; a seed group also holds a run's config.yaml and summary.json, so the run comes last.
"""

from pathlib import Path

from trainer.errors import TrainerError, did_you_mean_path
from trainer.groups.seed_group import GROUP_FILE
from trainer.pictures.bands import plot_group
from trainer.pictures.evaluation import plot_evaluation
from trainer.pictures.plots import DPI, plot_run
from trainer.pictures.sweep_plots import plot_sweep
from trainer.storage.evaldir import EVALUATION_FILE
from trainer.storage.modelfile import RUN_MODEL
from trainer.storage.rundir import RUN_FILES
from trainer.sweeps.sweepdir import SWEEP_FILE

KINDS = (
    ("a seed group", (GROUP_FILE,), plot_group),
    ("an evaluation", (EVALUATION_FILE,), plot_evaluation),
    ("a sweep", (SWEEP_FILE,), plot_sweep),
    ("a run", (RUN_MODEL, *RUN_FILES), plot_run),
)


def kind_of(directory):
    """(what, draw) of the first entry of KINDS whose files `directory` holds, or None."""
    directory = Path(directory)
    for what, markers, draw in KINDS:
        if any((directory / name).exists() for name in markers):
            return what, draw
    return None


def redraw(directory, out=None, fmt="png", dpi=DPI):
    """Draw the pictures of the directory `directory`, whatever its kind, into `out` (default: the
    directory) as `fmt` files at `dpi`; the paths written. A one-line TrainerError for a directory
    of no kind in KINDS, listing what `trainer plot` draws."""
    directory = Path(directory)
    if not directory.is_dir():
        why = "not a directory" if directory.exists() else f"no such directory{did_you_mean_path(directory)}"
        raise TrainerError(f"{directory}: {why}; `trainer plot` draws {drawn_kinds()}")
    kind = kind_of(directory)
    if kind is None:
        raise TrainerError(f"{directory}: nothing to draw; `trainer plot` draws {drawn_kinds()}")
    _, draw = kind
    return draw(directory, out, fmt, dpi)


def drawn_kinds():
    """The kinds `trainer plot` draws, each with the file that marks it, as a phrase."""
    kinds = [f"{what} (holding {markers[0]})" for what, markers, _ in KINDS]
    return f"{', '.join(kinds[:-1])} or {kinds[-1]}"
