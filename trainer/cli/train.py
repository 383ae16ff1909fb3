"""`trainer train` (a new run, or --resume one) with its terminal summary, and `trainer plot`."""

import json
import os
import sys

from trainer.cli import (
    column,
    columns,
    command,
    job_arguments,
    note,
    number,
    picture_arguments,
    picture_failed,
    progress_bar,
    report_chance,
    show_progress,
)
from trainer.errors import ConfigError, DivergenceError, TrainerError


def _train_arguments(p):
    p.add_argument(
        "config",
        nargs="?",
        help="YAML config file, e.g. configs/moons.yaml (with --resume: optional); or a CSV file, "
        "trained with the defaults (give --target)",
    )
    p.add_argument(
        "--target",
        type=column,
        metavar="COL",
        help="the label column: header name, or index (-1 = the last); needed for a CSV file, and "
        "for a config the same as --set data.target=COL",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue an interrupted run from its newest checkpoint, or a seed group (OUT of --seeds) "
        "from its unfinished seeds",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.lr=0.05 (repeatable); a relative data.path given "
        "here is relative to the current directory (in the config file: to the file's directory)",
    )
    p.add_argument(
        "--init-from",
        metavar="MODEL",
        help="start from a saved model's weights (fine-tuning; sets model.init_from); a fresh optimizer",
    )
    p.add_argument("--out", help="run directory (default runs/<name>/<timestamp>/)")
    p.add_argument(
        "--overwrite", action="store_true", help="allow --out to name a directory holding an earlier run"
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="print only the run directory: no progress bar, no summary"
    )
    p.add_argument("--no-plots", action="store_true", help="do not draw the run's pictures (curves.png, ...)")
    p.add_argument(
        "--fail-on-chance",
        action="store_true",
        help="exit 4 when the trained network (with --seeds: any seed's) is at chance level (the run is "
        "saved all the same)",
    )
    p.add_argument(
        "--seeds",
        metavar="SPEC",
        help="train once per seed into OUT/seed-<k>/ and summarise over seeds in OUT/summary.json: "
        "N (N seeds from the config's seed), a list 0,3,7 or a range 0-9",
    )
    job_arguments(p, "seeds (with --seeds)")


@command("train", help="train a network from a YAML config and save the run", arguments=_train_arguments)
def train_command(args):
    from trainer.groups.seed_group import is_group

    if args.seeds is not None or (args.resume and is_group(args.resume)):
        return _train_group(args)
    if args.n_jobs is not None or args.backend != "loky" or args.scheduler is not None:
        raise ConfigError("train: --n-jobs, --backend and --scheduler run the seeds of --seeds")
    from trainer.runs.callbacks import ProgressBar
    from trainer.runs.run import train

    cfg, lock = _resume_run(args) if args.resume else _new_run(args)
    with lock as run_dir:  # no other process writes into it until the run is done
        bars = [ProgressBar(cfg.train.epochs, desc=cfg.name)] if show_progress(args) else []
        says = [_SayWhereItResumes(run_dir, cfg.train.epochs)] if args.resume and not args.quiet else []
        earlier = _file_id(run_dir / "summary.json")  # an --overwrite'n run's, or None
        try:
            result = train(cfg, run_dir, [*says, *bars], resume=bool(args.resume))
            model, history = result.model, result.state.history
            pictures = _draw_pictures(run_dir, args, result.data.raw)
        except KeyboardInterrupt as e:
            if _file_id(run_dir / "summary.json") in (None, earlier):  # this run has not finished
                raise KeyboardInterrupt(f"{str(e) or 'stopped'}; {_how_to_resume(cfg, run_dir)}") from None
            (model, history), pictures = _finished_all_the_same(run_dir, args), []
        finally:
            for bar in bars:
                bar.close()  # the error line must not land inside a half-drawn bar
    print(run_dir if args.quiet else _summary_text(run_dir, model, history, cfg, pictures))
    _check_chance(model.summary, args)
    return 0


