"""The `trainer` command line: parser, command registry and main; the only package that prints and exits.

One module per group of subcommands, each a small function registered with @command:
train.py (train, plot), models.py (evaluate, predict, inspect, datasets), compare.py (compare),
sweep.py (sweep), check.py (gradcheck, curve). Library code raises trainer.errors types; main turns them into
one line on stderr and the error's exit code.
"""

import argparse
import os
import sys
import warnings

from trainer import __version__
from trainer.errors import ConfigError, TrainerError, did_you_mean


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors become one-line ConfigErrors (exit 2) instead of usage dumps,
    with a did-you-mean for a misspelt choice; it keeps its option strings in `flags`."""

    def __init__(self, *args, **kwargs):
        self.flags = []  # before argparse's __init__, which adds -h/--help
        super().__init__(*args, **kwargs)

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        self.flags.extend(action.option_strings)
        return action

    def parse_known_args(self, args=None, namespace=None):
        self.seen = list(sys.argv[1:] if args is None else args)  # for error(): what this parser was given
        return super().parse_known_args(args, namespace)

    def error(self, message):
        unknown = [
            a for a in getattr(self, "seen", []) if a.startswith("--") and a.split("=")[0] not in self.flags
        ]
        if message.startswith("the following arguments are required") and unknown:
            raise unrecognized(self, unknown, self.seen)  # `sweep --lr 0.1,1`: the flag is the mistake
        raise ConfigError(f"{_where(self)}{message} (see `{self.prog} --help`)")

    def _check_value(self, action, value):
        """argparse's check of a choice, its message built here with a did-you-mean."""
        if action.choices is not None and value not in action.choices:
            choices = ", ".join(repr(c) for c in action.choices)
            hint = did_you_mean(value, action.choices)
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{hint} (choose from {choices})")


def _where(parser):
    """'train: ' for a subcommand's parser, '' for the top one: the line already starts "trainer: error:"."""
    name = parser.prog.removeprefix("trainer").strip()
    return f"{name}: " if name else ""


COMMANDS = {}  # name -> (help, arguments, run)
JOBS = (
    "train",
    "evaluate",
    "predict",
    "curve",
)  # what trainer is for: first in `trainer --help`, with examples
EXAMPLES = """\
examples:
  trainer train configs/csv_example.yaml --out runs/fruit  # default --out: runs/<name>/<time>/
  trainer evaluate runs/fruit                              # metrics on its own test split
  trainer predict runs/fruit data/example.csv -o preds.csv # a class for each row of a CSV
  trainer curve check configs/csv_example.yaml             # train again, compare with its golden curve
"""


def command(name, help, arguments=lambda p: None):
    """Register `run(args) -> exit code` as subcommand `name`; `arguments(parser)` adds its options."""

    def register(run):
        COMMANDS[name] = (help, arguments, run)
        return run

    return register


