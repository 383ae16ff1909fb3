"""The `trainer` command line: parser, command registry and main; the only package that prints and exits.

One module per group of subcommands, each a small function registered with @command:
train.py (train, plot), models.py (evaluate, predict, datasets), sweep.py (sweep),
check.py (gradcheck, curve). Library code raises trainer.errors types; main turns them into
one line on stderr and the error's exit code.
"""

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
    add_subcommands(parser, COMMANDS, "command", "run", "COMMAND")
    return parser


def add_subcommands(parser, table, choice, run, metavar):
    """A required subcommand per entry of `table` (name -> (help, arguments, fn)): the name lands
    in args.<choice>, its fn in args.<run>."""
    sub = parser.add_subparsers(dest=choice, required=True, parser_class=_Parser, metavar=metavar)
    for name, (help, add_arguments, fn) in table.items():
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        add_arguments(p)
        p.set_defaults(**{run: fn})


# --- helpers the command modules share ---


def show_progress(args):
    """Draw a progress bar: not --quiet, and stderr is a terminal."""
    return not args.quiet and sys.stderr.isatty()


def at_least(low):
    """An argparse type: an integer >= low."""

    def parse(text):
        n = int(text)
        if n < low:
            raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {n}")
        return n

    parse.__name__ = "int"  # argparse names the type in "invalid int value: 'x'"
    return parse


def note(message):
    """One line on stderr telling the user something they may not expect (columns ignored, ...)."""
    _say("note", message)


def columns(rows):
    """Rows of strings as left-aligned columns, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)
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


# each module registers its commands on import; this order is the order of `trainer --help`
from trainer.cli import check, models, sweep, train  # noqa: E402, F401  (after the registry they use)
