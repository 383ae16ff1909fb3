"""`trainer sweep`: train every combination of a grid of config values and rank them."""

import sys

from trainer.cli import (
    at_least,
    columns,
    command,
    job_arguments,
    number,
    picture_arguments,
    picture_failed,
    progress_bar,
    report_chance,
)


def _sweep_arguments(p):
    p.add_argument(
        "config", nargs="?", help="YAML config file: the base every trial changes (with --resume: optional)"
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="sweep a config key over values (YAML scalars), e.g. --grid train.lr=0.01,0.1,1 "
        "(repeatable: every combination)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key in every trial; a relative data.path given here is relative to the "
        "current directory (in the config file: to the file's directory)",
    )
    p.add_argument(
        "--cv",
        type=at_least(2),
        metavar="K",
        help="score by stratified K-fold cross-validation on the train+validation rows "
        "(default: the validation split when every trial has one, else cross-validation; "
        "the output says which)",
    )
    p.add_argument(
        "--seeds",
        metavar="SPEC",
        help="train each trial once per seed and rank by the mean over seeds (std over seeds): "
        "N (N seeds from the config's seed), 0,3,7 or 0-9",
    )
    job_arguments(p, "trials")
    p.add_argument(
        "--out",
        help="directory for the journal, results.csv, results.json and best.yaml "
        "(default runs/sweeps/<name>/<timestamp>/)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="allow --out to name a directory holding an earlier sweep"
    )
    p.add_argument(
        "--resume",
        metavar="OUT",
        help="go on with the broken sweep in OUT: run only the trials its journal does not hold",
    )
    p.add_argument(
        "--keep-models",
        action="store_true",
        help="keep every trial's model in OUT/models/ (one per fold, seed)",
    )
    p.add_argument(
        "--fail-on-chance",
        action="store_true",
        help="exit 4 when every trial is at chance level (the results are written all the same)",
    )
    p.add_argument(
        "--no-plots",
        action="store_true",
        help="do not draw the sweep's pictures (sweep_<key>.png, sweep_heatmap.png, sweep_curves.png)",
    )
    picture_arguments(p)
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the sweep's directory: no progress bar, no table",
    )


@command(
    "sweep",
    help="train every combination of a grid of config values and rank them",
    arguments=_sweep_arguments,
)
def sweep_command(args):
    from trainer.sweeps import grid, sweepdir
    from trainer.sweeps.jobs import check_backend

    check_backend(args.backend, args.scheduler)
    plan = _resume(args) if args.resume else _start(args)
    with plan:  # holds the directory's lock and journal until the results are written
        ranked = _run(plan, args)
        error = grid.all_failed(ranked)
        if error is not None:
            sweepdir.discard(plan)  # nothing learned, nothing to keep
            raise error
        best = grid.write_results(plan.out, ranked, plan.config, plan.cv)
        pictures = _draw_pictures(plan.out, args)
    print(plan.out if args.quiet else _sweep_text(plan.out, ranked, best, plan.how, plan.cv, pictures))
    _check_chance(ranked, args)
    failed = grid.failures(ranked)
    if failed is not None:
        raise failed
    return 0


def _start(args):
    """A new sweep: planned (every trial's config checked), then its directory claimed."""
    from trainer.errors import ConfigError
    from trainer.storage.rundir import default_run_dir
    from trainer.sweeps import sweepdir

    if args.config is not None and not args.grid:
        raise ConfigError(
            "sweep: the following arguments are required: --grid KEY=V1,V2,... (or --resume OUT to go "
            "on with a broken sweep; see `trainer sweep --help`)"
        )
    if args.config is None:
        raise ConfigError(
            "sweep: give a CONFIG and --grid KEY=V1,V2,..., or --resume OUT (see `trainer sweep --help`)"
        )
    plan = sweepdir.plan(args.config, args.grid, args.set, args.cv, args.seeds, args.keep_models)
    out = args.out or default_run_dir(plan.trials[0].config, "runs/sweeps")
    return sweepdir.start(plan, out, args.overwrite)


def _resume(args):
    from trainer.errors import ConfigError
    from trainer.sweeps import sweepdir

    if args.out or args.overwrite:
        raise ConfigError("sweep: --resume goes on in OUT itself; drop --out and --overwrite")
    return sweepdir.resume(
        args.resume, args.config, args.grid, args.set, args.cv, args.seeds, args.keep_models
    )


