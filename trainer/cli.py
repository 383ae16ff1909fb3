"""The `trainer` command line: one small function per subcommand; the only place that prints and exits."""
import argparse
import os
import sys
import warnings

from trainer import __version__
from trainer.errors import ConfigError, TrainerError


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors become one-line ConfigErrors (exit 2) instead of usage dumps."""

    def error(self, message):
        raise ConfigError(f"{self.prog}: {message} (see `{self.prog} --help`)")


COMMANDS = {}  # name -> (help, arguments, run)


def command(name, help, arguments=lambda p: None):
    """Register `run(args) -> exit code` as subcommand `name`; `arguments(parser)` adds its options."""
    def register(run):
        COMMANDS[name] = (help, arguments, run)
        return run
    return register


def build_parser():
    parser = _Parser(prog="trainer", description="Train, evaluate and inspect two-layer networks.")
    parser.add_argument("--version", action="version", version=f"trainer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for name, (help, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def _load_config(args):
    from trainer.config import load_config

    return load_config(args.config, args.set)


def _show_progress(args):
    return not args.quiet and sys.stderr.isatty()


def _train_arguments(p):
    p.add_argument("config", nargs="?", help="YAML config file, e.g. configs/moons.yaml (with --resume: optional)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run from its newest checkpoint")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set train.lr=0.05 (repeatable)")
    p.add_argument("--out", help="run directory (default runs/<name>/<timestamp>/)")
    p.add_argument("--overwrite", action="store_true", help="allow --out to name a directory holding an earlier run")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--no-plots", action="store_true", help="do not draw the run's pictures (curves.png, ...)")


@command("train", help="train a network from a YAML config and save the run", arguments=_train_arguments)
def train_command(args):
    from trainer.callbacks import ProgressBar
    from trainer.run import train_run

    cfg, run_dir = _resume_run(args) if args.resume else _new_run(args)
    callbacks = [ProgressBar(cfg.train.epochs, desc=cfg.name)] if _show_progress(args) else []
    try:
        result = train_run(cfg, run_dir, callbacks, resume=bool(args.resume))
    except KeyboardInterrupt as e:
        raise KeyboardInterrupt(f"{str(e) or 'stopped'}; resume with: trainer train --resume {run_dir}") from None
    finally:
        for bar in callbacks:
            bar.close()  # the error line must not land inside a half-drawn bar
    pictures = _draw_pictures(run_dir, args)
    if not args.quiet:
        print(_summary_text(result, pictures))
    return 0


def _new_run(args):
    from trainer.run import default_run_dir, new_run_dir

    if args.config is None:
        raise ConfigError("trainer train: give a CONFIG file, or --resume RUN_DIR (see `trainer train --help`)")
    cfg = _load_config(args)
    return cfg, new_run_dir(args.out or default_run_dir(cfg), overwrite=args.overwrite)


def _resume_run(args):
    from trainer.run import resume_config

    if args.out or args.overwrite:
        raise ConfigError("trainer train: --resume goes on in RUN_DIR itself; drop --out and --overwrite")
    return resume_config(args.resume, args.config, args.set), args.resume


def _draw_pictures(run_dir, args):
    """The run's pictures when matplotlib is importable; else one line saying how to get them."""
    from trainer import plots

    if not args.no_plots and plots.available():
        try:
            return plots.plot_run(run_dir)
        except Exception as e:  # the run is saved and sound; a failed picture must not fail it
            if args.debug:
                raise
            print(f"trainer: warning: no pictures: {e}; `trainer --debug plot {run_dir}` shows why", file=sys.stderr)
    elif not args.no_plots and not args.quiet:
        print(f"trainer: no pictures: matplotlib is not installed; `{plots.INSTALL_HINT}` draws "
              "curves.png, confusion.png and boundary.png into every run", file=sys.stderr)
    plots.remove_pictures(run_dir)  # after --overwrite, an earlier run's pictures would show the wrong run
    return []


