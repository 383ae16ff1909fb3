"""The checks: `trainer gradcheck` (the gradients) and `trainer curve check | update | compare` (curves)."""

from trainer.cli import add_subcommands, at_least, columns, command, dpi, picture_path
from trainer.errors import ConfigError

# --- trainer gradcheck ---


def _gradcheck_arguments(p):
    """--n --d --h --c --reg --seed --weighted --json."""
    # no defaults here, so that `trainer --version` need not import numpy: GradcheckConfig owns them
    p.add_argument("--n", type=at_least(1), help="rows N of the random batch")
    p.add_argument("--d", type=at_least(1), help="features D")
    p.add_argument("--h", type=at_least(1), help="hidden units H")
    p.add_argument("--c", type=at_least(1), help="classes C")
    p.add_argument("--reg", type=float, help="L2 regularisation strength")
    p.add_argument("--seed", type=at_least(0), help="seed of the data, labels and weights")
    p.add_argument(
        "--weighted", action="store_true", help="check the sample-weighted loss (random weights, some 0)"
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")


@command(
    "gradcheck",
    help="check the compact gradients against centred differences and the full Jacobians",
    arguments=_gradcheck_arguments,
)
def gradcheck_command(args):
    import json

    from trainer.model import gradcheck
    from trainer.model.jacobian import JacobianTooLarge

    given = {"N": args.n, "D": args.d, "H": args.h, "C": args.c, "reg": args.reg, "seed": args.seed}
    given["weighted"] = args.weighted or None
    cfg = gradcheck.GradcheckConfig(**{k: v for k, v in given.items() if v is not None})
    try:
        report = gradcheck.report(cfg)
    except JacobianTooLarge as e:
        raise ConfigError(f"{e}; choose a smaller --n, --d, --h or --c") from e
    print(json.dumps(report, indent=2) if args.json else _gradcheck_text(report))
    return 0 if report["ok"] else 1


def _gradcheck_text(r):
    """The report as a table per parameter, a table of every Jacobian, and the verdict."""
    from trainer.model.jacobian import format_bytes as size

    def shaped(name, shape):
        return name if shape is None else f"{name} {tuple(shape)}"

    params = [
        [
            "param",
            "shape",
            "vs numeric",
            "vs Jacobian",
            "full Jacobian dY/dparam",
            "bytes",
            "compact form",
            "bytes",
        ]
    ]
    params += [
        [
            p["param"],
            str(tuple(p["shape"])),
            f"{p['numeric_error']:.2e}",
            f"{p['jacobian_error']:.2e}",
            shaped(p["jacobian"], p["jacobian_shape"]),
            size(p["jacobian_bytes"]),
            shaped(p["compact"], p["compact_shape"]),
            size(p["compact_bytes"]),
        ]
        for p in r["params"]
    ]
    jacs = [["every Jacobian chained", "bytes", "read by the compact map instead", "bytes"]]
    jacs += [
        [
            shaped(j["jacobian"], j["jacobian_shape"]),
            size(j["jacobian_bytes"]),
            shaped(j["compact"], j["compact_shape"]),
            size(j["compact_bytes"]),
        ]
        for j in r["jacobians"]
    ]
    t = r["totals"]
    jacs.append(["total", size(t["jacobian_bytes"]), "total (each array once)", size(t["compact_bytes"])])
    net = " ".join(f"{k}={v}" for k, v in r["network"].items())
    verdict = "ok: every" if r["ok"] else "FAILED: not every"
    return "\n".join(
        [
            f"gradcheck of a random network {net} ({r['dtype']}): loss {r['loss']:.6f}",
            "",
            columns(params),
            "",
            columns(jacs),
            "",
            f"{verdict} error vs numeric is < {r['numeric_tol']:.0e} "
            f"and vs Jacobian < {r['jacobian_tol']:.0e}",
        ]
    )


# --- trainer curve check | update | compare ---


def _curve_arguments(p):
    """The actions check, update and compare, each a sub-subcommand with its own options."""
    add_subcommands(p, CURVE_ACTIONS, "action", "curve_run", "ACTION")


def _tolerance_arguments(p):
    p.add_argument(
        "--rtol", type=float, help="relative tolerance (default 1e-10 for float64, 1e-3 for float32)"
    )
    p.add_argument(
        "--atol", type=float, help="absolute tolerance (default 1e-12 for float64, 1e-5 for float32)"
    )
    p.add_argument("--exact", action="store_true", help="bitwise equality (same machine, numpy and BLAS)")


def _check_arguments(p):
    p.add_argument(
        "configs", nargs="+", metavar="CONFIG", help="YAML config file(s), e.g. configs/moons.yaml"
    )
    p.add_argument(
        "--golden",
        metavar="PATH",
        help="golden curve (default tests/golden/<config stem>.json); one CONFIG only",
    )
    _tolerance_arguments(p)
    p.add_argument(
        "--plot",
        metavar="FILE",
        help="on a failure, draw golden vs now into FILE (png, svg or pdf by its suffix; default beside "
        "the golden, <stem>.failed.png)",
    )
    p.add_argument("--no-plots", action="store_true", help="draw no picture of a failure")
    _dpi_argument(p)
    p.add_argument(
        "--band",
        action="store_true",
        help="retrain the golden band's seeds and test whether the curves are the same process "
        "(Welch's t per epoch; --rtol/--atol: a difference within them always passes)",
    )
    p.add_argument(
        "--seeds",
        metavar="SPEC",
        help="with --band: train these seeds instead of the band's (N, 0,3,7 or 0-9)",
    )
    p.add_argument(
        "--alpha",
        type=_probability,
        default=None,
        help="with --band: the chance of a false alarm on an unchanged process, at most (default 0.01)",
    )


def _dpi_argument(p):
    p.add_argument("--dpi", type=dpi, help="dots per inch of a failure's picture, 10-1000 (default 120)")


def _probability(text):
    import argparse

    p = float(text)
    if not 0 < p < 1:
        raise argparse.ArgumentTypeError(f"must be a probability in (0, 1), got {text}")
    return p


def _update_arguments(p):
    p.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML config file(s), e.g. configs/*.yaml")
    p.add_argument(
        "--golden",
        metavar="PATH",
        help="golden curve (default tests/golden/<config stem>.json); one CONFIG only",
    )
    p.add_argument(
        "--epochs",
        type=at_least(1),
        help="epochs to record, at most train.epochs (default: the old golden's count, or 50 for a new one)",
    )
    p.add_argument(
        "--seeds",
        metavar="SPEC",
        help="also record the band of these seeds (per-epoch mean, std, min, max) for `curve check --band`: "
        "N (N seeds from the config's seed), 0,3,7 or 0-9 (default: the old golden's band seeds, if any)",
    )


def _compare_arguments(p):
    p.add_argument("expected", help="a curve.json, or a run directory holding one")
    p.add_argument("got", help="the curve to compare with it (file or run directory)")
    _tolerance_arguments(p)
    p.add_argument(
        "--plot", metavar="FILE", help="on a mismatch, draw the two curves into FILE (png, svg or pdf)"
    )
    _dpi_argument(p)


def _one_golden(args):
    if args.golden and len(args.configs) > 1:
        raise ConfigError("--golden names one golden file; give a single CONFIG with it")


def _curve_check(args):
    from trainer.curves.band import ALPHA
    from trainer.curves.golden import MissingGolden, check, check_band

    _one_golden(args)
    if args.band and args.exact:
        raise ConfigError("--band and --exact are two lanes of the check; choose one")
    if not args.band and (args.seeds is not None or args.alpha is not None):
        raise ConfigError(f"{'--seeds' if args.seeds is not None else '--alpha'} is used only with --band")
    if args.no_plots and (args.plot or args.dpi):
        given = "--plot" if args.plot else "--dpi"
        raise ConfigError(f"{given} is for the picture of a failure and --no-plots draws none; choose one")
    if args.plot and len(args.configs) > 1:
        raise ConfigError(
            "--plot names one picture file; give a single CONFIG with it (without it, each failure "
            "is drawn beside its golden)"
        )
    if args.plot:  # a bad suffix is said before any training
        args.plot = picture_path(args.plot, None, "--plot")[0]
    failed = 0
    for config in args.configs:
        try:
            if args.band:
                alpha = ALPHA if args.alpha is None else args.alpha
                result = check_band(config, args.golden, args.seeds, alpha, args.rtol, args.atol)
            else:
                result = check(config, args.golden, args.rtol, args.atol, args.exact)
            ok, report = result.ok, _with_failure_picture(result, config, args)
        except MissingGolden as e:
            ok, report = False, f"FAILED: {e}"
        print(report)
        failed += not ok
    return 1 if failed else 0


def _with_failure_picture(result, config, args):
    """The check's report; a failure's with its picture (at --plot, else beside the golden). A pass
    removes the picture an earlier failure left beside the golden, and says so."""
    from trainer.curves.golden import failed_path
    from trainer.pictures.overlay import with_picture
    from trainer.pictures.plots import DPI

    if args.no_plots:
        return result.report
    if not result.ok:
        return with_picture(result, args.plot or failed_path(config, args.golden), args.dpi or DPI)
    stale = failed_path(config, args.golden)
    if args.plot or not stale.exists():
        return result.report
    stale.unlink()
    return f"{result.report}\n  removed {stale}, the picture of an earlier failure"


def _curve_update(args):
    from trainer.curves.golden import update

    _one_golden(args)
    for config in args.configs:
        print(update(config, args.golden, args.epochs, args.seeds))
    return 0


def _curve_compare(args):
    from trainer.curves.golden import compare_files
    from trainer.pictures.overlay import with_picture
    from trainer.pictures.plots import DPI

    if args.dpi and not args.plot:
        raise ConfigError("--dpi is used only with --plot FILE")
    if args.plot:
        args.plot = picture_path(args.plot, None, "--plot")[0]
    result = compare_files(args.expected, args.got, args.rtol, args.atol, args.exact)
    print(with_picture(result, args.plot, args.dpi or DPI) if args.plot else result.report)
    return 0 if result.ok else 1


CURVE_ACTIONS = {  # action -> (help, arguments, run)
    "check": (
        "train each CONFIG and compare its loss curve with its golden; exit 1 on a mismatch",
        _check_arguments,
        _curve_check,
    ),
    "update": (
        "write or refresh the golden curve of each CONFIG and say how it moved",
        _update_arguments,
        _curve_update,
    ),
    "compare": (
        "compare two curve files or run directories epoch by epoch",
        _compare_arguments,
        _curve_compare,
    ),
}


@command(
    "curve",
    help="regression-test loss curves against golden files: check, update, compare",
    arguments=_curve_arguments,
)
def curve_command(args):
    return args.curve_run(args)
