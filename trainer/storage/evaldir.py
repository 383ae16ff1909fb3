"""An evaluation's directory (`trainer evaluate --plot DIR`): what its pictures are drawn from, so
that `trainer plot DIR` draws them again without the model or its data.

DIR/ holds
  evaluation.json  format and version; the model, its name and the rows evaluated (source); the
                   report `trainer evaluate --json` prints (classes, confusion_matrix, ...); for two
                   classes, the positive class and the areas under its ROC and precision-recall curves
  scores.npz       for two classes: y (each row's class index) and score (its probability of the
                   positive class, the model's second class); an archive of storage.archive, read
                   without pickle
  confusion.png, roc.png, precision_recall.png   the pictures (pictures/evaluation.py)
"""

import re
from pathlib import Path

import numpy as np

from trainer.errors import TrainerError
from trainer.storage.archive import pack, unpack
from trainer.storage.files import atomic_write, make_dir, read_json, write_json

FORMAT, VERSION = "trainer-evaluation", 1
EVALUATION_FILE, SCORES_FILE = "evaluation.json", "scores.npz"
SCORE_MEMBERS = re.compile(r"metadata|y|score")
MAX_METADATA_BYTES = 1000


def write_evaluation(directory, record, y=None, score=None):
    """Write evaluation.json (record with its format and version) into `directory` (made if
    missing), and scores.npz when y and score are given (else an earlier evaluation's is removed)."""
    directory = Path(directory)
    make_dir(directory)
    scores = directory / SCORES_FILE
    if y is None:
        scores.unlink(missing_ok=True)
    else:
        arrays = {"y": np.asarray(y, np.int64), "score": np.asarray(score, np.float64)}
        atomic_write(scores, pack(arrays, {"format": FORMAT, "version": VERSION}))
    write_json(directory / EVALUATION_FILE, {"format": FORMAT, "version": VERSION, **record})


def read_evaluation(directory):
    """(record, y, score) of an evaluation's directory, y and score None without scores.npz; a
    one-line TrainerError naming the file that is not what write_evaluation writes."""
    directory = Path(directory)
    path = directory / EVALUATION_FILE
    record = read_json(path, "evaluation file")
    if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("version") != VERSION:
        raise TrainerError(f"{path}: not a version-{VERSION} {FORMAT} file")
    report = record.get("report")
    if not isinstance(report, dict) or not all(k in report for k in ("classes", "confusion_matrix")):
        raise TrainerError(f"{path}: no report with classes and a confusion_matrix")
    scores = directory / SCORES_FILE
    if not scores.exists():
        return record, None, None
    try:
        data = scores.read_bytes()
    except OSError as e:
        raise TrainerError(f"{scores}: cannot read scores file: {e.strerror or e}") from None
    arrays, _ = unpack(data, scores, SCORE_MEMBERS, "scores file", MAX_METADATA_BYTES)
    y, score = arrays.get("y"), arrays.get("score")
    if y is None or score is None or y.ndim != 1 or y.shape != score.shape:
        raise TrainerError(f"{scores}: not two arrays y and score of one length")
    return record, y, score
