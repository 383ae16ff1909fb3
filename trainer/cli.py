"""The `trainer` command line: one small function per subcommand; the only place that prints and exits."""
import argparse
import sys

from trainer import __version__
from trainer.errors import ConfigError, TrainerError


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors become one-line ConfigErrors (exit 2) instead of usage dumps."""

    def error(self, message):
        raise ConfigError(f"{self.prog}: {message} (see `{self.prog} --help`)")


COMMANDS = {}  # name -> (help, add_arguments, run)


def command(name, help):
    """Register `run(args) -> exit code` as subcommand `name`; its `add_arguments` is attached below it."""
    def register(run):
        # looked up when the parser is built: `run.add_arguments = ...` comes after this decorator ran
        COMMANDS[name] = (help, lambda p: getattr(run, "add_arguments", lambda p: None)(p), run)
        return run
    return register


def build_parser():
    parser = _Parser(prog="trainer", description="Train, evaluate and inspect two-layer networks.")
    parser.add_argument("--version", action="version", version=f"trainer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for name, (help, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help, description=help)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv=None):
    """Entry point of `trainer` and `python -m trainer`; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return args.run(args) or 0
    except TrainerError as e:
        if debug:
            raise
        print(f"trainer: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("trainer: interrupted", file=sys.stderr)
        return 130


# --- trainer gradcheck (issue 2) ---


@command("gradcheck", help="check the compact gradients against centred differences and the full Jacobians")
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


gradcheck_command.add_arguments = _gradcheck_arguments


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
