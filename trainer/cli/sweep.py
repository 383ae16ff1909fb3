"""`trainer sweep`: train every combination of a grid of config values and rank them."""

import sys

from trainer.cli import at_least, columns, command, job_arguments, number, show_progress


def _sweep_arguments(p):
    p.add_argument("config", help="YAML config file: the base every trial changes")
    p.add_argument(
        "--grid",
        action="append",
        required=True,
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
        help="directory for results.csv, results.json and best.yaml "
        "(default runs/sweeps/<name>/<timestamp>/)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="allow --out to name a directory holding an earlier sweep"
    )
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
    from tqdm import tqdm

    from trainer.config.load import load_config
    from trainer.storage.rundir import default_run_dir
    from trainer.sweeps import sweep

    grid = sweep.parse_grid(args.grid, args.set)
    trials = sweep.expand(args.config, grid, args.set)
    cv, how = sweep.scoring(trials, args.cv)
    seeds = _seeds(args, grid, trials)
    if seeds:
        from trainer.config.seeds import seeds_text

        how += f"; each trial trained on {len(seeds)} seeds ({seeds_text(seeds)}): mean and std over seeds"
    out = sweep.check_out_dir(
        args.out or default_run_dir(load_config(args.config, args.set), "runs/sweeps"), args.overwrite
    )
    with tqdm(
        total=len(trials) * len(seeds or [None]),
        desc="sweep",
        unit="trial",
        file=sys.stderr,
        leave=False,
        disable=not show_progress(args),
    ) as bar:
        ranked = sweep.run_trials(
            trials, cv, args.n_jobs, args.backend, args.scheduler, lambda t: bar.update(1), seeds
        )
    best = sweep.write_results(out, ranked, args.config, cv)
    print(out if args.quiet else _sweep_text(out, ranked, best, how, cv))
    return 0


def _seeds(args, grid, trials):
    """The seeds of --seeds, counted from the config's seed; None without it."""
    from trainer.config.seeds import parse_seeds
    from trainer.errors import ConfigError

    if args.seeds is None:
        return None
    if "seed" in grid:
        raise ConfigError("--grid seed=...: the seeds are given by --seeds; drop one of them")
    return parse_seeds(args.seeds, trials[0].config.seed)


def _sweep_text(out, ranked, best, how, cv):
    """How the trials were scored, the ranked trials as a table, then where the results and best.yaml are.

    std is over the folds, or over the seeds with --seeds: "-" when there is one score (a trial
    scored on its one validation split, or one seed). The fit time is a trial's, all its folds
    (and seeds) together."""
    fit_time = f"fit time ({cv} folds)" if cv else "fit time"
    rows = [["rank", *best.params, "accuracy", "std", "loss", fit_time]]
    rows += [
        [str(t.rank), *(str(v) for v in t.params.values())]
        + (
            [
                f"{t.mean:.4f}",
                "-" if t.std is None or len(t.scores) < 2 else f"{t.std:.4f}",
                number(t.loss),
                f"{t.fit_time:.2f} s",
            ]
            if t.error is None
            else ["failed", "", "", t.error]
        )
        for t in ranked
    ]
    return "\n".join(
        [
            f"sweep {out}: {len(ranked)} trials ranked by accuracy, then loss; fit time is per trial",
            f"scored by {how}",
            "",
            columns(rows),
            "",
            f"results  {out / 'results.csv'}, {out / 'results.json'}",
            f"best     {out / 'best.yaml'}  (trainer train {out / 'best.yaml'})",
        ]
    )