def build_parser():
    parser = _Parser(
        prog="trainer",
        description="Train two-layer networks, evaluate and predict with them, test their loss curves.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the examples' lines as written
    )
    parser.add_argument("--version", action="version", version=f"trainer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    add_subcommands(parser, {name: COMMANDS[name] for name in JOBS} | COMMANDS, "command", "run", "COMMAND")
    return parser


def add_subcommands(parser, table, choice, run, metavar):
    """A required subcommand per entry of `table` (name -> (help, arguments, fn)): the name lands
    in args.<choice>, its fn in args.<run>."""
    sub = parser.add_subparsers(dest=choice, required=True, parser_class=_Parser, metavar=metavar)
    for name, (help, add_arguments, fn) in table.items():
        p = sub.add_parser(name, help=help, description=help.replace("%%", "%"))  # only help is %-formatted
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        add_arguments(p)
        p.set_defaults(**{run: fn, "parser": p})  # the innermost subcommand's parser: unrecognized() reads it


def unrecognized(parser, extras, argv):
    """The error for arguments no option takes, with what was likely meant: a config key given as
    a flag (`--lr 0.1`) becomes `--set train.lr=0.1` (a list of values: `--grid`); a misspelt flag,
    its option."""
    message = f"{_where(parser)}unrecognized arguments: {' '.join(extras)}"
    flag = next((e for e in extras if e.startswith("--")), None)
    if flag is not None:
        name, eq, value = flag.partition("=")
        after = argv[
            argv.index(flag) + 1 : argv.index(flag) + 2
        ]  # argparse may have taken it as a positional
        if not eq and after and not after[0].startswith("-"):
            value = after[0]
        message += _flag_hint(parser, name, value or "VALUE")
    return ConfigError(f"{message} (see `{parser.prog} --help`)")


def _flag_hint(parser, flag, value):
    """' — did you mean ...' for an unknown --flag given `value`, or ''."""
    from trainer.config.convert import nearest_keys
    from trainer.config.load import known_keys

    name = flag.lstrip("-")
    keys = nearest_keys(name, known_keys()) if "--set" in parser.flags else []
    long_flags = [f.removeprefix("--") for f in parser.flags if f.startswith("--")]
    option = did_you_mean(name, long_flags, shown=lambda f: f"--{f}")  # compared without "--": it is in all
    same_leaf = keys and keys[0].rsplit(".", 1)[-1] == name.replace("-", "_").rsplit(".", 1)[-1]
    if keys and (same_leaf or not option):
        how = "--grid" if "," in value and "--grid" in parser.flags else "--set"
        return f" — to change config key {keys[0]}, write {how} {keys[0]}={value}"
    return option


# --- helpers the command modules share ---


def report_chance(message, fail):
    """A chance-level finding: one warning line, or when `fail` (--fail-on-chance) the error (exit 4)."""
    from trainer.errors import ChanceLevelError

    if fail:
        raise ChanceLevelError(f"{message} (--fail-on-chance)")
    _say("warning", message)


def show_progress(args):
    """Draw a progress bar: not --quiet, and stderr is a terminal."""
    return not args.quiet and sys.stderr.isatty()


def progress_bar(args, total, desc, unit, initial=0):
    """A tqdm bar on stderr over `total` units of work (seeds, trials), drawn when show_progress."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        leave=False,
        disable=not show_progress(args),
    )


def at_least(low):
    """An argparse type: an integer >= low."""

    def parse(text):
        n = int(text)
        if n < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {n}")
        return n

    parse.__name__ = "int"  # argparse names the type in "invalid int value: 'x'"
    return parse


PICTURE_FORMATS = ("png", "svg", "pdf")  # what matplotlib writes here (pictures.plots.FORMATS)


def dpi(text):
    """An argparse type: dots per inch, 10-1000 (at 1000 dpi curves.png is 11,000 pixels wide)."""
    n = int(text)
    if not 10 <= n <= 1000:
        raise argparse.ArgumentTypeError(f"must be an integer from 10 to 1000, got {n}")
    return n


dpi.__name__ = "int"  # argparse names the type in "invalid int value: 'x'"


def picture_arguments(p, given_with=None):
    """--format and --dpi of the pictures a command draws. given_with: the option they go with
    (--plot); their defaults are then None, so that the command can tell them given, and a picture
    FILE's suffix may decide the format (picture_path)."""
    after = f" with {given_with}" if given_with else ""
    fmt, dots = (None, None) if given_with else ("png", 120)
    p.add_argument(
        "--format", choices=PICTURE_FORMATS, default=fmt, help=f"picture file format{after} (default png)"
    )
    p.add_argument("--dpi", type=dpi, default=dots, help=f"dots per inch{after}, 10-1000 (default 120)")


def picture_path(path, fmt, flag):
    """(path, format) of a picture FILE given with `flag`: the format is FILE's suffix (png, svg or
    pdf), which --format must not contradict; FILE without a suffix gets --format's (default png)."""
    from pathlib import Path

    path = Path(path)
    suffix = path.suffix[1:].lower()
    if suffix in PICTURE_FORMATS:
        if fmt and fmt != suffix:
            raise ConfigError(f"{flag} {path} ends in .{suffix} but --format is {fmt}; give one format")
        return path, suffix
    if suffix:
        raise ConfigError(
            f"{flag} {path}: pictures are drawn as {', '.join(PICTURE_FORMATS)}; end FILE in one of them"
        )
    fmt = fmt or PICTURE_FORMATS[0]
    return path.with_name(f"{path.name}.{fmt}"), fmt


def column(text):
    """An argparse type: a CSV column, an integer index when it parses as one, else a header name."""
    try:
        return int(text)
    except ValueError:
        return text


def warn(message):
    """One warning line on stderr: something the user should look at, the command having done its job."""
    _say("warning", message)


def picture_failed(error, where, debug):
    """A picture that failed after the results were saved: one warning line naming what redraws it
    (the error itself under --debug); the command's job is done all the same."""
    if debug:
        raise error
    warn(f"no pictures: {error}; `trainer --debug plot {where}` shows why")


def note(message):
    """One line on stderr telling the user something they may not expect (columns ignored, ...)."""
    _say("note", message)


def n_jobs(text):
    """An argparse type: joblib's n_jobs, any integer but 0."""
    n = int(text)
    if n == 0:
        raise argparse.ArgumentTypeError(
            "must be a positive number of jobs, or negative (-1 = one per core), not 0"
        )
    return n


def job_arguments(p, what):
    """--n-jobs, --backend and --scheduler: how the jobs (`what`: trials, seeds) run (sweeps/jobs.py)."""
    from trainer.sweeps.jobs import BACKENDS

    p.add_argument(
        "--n-jobs",
        type=n_jobs,
        metavar="N",
        help=f"{what} at once; -1 = one per core (default 1; dask: every worker)",
    )
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


def number(x):
    """A metric for a text report: 4 decimals, or 4 significant digits in e-notation when it is huge
    (a diverged run's loss: 1.4665e+34, not 35 digits)."""
    return f"{x:.4f}" if abs(x) < 1e6 else f"{x:.4e}"


def columns(rows, right=()):
    """Rows of strings as columns two spaces apart: left-aligned, or right-aligned for the column
    indices in `right` (numbers)."""
    right = set(right)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = (
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )
    return "\n".join(line.rstrip() for line in lines)


# --- main ---


def main(argv=None):
    """Entry point of `trainer` and `python -m trainer`; returns the exit code."""
    with warnings.catch_warnings():
        warnings.showwarning = _warn_one_line
        return _main(sys.argv[1:] if argv is None else argv)


def _main(argv):
    debug = "--debug" in argv
    try:
        args, extras = build_parser().parse_known_args(argv)
        if extras:
            raise unrecognized(args.parser, extras, argv)
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


# each module registers its commands on import, after the registry it uses; after JOBS, this order
# (not sorted) is the order of `trainer --help`
from trainer.cli import train, models, compare, sweep, check  # noqa: E402, F401, I001
