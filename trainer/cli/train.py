"""`trainer train` (a new run, or --resume one) with its terminal summary, and `trainer plot`."""

import sys

from trainer.cli import command, show_progress
from trainer.errors import ConfigError, TrainerError


def _train_arguments(p):
    p.add_argument(
        "config", nargs="?", help="YAML config file, e.g. configs/moons.yaml (with --resume: optional)"
    )
    p.add_argument(
        "--resume", metavar="RUN_DIR", help="continue an interrupted run from its newest checkpoint"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.lr=0.05 (repeatable)",
    )
    p.add_argument("--out", help="run directory (default runs/<name>/<timestamp>/)")
    p.add_argument(
        "--overwrite", action="store_true", help="allow --out to name a directory holding an earlier run"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--no-plots", action="store_true", help="do not draw the run's pictures (curves.png, ...)")


@command("train", help="train a network from a YAML config and save the run", arguments=_train_arguments)
def train_command(args):
    from trainer.runs.callbacks import ProgressBar
    from trainer.runs.run import train

    cfg, run_dir = _resume_run(args) if args.resume else _new_run(args)
    callbacks = [ProgressBar(cfg.train.epochs, desc=cfg.name)] if show_progress(args) else []
    try:
        result = train(cfg, run_dir, callbacks, resume=bool(args.resume))
    except KeyboardInterrupt as e:
        raise KeyboardInterrupt(f"{str(e) or 'stopped'}; {_how_to_resume(cfg, run_dir)}") from None
    finally:
        for bar in callbacks:
            bar.close()  # the error line must not land inside a half-drawn bar
    pictures = _draw_pictures(run_dir, args)
    if not args.quiet:
        print(_summary_text(result, cfg, pictures))
    return 0


def _new_run(args):
    from trainer.config.load import load_config
    from trainer.storage.rundir import default_run_dir, new_run_dir

    if args.config is None:
        raise ConfigError(
            "trainer train: give a CONFIG file, or --resume RUN_DIR (see `trainer train --help`)"
        )
    cfg = load_config(args.config, args.set)
    return cfg, new_run_dir(args.out or default_run_dir(cfg), overwrite=args.overwrite)


def _resume_run(args):
    from trainer.runs.run import resume_config

    if args.out or args.overwrite:
        raise ConfigError("trainer train: --resume goes on in RUN_DIR itself; drop --out and --overwrite")
    return resume_config(args.resume, args.config, args.set), args.resume


def _how_to_resume(cfg, run_dir):
    """After Ctrl-C: the command that resumes, when a checkpoint is there to resume from."""
    from pathlib import Path

    from trainer.storage.checkpoint import CHECKPOINT, PREVIOUS

    if any((Path(run_dir) / name).exists() for name in (CHECKPOINT, PREVIOUS)):
        return f"resume with: trainer train --resume {run_dir}"
    why = " (train.checkpoint_every is 0)" if not cfg.train.checkpoint_every else ""
    return f"no checkpoint was saved{why}, so there is nothing to resume in {run_dir}"


def _draw_pictures(run_dir, args):
    """The run's pictures when matplotlib is importable; else one line saying how to get them."""
    from trainer.pictures import plots

    if not args.no_plots and plots.available():
        try:
            return plots.plot_run(run_dir)
        except Exception as e:  # the run is saved and sound; a failed picture must not fail it
            if args.debug:
                raise
            print(
                f"trainer: warning: no pictures: {e}; `trainer --debug plot {run_dir}` shows why",
                file=sys.stderr,
            )
    elif not args.no_plots and not args.quiet:
        print(
            f"trainer: no pictures: matplotlib is not installed; `{plots.INSTALL_HINT}` draws "
            "curves.png, confusion.png and boundary.png into every run",
            file=sys.stderr,
        )
    plots.remove_pictures(run_dir)  # after --overwrite, an earlier run's pictures would show the wrong run
    return []


def _summary_text(result, cfg, pictures=()):
    """What the run did, in a few lines: epochs, the per-epoch objective, the final metrics, time."""
    from trainer.pictures.sparkline import sparkline

    s = result.summary
    # without early stopping the weights are the last epoch's: no epoch to name
    best = f" (best {s['best_epoch']})" if cfg.train.early_stopping else ""
    lines = [
        f"run {result.run_dir}",
        f"  epochs   {s['epochs_run']}{best}" + ("  stopped early" if s["stopped_early"] else ""),
    ]
    losses = [r["train_loss"] for r in result.state.history]
    # two train losses that differ: this one is what the steps minimised (L2 included), the mean
    # over each epoch's steps; the train line below is the cross-entropy of the final weights
    lines.append(
        f"  loss     {sparkline(losses)}  {losses[0]:.4f} -> {losses[-1]:.4f} "
        "(train objective per epoch, L2 included)"
    )
    for split in ("train", "val", "test"):
        if split in s:
            loss = s[split].get("loss", s[split].get("log_loss"))
            lines.append(f"  {split:<8} accuracy {s[split]['accuracy']:.4f}  cross-entropy {loss:.4f}")
    if "n_dropped" in s:
        lines.append(f"  missing  {s['n_dropped']} rows with missing values dropped (data.missing: drop)")
    if "n_filled" in s:
        how = f"filled with the train split's {cfg.data.missing}"
        lines.append(f"  missing  {s['n_filled']} missing values {how}")
    lines.append(f"  time     {s['seconds']:.2f} s")
    if pictures:
        lines.append(f"  pictures {', '.join(p.name for p in pictures)}")
    return "\n".join(lines)


def _plot_arguments(p):
    p.add_argument("run_dir", help="a run directory written by `trainer train`")


@command("plot", help="draw a run's pictures again from its files (no retraining)", arguments=_plot_arguments)
def plot_command(args):
    from trainer.pictures import plots

    if not plots.available():
        raise TrainerError(f"trainer plot needs matplotlib: {plots.INSTALL_HINT}")
    for path in plots.plot_run(args.run_dir):
        print(path)
    return 0
