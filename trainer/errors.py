"""Error types the command line turns into one line on stderr and an exit code."""


class TrainerError(Exception):
    """Base of every error the user can cause; exit code 1 unless a subclass says otherwise."""

    exit_code = 1


class ConfigError(TrainerError):
    """A bad config file, `--set` override or command-line usage."""

    exit_code = 2


class DataError(TrainerError):
    """Data that cannot be loaded or does not fit the model."""


class ModelFileError(TrainerError):
    """A model or checkpoint file that is missing, damaged or not ours."""


class DivergenceError(TrainerError):
    """Training produced a non-finite loss or parameter."""

    exit_code = 3


class ChanceLevelError(TrainerError):
    """A network that learned nothing (at chance level), when the user asked to fail on it."""

    exit_code = 4


def did_you_mean(name, candidates, shown=str):
    """' — did you mean 'x'?' for the closest candidate to a misspelt name, else ''; shown(x) is how
    the candidate is written (a file name as a path, say)."""
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" — did you mean '{shown(close[0])}'?" if close else ""


def pip_install(requirement):
    """The command that installs `requirement` into the Python running trainer, whatever the PATH
    (a bare `pip` may be another Python's)."""
    import shlex
    import sys

    return f"{shlex.quote(sys.executable)} -m pip install {shlex.quote(requirement)}"


def first_line(e):
    """The first line of an exception's message (a library's may run to several), else its type's name."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


class DataWarning(UserWarning):
    """Something about the data the user may not expect (a column left out, a drifted feature)."""


class InputError(DataError):
    """A value of a model's input rows it cannot take: row and column are indices into those rows,
    so a caller that knows where the rows came from (a CSV's lines) can say where it is."""

    def __init__(self, row, column, value, why, feature):
        super().__init__(f"row {row} (counting from 0), feature '{feature}': {value!r} {why}")
        self.row, self.column, self.value, self.why = row, column, value, why


class DriftError(TrainerError):
    """Input features far from their training distribution, when the user asked for --strict."""

    exit_code = 5