def _finished_all_the_same(run_dir, args):
    """After a Ctrl-C that came once the run had finished (its summary.json written): the run's
    (model, history) read back, its checkpoints removed as a finished run's are, its pictures
    skipped (any drawn removed: a part would pass for the whole), and one line saying so."""
    from trainer.pictures import plots
    from trainer.storage.checkpoint import remove_checkpoints
    from trainer.storage.rundir import read_run

    model, history, _ = read_run(run_dir)
    remove_checkpoints(run_dir)
    plots.remove_pictures(run_dir)
    skipped = f"; its pictures were skipped: draw them with: trainer plot {run_dir}"
    note(
        f"Ctrl-C came once the run had finished: {run_dir} holds its model.npz and summary.json"
        + (skipped if not args.no_plots and plots.available() else "")
    )
    return model, history


def _file_id(path):
    """(inode, mtime) of a file, or None when there is none. A run writes its files atomically, a new
    file renamed over the old, so a file whose id has changed was written since."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def _check_chance(summary, args):
    """A run at chance level: its warning on stderr, or with --fail-on-chance the error (exit 4)."""
    if summary.get("warning"):
        report_chance(summary["warning"], args.fail_on_chance)


class _SayWhereItResumes:
    """Callback: one line on stderr as a resumed run begins, naming the epoch it goes on from."""

    def __init__(self, run_dir, epochs):
        self.run_dir, self.epochs = run_dir, epochs

    def on_train_begin(self, state):
        where = (
            f"after epoch {state.epoch} of {self.epochs}" if state.epoch else "from the start (no checkpoint)"
        )
        print(f"trainer: resuming {self.run_dir} {where}", file=sys.stderr)


def _new_run(args):
    """(Config, DirLock of its new run directory)."""
    from trainer.storage.rundir import default_run_dir, new_run_dir

    if args.config is None:
        raise ConfigError("train: give a CONFIG file, or --resume RUN_DIR (see `trainer train --help`)")
    cfg = _config(args)
    if args.out is not None:
        return cfg, new_run_dir(args.out, overwrite=args.overwrite)
    return cfg, new_run_dir(default_run_dir(cfg), made=True)


def _config(args):
    """The Config of a YAML file, or of a CSV file trained with the defaults, with the overrides."""
    from trainer.config.load import config_for_csv, is_config_file, load_config

    if is_config_file(args.config):
        return load_config(args.config, _overrides(args))
    if args.target is None:
        raise ConfigError(
            f"train: {args.config} is read as a CSV file (a config is a .yaml file); give its label "
            "column with --target COL (a header name, or an index: -1 for the last)"
        )
    return config_for_csv(args.config, _overrides(args))


def _overrides(args):
    """--target's, then --set's overrides, then --init-from's: model.init_from, the path quoted so
    any name reads back."""
    target = [] if args.target is None else [f"data.target={json.dumps(args.target, ensure_ascii=False)}"]
    init = (
        []
        if args.init_from is None
        else [f"model.init_from={json.dumps(args.init_from, ensure_ascii=False)}"]
    )
    return [*target, *args.set, *init]


def _resume_run(args):
    """(Config, DirLock) of the run to resume."""
    from trainer.runs.run import claim_resume

    if args.out or args.overwrite:
        raise ConfigError("train: --resume goes on in RUN_DIR itself; drop --out and --overwrite")
    if args.init_from is not None:
        raise ConfigError("train: --resume goes on from the run's own checkpoint; drop --init-from")
    return claim_resume(args.resume, args.config, args.set)


def _how_to_resume(cfg, run_dir):
    """After Ctrl-C: the command that resumes, when a checkpoint is there to resume from."""
    from pathlib import Path

    from trainer.storage.checkpoint import CHECKPOINT, PREVIOUS

    if any((Path(run_dir) / name).exists() for name in (CHECKPOINT, PREVIOUS)):
        return f"resume with: trainer train --resume {run_dir}"
    why = " (train.checkpoint_every is 0)" if not cfg.train.checkpoint_every else ""
    return f"no checkpoint was saved{why}, so there is nothing to resume in {run_dir}"


def _draw_pictures(run_dir, args, splits=None):
    """The run's pictures when matplotlib is importable (from the raw splits in memory, when given);
    else one line saying how to get them."""
    from trainer.pictures import plots

    if not args.no_plots and plots.available():
        try:
            return plots.plot_run(run_dir, splits=splits)
        except Exception as e:  # the run is saved and sound; a failed picture must not fail it
            picture_failed(e, run_dir, args.debug)
    elif not args.no_plots and not args.quiet:
        print(
            f"trainer: no pictures: matplotlib is not installed; `{plots.install_hint()}` draws "
            "curves.png, confusion.png and boundary.png into every run",
            file=sys.stderr,
        )
    plots.remove_pictures(run_dir)  # after --overwrite, an earlier run's pictures would show the wrong run
    return []


def _summary_text(run_dir, model, history, cfg, pictures=()):
    """What the run did, in a few lines: epochs, the per-epoch objective, the final metrics, time."""
    from trainer.pictures.sparkline import sparkline

    s = model.summary
    # without early stopping the weights are the last epoch's: no epoch to name
    best = f" (best {s['best_epoch']})" if cfg.train.early_stopping else ""
    lines = [
        f"run {run_dir}",
        f"  epochs    {s['epochs_run']}{best}" + ("  stopped early" if s["stopped_early"] else ""),
    ]
    objective = [r["train_loss"] for r in history]
    # what the steps minimised (loss + L2, the mean over each epoch's steps), not the train line's
    # loss of the final weights
    lines.append(
        f"  objective {sparkline(objective)}  {number(objective[0])} -> {number(objective[-1])} "
        "(per epoch: loss + L2, mean over its batches)"
    )
    for split in ("train", "val", "test"):
        if split in s:
            lines.append(
                f"  {split:<9} accuracy {s[split]['accuracy']:.4f}  "
                f"balanced {s[split]['balanced_accuracy']:.4f}  loss {number(s[split]['loss'])}"
            )
    if "n_dropped" in s:
        lines.append(f"  missing   {s['n_dropped']} rows with missing values dropped (data.missing: drop)")
    if "n_filled" in s:
        from trainer.data.preprocess import fill_text

        lines.append(f"  missing   {s['n_filled']} missing values filled with {fill_text(model.prep)}")
    for split, n in s.get("n_unseen", {}).items():
        lines.append(
            f"  unseen    {n} value(s) of the {split} split are categories the train split does not have: "
            "encoded as none of the known ones"
        )
    lines.append(f"  time      {s['seconds']:.2f} s")
    if pictures:
        lines.append(f"  pictures  {', '.join(p.name for p in pictures)}")
    return "\n".join(lines)


def _train_group(args):
    """`trainer train CONFIG --seeds SPEC` (or --resume GROUP): every seed, its pictures, the summary."""

    from trainer.groups import seed_group
    from trainer.sweeps.jobs import check_backend

    check_backend(args.backend, args.scheduler)
    group = _resume_group(args) if args.resume else _new_group(args)
    if group.lock is None:
        seed_group.lock_group(group)
    with group.lock:  # no other process writes into the group until it is done
        summary, ran, pictures = _run_group(group, args)
    print(group.out if args.quiet else _group_text(group, summary, pictures))
    _check_group_chance(group, summary, args)
    if summary["diverged"]:
        which = ", ".join(summary["diverged"])
        raise DivergenceError(
            f"{len(summary['diverged'])} of {len(group.seeds)} seeds diverged (seed {which}: "
            f"{next(iter(summary['diverged'].values()))}); {group.out / 'summary.json'} holds the others"
        )
    return 0


def _check_group_chance(group, summary, args):
    """Seeds at chance level: one warning line naming them, or with --fail-on-chance the error (exit 4)."""
    chance = summary.get("chance") or {}
    if not chance:
        return
    message = (
        f"{len(chance)} of {len(group.seeds)} seeds at chance level (seed {', '.join(chance)}: "
        f"{next(iter(chance.values()))})"
    )
    report_chance(message, args.fail_on_chance and not summary["diverged"])  # a divergence exits 3


def _run_group(group, args):
    """(summary, seeds trained now, pictures) of the group's unfinished seeds, run with a progress bar."""
    from trainer.groups import seed_group
    from trainer.pictures import plots

    todo = len(group.seeds) - len(seed_group.finished(group))
    bar = progress_bar(args, todo, group.name, "seed")
    finish = None if args.no_plots or not plots.available() else draw_run_pictures
    try:
        with bar:
            summary, ran = seed_group.run_group(
                group,
                args.n_jobs,
                args.backend,
                args.scheduler,
                on_done=lambda s: bar.update(1),
                finish=finish,
            )
    except KeyboardInterrupt as e:
        raise KeyboardInterrupt(
            f"{str(e) or 'stopped'}; finished seeds are kept: resume with: trainer train --resume {group.out}"
        ) from None
    return summary, ran, _draw_group_pictures(group, ran, args)


