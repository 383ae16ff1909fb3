"""Error types the command line turns into one line on stderr and an exit code."""


class TrainerError(Exception):
    """Base of every error the user can cause; exit code 1 unless a subclass says otherwise."""

    exit_code = 1


class ConfigError(TrainerError):
    """A bad config file, `--set` override or command-line usage.

    Its parts are fields, so that a caller can say them its own way (the estimator names parameters,
    a sweep its --grid items): `problem`, text or a function of `name` (how a dotted key is written)
    for a problem that names other keys; `key`, the dotted key it is about; `where`, the file:line or
    the --set item it came from. str() is text() with the keys as they are."""

    exit_code = 2

    def __init__(self, problem, key=None, where=None):
        self.problem, self.key, self.where = problem, key, where
        super().__init__(self.text())

    def text(self, name=str, where=True):
        """The message, each key written as name(key), with the place it came from unless where=False."""
        problem = self.problem(name) if callable(self.problem) else self.problem
        head = f"{name(self.key)}: " if self.key else ""
        return (f"{self.where}: " if where and self.where else "") + head + problem

    def __reduce__(self):  # a job's error crosses processes as its text (a problem may be a function)
        return ConfigError, (str(self),)


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


def did_you_mean(name, candidates, shown=str, ignore_case=False):
    """' — did you mean 'x'?' for the closest candidate to a misspelt name, else '': the one way
    trainer suggests a name. shown(x) is how the candidate is written (a file name as a path, say);
    ignore_case compares without case (column names)."""
    import difflib

    fold = str.lower if ignore_case else str
    names = {fold(str(c)): c for c in reversed(list(candidates))}  # the first of names alike wins
    close = difflib.get_close_matches(fold(str(name)), list(names), n=1, cutoff=0.6)
    return suggestion([names[c] for c in close], shown)


def did_you_mean_path(path):
    """did_you_mean for a path that does not exist: its first missing part against the entries of
    the directory above it, shown as the whole path with that part mended ('runs/tyr1/model.npz'
    -> 'runs/try1/model.npz'); '' when none is close or the directory cannot be read."""
    from pathlib import Path

    path = missing = Path(path)
    try:
        if path.exists():
            return ""
        while missing.parent != missing and not missing.parent.exists():
            missing = missing.parent
        names = [p.name for p in missing.parent.iterdir() if not p.name.startswith(".")]
    except (OSError, ValueError):  # no permission; a NUL byte in the path
        return ""
    rest = path.relative_to(missing)
    return did_you_mean(missing.name, names, shown=lambda name: str(missing.parent / name / rest))


def suggestion(names, shown=str):
    """' — did you mean 'x'?' (or 'x' or 'y') for names already chosen, else ''."""
    quoted = [f"'{shown(str(n))}'" for n in names]
    return f" — did you mean {' or '.join(quoted)}?" if names else ""


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