def _summary_text(result, pictures=()):
    from trainer.sparkline import sparkline

    s = result.summary
    lines = [f"run {result.run_dir}", f"  epochs   {s['epochs_run']} (best {s['best_epoch']})"
             + ("  stopped early" if s["stopped_early"] else "")]
    losses = [r["train_loss"] for r in result.state.history]
    lines.append(f"  loss     {sparkline(losses)}  {losses[0]:.4f} -> {losses[-1]:.4f} (train, per epoch)")
    for split in ("train", "val", "test"):
        if split in s:
            loss = s[split].get("loss", s[split].get("log_loss"))
            lines.append(f"  {split:<8} accuracy {s[split]['accuracy']:.4f}  loss {loss:.4f}")
    lines.append(f"  time     {s['seconds']:.2f} s")
    if pictures:
        lines.append(f"  pictures {', '.join(p.name for p in pictures)}")
    return "\n".join(lines)


def _plot_arguments(p):
    p.add_argument("run_dir", help="a run directory written by `trainer train`")


@command("plot", help="draw a run's pictures again from its files (no retraining)", arguments=_plot_arguments)
def plot_command(args):
    from trainer import plots

    if not plots.available():
        raise TrainerError(f"trainer plot needs matplotlib: {plots.INSTALL_HINT}")
    for path in plots.plot_run(args.run_dir):
        print(path)
    return 0


