"""`trainer sweep`: train every combination of a grid of config values and rank them."""

import argparse
import sys

from trainer.cli import at_least, columns, command, number, show_progress


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
        "--n-jobs",
        type=_n_jobs,
        metavar="N",
        help="trials at once; -1 = one per core (default 1; dask: every worker)",
    )
    from trainer.sweeps.jobs import BACKENDS

    p.add_argument(
        "--backend",
        choices=list(BACKENDS),
        default="loky",
        help=f"joblib backend: {', '.join(f'{k} ({v})' for k, v in BACKENDS.items())} (default loky)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
        "(dask backend; default: a local cluster on 127.0.0.1)",
    )
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


def _n_jobs(text):
    """An argparse type: joblib's n_jobs, any integer but 0."""
    n = int(text)
    if n == 0:
        raise argparse.ArgumentTypeError(
            "must be a positive number of jobs, or negative (-1 = one per core), not 0"
        )
    return n


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
    out = sweep.check_out_dir(
        args.out or default_run_dir(load_config(args.config, args.set), "runs/sweeps"), args.overwrite
    )
    with tqdm(
        total=len(trials),
        desc="sweep",
        unit="trial",
        file=sys.stderr,
        leave=False,
        disable=not show_progress(args),
    ) as bar:
        ranked = sweep.run_trials(
            trials, cv, args.n_jobs, args.backend, args.scheduler, on_done=lambda t: bar.update(1)
        )
    best = sweep.write_results(out, ranked, args.config, cv)
    print(out if args.quiet else _sweep_text(out, ranked, best, how, cv))
    return 0


def _sweep_text(out, ranked, best, how, cv):
    """How the trials were scored, the ranked trials as a table, then where the results and best.yaml are.

    std is over the folds: "-" when a trial is scored on its one validation split. The fit time is
    a trial's, all its folds together."""
    fit_time = f"fit time ({cv} folds)" if cv else "fit time"
    rows = [["rank", *best.params, "accuracy", "std", "loss", fit_time]]
    rows += [
        [str(t.rank), *(str(v) for v in t.params.values())]
        + (
            [
                f"{t.mean:.4f}",
                f"{t.std:.4f}" if len(t.scores) > 1 else "-",
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
