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