def _evaluate_arguments(p):
    p.add_argument("model", help="a model.npz written by `trainer train`")
    p.add_argument("--csv", help="labelled CSV to evaluate on (default: the model's own test split)")
    p.add_argument("--target", type=_column, help="label column of --csv: name or index (default: the model's data.target)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


@command("evaluate", help="metrics of a saved model on its own test split or on a CSV", arguments=_evaluate_arguments)
def evaluate_command(args):
    import json

    from trainer.evaluate import evaluate, evaluate_csv
    from trainer.modelfile import load_model

    model = load_model(args.model)
    if args.csv:
        target = args.target if args.target is not None else model.config.get("data", {}).get("target", -1)
        report = evaluate_csv(model, args.csv, target)
    else:
        report = evaluate(model)
    print(json.dumps(report, indent=2) if args.json else _report_text(report))
    return 0


def _column(text):
    """A CSV column: an integer index when it parses as one, else a header name."""
    try:
        return int(text)
    except ValueError:
        return text


def _report_text(r):
    width = max(len(str(c)) for c in r["classes"])
    lines = [f"accuracy {r['accuracy']:.4f}  log_loss {r['log_loss']:.4f}  n_samples {r['n_samples']}",
             f"{'class':<{width}}  precision  recall  f1      support"]
    for c, m in r["per_class"].items():
        lines.append(f"{c:<{width}}  {m['precision']:.4f}     {m['recall']:.4f}  {m['f1']:.4f}  {m['support']}")
    lines.append("confusion matrix (rows: true, columns: predicted)")
    lines += ["  " + " ".join(f"{v:5d}" for v in row) for row in r["confusion_matrix"]]
    return "\n".join(lines)


def _predict_arguments(p):
    p.add_argument("model", help="a model.npz written by `trainer train`")
    p.add_argument("csv", help="CSV of feature rows (a header naming the model's features is optional)")
    p.add_argument("--target", type=_column, help="a label column in the CSV to ignore")
    p.add_argument("--proba", action="store_true", help="also write each class's probability")
    p.add_argument("-o", "--output", help="write the predictions to this CSV file (default: stdout)")


@command("predict", help="predict the classes of the rows of a CSV with a saved model", arguments=_predict_arguments)
def predict_command(args):
    from trainer.evaluate import predict_csv
    from trainer.files import atomic_write
    from trainer.modelfile import load_model

    model = load_model(args.model)
    pred, proba = predict_csv(model, args.csv, target=args.target)
    header = ["prediction"] + ([f"proba_{c}" for c in model.classes] if args.proba else [])
    rows = [[str(model.classes[i])] + ([repr(float(p)) for p in ps] if args.proba else [])
            for i, ps in zip(pred, proba)]
    text = "".join(",".join(r) + "\n" for r in [header, *rows])
    if args.output:
        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


@command("datasets", help="list the built-in datasets and their parameters")
def datasets_command(args):
    from trainer.data import DATASETS

    for name, spec in DATASETS.items():
        params = ", ".join(f"{k}={v!r}" for k, v in spec.defaults.items())
        print(f"{name:<20} {spec.description}" + (f"\n{'':<20} params: {params}" if params else ""))
    return 0


# --- trainer gradcheck (issue 2) ---


def _gradcheck_arguments(p):
    """--n --d --h --c --reg --seed --json."""
    # no defaults here, so that `trainer --version` need not import numpy: GradcheckConfig owns them
    p.add_argument("--n", type=_at_least(1), help="rows N of the random batch")
    p.add_argument("--d", type=_at_least(1), help="features D")
    p.add_argument("--h", type=_at_least(1), help="hidden units H")
    p.add_argument("--c", type=_at_least(1), help="classes C")
    p.add_argument("--reg", type=float, help="L2 regularisation strength")
    p.add_argument("--seed", type=_at_least(0), help="seed of the data, labels and weights")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")


@command("gradcheck", help="check the compact gradients against centred differences and the full Jacobians", arguments=_gradcheck_arguments)
def gradcheck_command(args):
    import json

    from trainer import gradcheck
    from trainer.jacobian import JacobianTooLarge

    given = {"N": args.n, "D": args.d, "H": args.h, "C": args.c, "reg": args.reg, "seed": args.seed}
    cfg = gradcheck.GradcheckConfig(**{k: v for k, v in given.items() if v is not None})
    try:
        report = gradcheck.report(cfg)
    except JacobianTooLarge as e:
        raise ConfigError(f"{e}; choose a smaller --n, --d, --h or --c") from e
    print(json.dumps(report, indent=2) if args.json else _gradcheck_text(report))
    return 0 if report["ok"] else 1


def _at_least(low):
    """An argparse type: an integer >= low."""
    def parse(text):
        n = int(text)
        if n < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {n}")
        return n
    parse.__name__ = "int"  # argparse names the type in "invalid int value: 'x'"
    return parse


def _gradcheck_text(r):
    """The report as a table per parameter, a table of every Jacobian, and the verdict."""
    from trainer.jacobian import format_bytes as size

    def shaped(name, shape):
        return name if shape is None else f"{name} {tuple(shape)}"

    params = [["param", "shape", "vs numeric", "vs Jacobian", "full Jacobian dY/dparam", "bytes", "compact form", "bytes"]]
    params += [[p["param"], str(tuple(p["shape"])), f"{p['numeric_error']:.2e}", f"{p['jacobian_error']:.2e}",
                shaped(p["jacobian"], p["jacobian_shape"]), size(p["jacobian_bytes"]),
                shaped(p["compact"], p["compact_shape"]), size(p["compact_bytes"])] for p in r["params"]]
    jacs = [["every Jacobian chained", "bytes", "read by the compact map instead", "bytes"]]
    jacs += [[shaped(j["jacobian"], j["jacobian_shape"]), size(j["jacobian_bytes"]),
              shaped(j["compact"], j["compact_shape"]), size(j["compact_bytes"])] for j in r["jacobians"]]
    t = r["totals"]
    jacs.append(["total", size(t["jacobian_bytes"]), "total (each array once)", size(t["compact_bytes"])])
    net = " ".join(f"{k}={v}" for k, v in r["network"].items())
    verdict = "ok: every" if r["ok"] else "FAILED: not every"
    return "\n".join([
        f"gradcheck of a random network {net} ({r['dtype']}): loss {r['loss']:.6f}", "",
        _columns(params), "", _columns(jacs), "",
        f"{verdict} error vs numeric is < {r['numeric_tol']:.0e} and vs Jacobian < {r['jacobian_tol']:.0e}",
    ])


def _columns(rows):
    """Rows of strings as left-aligned columns, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


# --- trainer sweep (issue 7) ---


def _sweep_arguments(p):
    p.add_argument("config", help="YAML config file: the base every trial changes")
    p.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="sweep a config key over values (YAML scalars), e.g. --grid train.lr=0.01,0.1,1 (repeatable: every combination)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key in every trial")
    p.add_argument("--cv", type=_at_least(2), metavar="K",
                   help="score by stratified K-fold cross-validation on the train+validation rows "
                        "(default: the validation split when every trial has one, else cross-validation; the output says which)")
    p.add_argument("--n-jobs", type=_n_jobs, metavar="N", help="trials at once; -1 = one per core (default 1; dask: every worker)")
    from trainer.jobs import BACKENDS

    p.add_argument("--backend", choices=list(BACKENDS), default="loky",
                   help=f"joblib backend: {', '.join(f'{k} ({v})' for k, v in BACKENDS.items())} (default loky)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (dask backend; default: a local cluster on 127.0.0.1)")
    p.add_argument("--out", help="directory for results.csv, results.json and best.yaml (default runs/sweeps/<name>/<timestamp>/)")
    p.add_argument("--overwrite", action="store_true", help="allow --out to name a directory holding an earlier sweep")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no table")


def _n_jobs(text):
    """An argparse type: joblib's n_jobs, any integer but 0."""
    n = int(text)
    if n == 0:
        raise argparse.ArgumentTypeError("must be a positive number of jobs, or negative (-1 = one per core), not 0")
    return n


@command("sweep", help="train every combination of a grid of config values and rank them", arguments=_sweep_arguments)
def sweep_command(args):
    from tqdm import tqdm

    from trainer import sweep
    from trainer.config import load_config
    from trainer.run import default_run_dir

    grid = sweep.parse_grid(args.grid, args.set)
    trials = sweep.expand(args.config, grid, args.set)
    cv, how = sweep.scoring(trials, args.cv)
    out = sweep.check_out_dir(args.out or default_run_dir(load_config(args.config, args.set), "runs/sweeps"), args.overwrite)
    with tqdm(total=len(trials), desc="sweep", unit="trial", file=sys.stderr, leave=False,
              disable=not _show_progress(args)) as bar:
        ranked = sweep.run(trials, cv, args.n_jobs, args.backend, args.scheduler, on_done=lambda t: bar.update(1))
    best = sweep.write_results(out, ranked, args.config, cv)
    if not args.quiet:
        print(_sweep_text(out, ranked, best, how))
    return 0


def _sweep_text(out, ranked, best, how):
    """How the trials were scored, the ranked trials as a table, then where the results and the best config are."""
    rows = [["rank", *best.params, "accuracy", "std", "loss", "fit time"]]
    rows += [[str(t.rank), *(str(v) for v in t.params.values())]
             + ([f"{t.mean:.4f}", f"{t.std:.4f}", f"{t.loss:.4f}", f"{t.fit_time:.2f} s"] if t.error is None
                else ["failed", "", "", t.error])
             for t in ranked]
    return "\n".join([f"sweep {out}: {len(ranked)} trials ranked by accuracy, then loss", f"scored by {how}", "", _columns(rows), "",
                      f"results  {out / 'results.csv'}, {out / 'results.json'}",
                      f"best     {out / 'best.yaml'}  (trainer train {out / 'best.yaml'})"])


# --- trainer curve check | update | compare (issue 4) ---


def _curve_arguments(p):
    """The actions check, update and compare, each a sub-subcommand with its own options."""
    sub = p.add_subparsers(dest="action", required=True, parser_class=_Parser, metavar="ACTION")
    for name, (help, add_arguments, run) in CURVE_ACTIONS.items():
        a = sub.add_parser(name, help=help, description=help)
        a.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        add_arguments(a)
        a.set_defaults(curve_run=run)


def _tolerance_arguments(p):
    p.add_argument("--rtol", type=float, help="relative tolerance (default 1e-10 for float64, 1e-3 for float32)")
    p.add_argument("--atol", type=float, help="absolute tolerance (default 1e-12 for float64, 1e-5 for float32)")
    p.add_argument("--exact", action="store_true", help="bitwise equality (same machine, numpy and BLAS)")


def _check_arguments(p):
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML config file(s), e.g. configs/moons.yaml")
    p.add_argument("--golden", metavar="PATH", help="golden curve (default tests/golden/<config stem>.json); one CONFIG only")
    _tolerance_arguments(p)
    p.add_argument("--plot", metavar="PATH", help="on a mismatch, draw golden vs new here (default beside the golden)")


def _update_arguments(p):
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML config file(s), e.g. configs/*.yaml")
    p.add_argument("--golden", metavar="PATH", help="golden curve (default tests/golden/<config stem>.json); one CONFIG only")
    p.add_argument("--epochs", type=_at_least(1), help="epochs to record, at most train.epochs "
                   "(default: the old golden's count, or 50 for a new one)")


def _compare_arguments(p):
    p.add_argument("expected", help="a curve.json, or a run directory holding one")
    p.add_argument("got", help="the curve to compare with it (file or run directory)")
    _tolerance_arguments(p)
    p.add_argument("--plot", metavar="PATH", help="on a mismatch, draw the two curves here")


def _one_golden(args):
    if args.golden and len(args.configs) > 1:
        raise ConfigError("--golden names one golden file; give a single CONFIG with it")


def _curve_check(args):
    from trainer.curvecheck import MissingGolden, check

    _one_golden(args)
    failed = 0
    for config in args.configs:
        try:
            result = check(config, args.golden, args.rtol, args.atol, args.exact, args.plot)
            ok, report = result.ok, result.report
        except MissingGolden as e:
            ok, report = False, f"FAILED: {e}"
        print(report)
        failed += not ok
    return 1 if failed else 0


def _curve_update(args):
    from trainer.curvecheck import update

    _one_golden(args)
    for config in args.configs:
        print(update(config, args.golden, args.epochs))
    return 0


def _curve_compare(args):
    from trainer.curvecheck import compare_files

    result = compare_files(args.expected, args.got, args.rtol, args.atol, args.exact, args.plot)
    print(result.report)
    return 0 if result.ok else 1


CURVE_ACTIONS = {  # action -> (help, arguments, run)
    "check": ("train each CONFIG and compare its loss curve with its golden; exit 1 on a mismatch",
              _check_arguments, _curve_check),
    "update": ("write or refresh the golden curve of each CONFIG and say how it moved", _update_arguments, _curve_update),
    "compare": ("compare two curve files or run directories epoch by epoch", _compare_arguments, _curve_compare),
}


@command("curve", help="regression-test loss curves against golden files: check, update, compare", arguments=_curve_arguments)
def curve_command(args):
    return args.curve_run(args)


def main(argv=None):
    """Entry point of `trainer` and `python -m trainer`; returns the exit code."""
    with warnings.catch_warnings():
        warnings.showwarning = _warn_one_line
        return _main(sys.argv[1:] if argv is None else argv)


def _main(argv):
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return args.run(args) or 0
    except TrainerError as e:
        if debug:
            raise
        _say("error", e)
        return e.exit_code
    except MemoryError as e:  # e.g. a hidden_size or n_samples far too big for this machine
        if debug:
            raise
        _say("error", f"out of memory: {e}")
        return 1
    except KeyboardInterrupt as e:
        _say("interrupted", str(e) or "stopped")
        return 130
    except BrokenPipeError:  # e.g. `trainer evaluate ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _say(kind, message):
    """One line on stderr, whatever the message holds."""
    text = str(message).replace("\r", "\\r").replace("\n", "\\n")
    print(f"trainer: {kind}: {text}", file=sys.stderr)


def _warn_one_line(message, category, filename, lineno, file=None, line=None):
    """warnings.showwarning as one line on stderr, without the source line Python adds."""
    _say("warning", message)