def _new_group(args):
    from trainer.config.seed_spec import parse_seeds
    from trainer.groups.seed_group import new_group
    from trainer.storage.rundir import default_run_dir

    if args.config is None:
        raise ConfigError("train --seeds: give a CONFIG file (see `trainer train --help`)")
    cfg = _config(args)
    group_seeds = parse_seeds(args.seeds, cfg.seed)
    return new_group(cfg, group_seeds, args.out or default_run_dir(cfg), args.overwrite)


def _resume_group(args):
    from trainer.config.diff import diff_keys, show_diff
    from trainer.config.load import config_to_dict, load_config
    from trainer.groups.seed_group import open_group

    if args.seeds is not None:
        raise ConfigError("train: --resume goes on with the group's own seeds; drop --seeds")
    if args.init_from is not None:
        raise ConfigError("train: --resume goes on from the group's own config; drop --init-from")
    if args.out or args.overwrite:
        raise ConfigError("train: --resume goes on in the group's directory; drop --out and --overwrite")
    group = open_group(args.resume)
    if args.config or args.set:
        asked = load_config(args.config or group.out / "config.yaml", args.set)
        changed = diff_keys(config_to_dict(group.config), config_to_dict(asked))
        if changed:
            raise ConfigError(
                f"cannot resume {group.out}: the config differs from its config.yaml "
                f"({show_diff(changed)}); resume without changes, or start a new group"
            )
    return group


