"""Test-session settings that must be in place before scipy is first imported, and the two ways
tests run the `trainer` command: in this process (`cli`), or in a subprocess (`trainer`) where
the process itself is what a test is about (signals, locks held by another process, imports)."""

import contextlib
import io
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import numpy as np
import pytest

# scikit-learn's estimator checks include an array-API check (NumPy namespace) that runs only
# when scipy was imported with this set; without it the check skips (tests/test_estimator.py)
os.environ.setdefault("SCIPY_ARRAY_API", "1")

ROOT = Path(__file__).resolve().parents[1]


def trainer_env():
    """os.environ with this checkout first on PYTHONPATH, so a subprocess imports this checkout's trainer."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    env.pop("PYTHONWARNINGS", None)  # a session's warning filter would change the stderr the tests read
    return env


def cli(*args, cwd=None):
    """Run `trainer ARGS` in this process in directory cwd: a CompletedProcess (text) of its exit
    code, stdout and stderr, as `trainer` would give; what escapes main (under --debug) is its
    traceback on stderr and exit code 1, as for a process."""
    from trainer.cli import main

    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd or here)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as e:  # argparse's --version and --help
                code = e.code or 0
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def trainer(*args, cwd=None, timeout=300):
    """Run `python -m trainer ARGS` in cwd with this checkout's package; the CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "trainer", *map(str, args)],
        cwd=cwd,
        env=trainer_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def outcome(run_dir):
    """All an unbroken and a resumed run must share: every file but the wall-clock fields."""
    from trainer.storage.modelfile import load_model

    model = load_model(run_dir / "model.npz")

    def clockless(d):
        return {k: v for k, v in d.items() if k not in ("seconds", "epoch_seconds")}

    return {
        "files": sorted(p.name for p in run_dir.iterdir()),
        "arrays": {k: (a.dtype.str, a.shape, a.tobytes()) for k, a in model.params.items()},
        "model": (model.classes, model.feature_names, model.config, clockless(model.summary)),
        "metrics": [
            clockless(json.loads(line)) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
        ],
        "summary": clockless(json.loads((run_dir / "summary.json").read_text())),
        "config": (run_dir / "config.yaml").read_bytes(),
        "curve": (run_dir / "curve.json").read_bytes(),  # no clock in it: byte for byte
    }


def numeric_model(params, classes, names, scaler=None, fill=None, missing="error", target=None, **fields):
    """A SavedModel of numeric inputs `names`: scaler (mean, scale) and fill (the imputer's statistics)
    as given; `fields` are SavedModel's own (config, metrics, parent_sha256, ...)."""
    from trainer.data.preprocess import Preprocessing
    from trainer.data.schema import numeric_schema
    from trainer.storage.modelfile import SavedModel

    mean, scale = (None, None) if scaler is None else (np.asarray(scaler[0]), np.asarray(scaler[1]))
    prep = Preprocessing(
        numeric_schema(names, list(classes), target),
        missing,
        fill=None if fill is None else np.asarray(fill, dtype=np.float64),
        scaler_mean=mean,
        scaler_scale=scale,
    )
    return SavedModel(params, prep, **fields)


def png_size(path):
    """(width, height) in pixels from a PNG file's header; an AssertionError when it is not a PNG."""
    head = Path(path).read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def pixels(figure, dpi):
    """(width, height) a Figure is printed at, at dpi: its size in inches times dpi."""
    width, height = figure.get_size_inches()
    return round(width * dpi), round(height * dpi)


@pytest.fixture
def drawn(monkeypatch):
    """Every matplotlib Figure saved while a test runs, in order; each is still written to its file.
    Tests read what a command drew from these, not from pixels."""
    from matplotlib.figure import Figure

    figures, savefig = [], Figure.savefig

    def recording(self, *args, **kwargs):
        figures.append(self)
        return savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording)
    return figures


# a made-up run's metrics.jsonl records, 30 epochs: the picture tests draw it
HISTORY = [
    {
        "epoch": e,
        "train_loss": 1 / e,
        "train_accuracy": 0.6 + 0.01 * e,
        "val_loss": 1 / e + 0.01 * e,
        "val_accuracy": 0.5 + 0.01 * e,
        "lr": 0.1,
        "epoch_seconds": 0.01,
    }
    for e in range(1, 31)
]