def _run(plan, args):
    """Every job the journal does not hold yet, with a progress bar; the trials ranked. Ctrl-C, or
    a worker lost for good, ends in one line saying what is kept and how to go on."""
    from trainer.errors import TrainerError
    from trainer.sweeps import grid

    total, held = len(plan.jobs), plan.journaled()
    bar = progress_bar(args, total, "sweep", "trial", initial=held)
    try:
        with bar:
            return grid.run_trials(
                plan.trials,
                plan.cv,
                args.n_jobs,
                args.backend,
                args.scheduler,
                lambda t: bar.update(1),
                plan.seeds,
                plan.journal,
                plan.models_dir,
            )
    except (KeyboardInterrupt, TrainerError) as e:
        raise type(e)(f"{str(e) or 'stopped'}; {_kept(plan, args, total)}") from None


def _kept(plan, args, total):
    """What a broken sweep keeps, and how to go on with it; a new one that finished nothing is removed."""
    from trainer.sweeps import sweepdir

    done = plan.journaled()
    if not done and not args.resume:
        sweepdir.discard(plan)
        return f"no trial had finished, so {plan.out} is removed"
    what = "runs (trials times seeds)" if plan.seeds else "trials"
    return (
        f"{done} of {total} {what} are done and kept in {plan.journal.path}; "
        f"resume with: trainer sweep --resume {plan.out}"
    )


def _draw_pictures(out, args):
    """The sweep's pictures when matplotlib is importable, else one line saying how to get them;
    a picture that fails is one warning line (its error under --debug), never a failed sweep."""
    from trainer.pictures import plots, sweep_plots

    if args.no_plots:
        # an overwritten sweep's would show another
        plots.remove_pictures(out, fmt=args.format, names=sweep_plots.sweep_pictures(out, args.format))
        return []
    if not plots.available():
        if not args.quiet:
            print(
                f"trainer: no pictures: matplotlib is not installed; `{plots.install_hint()}` draws "
                "sweep_<key>.png, sweep_heatmap.png and sweep_curves.png into every sweep",
                file=sys.stderr,
            )
        return []
    try:
        return sweep_plots.plot_sweep(out, fmt=args.format, dpi=args.dpi)
    except Exception as e:  # the results are written and sound; a failed picture must not fail them
        picture_failed(e, out, args.debug)
        return []


def _check_chance(ranked, args):
    """Every trial at chance level: a warning line, or with --fail-on-chance the error (exit 4)."""
    learned = [t for t in ranked if t.error is None and not t.chance]
    if learned:
        return
    message = (
        "every trial is at chance level (train accuracy not above the majority-class rate, or loss not "
        "below that of predicting the class priors): best.yaml holds the best of them; try other "
        "train.lr values (smaller where the loss blew up, larger where it hardly fell) or another model.init"
    )
    if not all(t.config.data.standardize for t in ranked):
        message += ", or data.standardize: true"
    report_chance(message, args.fail_on_chance)


def _sweep_text(out, ranked, best, how, cv, pictures=()):
    """How the trials were scored, the ranked trials as a table, then where the results and best.yaml are.

    std is over the folds, or over the seeds with --seeds: "-" when there is one score (a trial
    scored on its one validation split, or one seed). The fit time is a trial's, all its folds
    (and seeds) together."""
    fit_time = f"fit time ({cv} folds)" if cv else "fit time"
    rows = [["rank", *best.params, "accuracy", "std", "loss", fit_time, ""]]
    rows += [
        [str(t.rank), *(str(v) for v in t.params.values())]
        + (
            [
                f"{t.mean:.4f}",
                "-" if t.std is None or len(t.scores) < 2 else f"{t.std:.4f}",
                number(t.loss),
                f"{t.fit_time:.2f} s",
                "chance level" if t.chance else "",
            ]
            if t.error is None
            else ["failed", "", "", "", t.error]
        )
        for t in ranked
    ]
    chance = sum(t.chance for t in ranked)
    lines = [
        f"sweep {out}: {len(ranked)} trials ranked by accuracy, then loss; fit time is per trial",
        f"scored by {how}",
    ]
    if chance:
        lines.append(
            f"{chance} of {len(ranked)} trials at chance level (the network learned nothing): ranked after "
            "every trial that learned"
        )
    return "\n".join(
        [
            *lines,
            "",
            columns(rows),
            "",
            f"results  {out / 'results.csv'}, {out / 'results.json'}",
            f"best     {out / 'best.yaml'}  (trainer train {out / 'best.yaml'})",
            *([f"pictures {', '.join(p.name for p in pictures)}"] if pictures else []),
        ]
    )