def draw_run_pictures(result):
    """A seed's run pictures, drawn in its job from the data it trained on (run_group's finish)."""
    from trainer.pictures import plots

    plots.plot_run(result.run_dir, splits=result.data.raw)


def _draw_group_pictures(group, ran, args):
    """Each seed trained now has its run's pictures (drawn in its job; drawn here from its files when
    that failed, so that the error is said), and the group its band picture, curves.png."""
    from trainer.pictures import bands, plots

    if args.no_plots or not plots.available():
        return []
    try:
        for seed in ran:
            run_dir = group.seed_dir(seed)
            if (run_dir / "model.npz").exists() and not (run_dir / plots.PICTURES[0]).exists():
                plots.plot_run(run_dir)
        return bands.plot_group(group.out)
    except Exception as e:  # the runs are saved and sound; a failed picture must not fail them
        picture_failed(e, group.out, args.debug)
        return []


def _group_text(group, summary, pictures=()):
    """The group in a few lines: where, the seeds, and per number its mean, spread and interval."""
    from trainer.config.seed_spec import seeds_text

    def f(v):
        return "-" if v is None else f"{v:.4g}"

    rows = [["", "n", "mean", "std", "95% CI of the mean", "min", "median", "max"]]
    for key, m in summary["metrics"].items():
        ci = "-" if m["ci_low"] is None else f"[{f(m['ci_low'])}, {f(m['ci_high'])}]"
        rows.append(
            [key, str(m["n"]), f(m["mean"]), f(m["std"]), ci, f(m["min"]), f(m["median"]), f(m["max"])]
        )
    lines = [
        f"seed group {group.out}: {group.name}, {len(group.seeds)} seeds ({seeds_text(group.seeds)}), "
        f"one run directory each (seed-<k>/)",
        f"  interval: {summary['interval']} (none for one seed)",
        "",
        columns(rows),
        "",
        f"summary  {group.out / 'summary.json'}",
    ]
    if pictures:
        lines.append(f"pictures {', '.join(str(p) for p in pictures)} (mean, std band, min-max band)")
    return "\n".join(lines)


def _plot_arguments(p):
    p.add_argument(
        "directory",
        help="a directory trainer wrote: a run (`trainer train`), a seed group (`trainer train --seeds`), "
        "a sweep (`trainer sweep`) or an evaluation (`trainer evaluate --plot DIR`)",
    )
    p.add_argument("--out", metavar="DIR", help="write the pictures into DIR (default: the directory itself)")
    picture_arguments(p)


@command(
    "plot",
    help="draw the pictures of a run, seed group, sweep or evaluation again from its files (no retraining)",
    arguments=_plot_arguments,
)
def plot_command(args):
    from trainer.pictures import plots

    if not plots.available():
        raise TrainerError(f"trainer plot needs matplotlib: {plots.install_hint()}")
    from trainer.pictures.redraw import redraw

    for path in redraw(args.directory, args.out, args.format, args.dpi):
        print(path)
    return 0
