"""Every bad input through the real command line: one line on stderr naming what and where, the
documented exit code, no traceback (unless --debug), and every file that was there is untouched.

The rows run in this process, one after another, each in its own directory, in one fixture; the
lock a case needs held is held by this process, which the command meets as another holder.
"""

import contextlib
import io
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import cli, numeric_model

from trainer.model.network import init_params
from trainer.storage.modelfile import model_bytes
from trainer.storage.rundir import DirLock

ROOT = Path(__file__).resolve().parents[2]
GOOD = "data: {dataset: moons, params: {n_samples: 200}}\ntrain: {epochs: 2}\n"
CSV_CONFIG = "data: {dataset: csv, path: d.csv, target: label}\ntrain: {epochs: 2}\n"


def points(n=40, labels=("a", "b"), header="x0,x1,label"):
    rows = [f"{i / n:.3f},{(i * 7 % n) / n:.3f},{labels[i % len(labels)]}" for i in range(n)]
    return "\n".join([header, *rows]) + "\n"


HUGE = "x0,x1,label\n" + "".join(f"{i / 40},{(-1) ** i * (i + 1)}e300,{'ab'[i % 2]}\n" for i in range(40))


def model_file(names=("x0", "x1"), dtype="float64", missing="error", scale=None, **changes):
    """A model of 2 features: positional (x0, x1) unless named; `changes` replace its arrays after saving."""
    params = init_params(2, 4, 2, np.random.default_rng(0), dtype=dtype)
    model = numeric_model(
        params,
        [0, 1],
        list(names),
        scaler=None if scale is None else (np.zeros(2), np.full(2, scale)),
        fill=[0.25, 0.75] if missing in ("mean", "median") else None,
        missing=missing,
        target=None if names == ("x0", "x1") else "kind",
        config={"data": {"missing": missing}},
        summary={},
    )
    data = model_bytes(model)
    arrays = dict(np.load(io.BytesIO(data), allow_pickle=False))
    arrays.update(changes)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return data if not changes else buf.getvalue()


# files every row's directory starts with
BASE = {
    "good.yaml": GOOD,
    "model.npz": model_file(),
    "named.npz": model_file(names=("width", "height")),
    "scaled.npz": model_file(scale=0.5),
    "single.npz": model_file(dtype="float32"),
    "drop.npz": model_file(missing="drop"),
    "mean.npz": model_file(missing="mean"),
    "named.csv": "width,height,kind\n1,2,0\n3,4,1\n",
    "points.csv": points(labels=("0", "1")),
    "notes.txt": "just some notes\n",
    "oldrun/config.yaml": "name: old\n",
    "oldrun/model.npz": b"PK old",
    "oldrun/summary.json": "{}\n",
    "cut-short/config.yaml": "name: old\n",  # a run stopped before its first checkpoint
    "cut-short/metrics.jsonl": "",
    "empty/notes.txt": "no run here\n",
}


@dataclass
class Case:
    id: str
    args: tuple
    code: int
    says: tuple  # substrings of the one stderr line: what is wrong, and where
    files: dict = field(default_factory=dict)
    debug: bool = False
    hold: str | None = None  # a directory this test process holds the lock of while the case runs

    def __post_init__(self):
        self.args = tuple(self.args) + (("--debug",) if self.debug else ())


def config(id, text, *says, code=2, args=()):
    return Case(id, ("train", "c.yaml", "--out", "run", "-q", *args), code, says, {"c.yaml": text})


def override(id, item, *says):
    return Case(id, ("train", "good.yaml", "--out", "run", "-q", "--set", item), 2, says)


def csv(id, text, *says, target="label", missing="error"):
    cfg = CSV_CONFIG.replace("target: label", f"target: {target}, missing: {missing}")
    files = {"c.yaml": cfg} if text is None else {"c.yaml": cfg, "d.csv": text}
    return Case(id, ("train", "c.yaml", "--out", "run", "-q"), 1, says, files)


EXACT_GOLDEN = (
    '{"format": "trainer-curve", "version": 1, "epochs": 2, "config": {}, "metrics": {}, "platform": {}}'
)


def run_files(name, dataset):
    """A finished run directory's files, enough for `trainer compare` to read."""
    return {
        f"{name}/config.yaml": f"name: {name}\ndata: {{dataset: {dataset}}}\n",
        f"{name}/summary.json": '{"test": {"accuracy": 0.5}}',
        f"{name}/metrics.jsonl": '{"epoch": 1, "train_loss": 0.5}\n',
        f"{name}/model.npz": model_file(),
    }


def command(id, args, code, *says, files=None):
    return Case(id, args, code, says, files or {})


WEIGHTED = CSV_CONFIG.replace("target: label", "target: label, weight: w")


def weighted(rows=40, bad=None, labels=("a", "b")):
    """A CSV with a weight column w (all 1.5, or `bad` on the third data row); the data lines start at 2."""
    lines = [f"{i / rows:.3f},{1.5 if bad is None or i != 2 else bad},{labels[i % 2]}" for i in range(rows)]
    return "x0,w,label\n" + "\n".join(lines) + "\n"


def weights(id, text, code, *says, config=WEIGHTED):
    return Case(id, ("train", "c.yaml", "--out", "run", "-q"), code, says, {"c.yaml": config, "d.csv": text})


def init_from(id, code, *says, sets=(), config="good.yaml", files=None):
    args = ("train", config, "--init-from", "model.npz", "--out", "run", "-q")
    return Case(id, args + tuple(x for s in sets for x in ("--set", s)), code, says, files or {})


CASES = [
    # config files
    config("yaml-unclosed", "train:\n  lr: [0.1\n", "c.yaml:3", "malformed YAML"),
    config("empty-file", "", "c.yaml", "config file is empty"),
    config(
        "top-level-list", "- 1\n- 2\n", "c.yaml:1", "expected a mapping of keys at the top level, got a list"
    ),
    config("key-with-a-line-break", '"a\\nb": 1\n', "c.yaml:1", "unknown key 'a\\nb'"),
    config("unknown-nested-key", "train:\n  epohcs: 3\n", "c.yaml:2", "did you mean 'train.epochs'?"),
    config(
        "wrong-type",
        "train:\n  epochs: ten\n",
        "c.yaml:2",
        "train.epochs: expected an integer, got str 'ten'",
    ),
    config("section-not-mapping", "train: 5\n", "c.yaml:1", "train: expected a mapping, got int 5"),
    # one rule for numbers: 10.0, "10" and 1e3 are integers; 10.5 and true are not
    config(
        "int-not-integral",
        "train:\n  epochs: 10.5\n",
        "c.yaml:2",
        "train.epochs: expected an integer, got float 10.5",
    ),
    config(
        "int-string-not-integral",
        'train:\n  epochs: "1.25e1"\n',
        "c.yaml:2",
        "train.epochs: expected an integer, got str '1.25e1'",
    ),
    config(
        "int-bool", "train:\n  epochs: true\n", "c.yaml:2", "train.epochs: expected an integer, got bool True"
    ),
    config("float-bool", "train:\n  lr: true\n", "c.yaml:2", "train.lr: expected a number, got bool True"),
    config(
        "param-not-a-number",
        "data:\n  params:\n    n_samples: lots\n",
        "c.yaml:3",
        "data.params.n_samples: expected an integer, got str 'lots'",
    ),
    config(
        "param-not-integral",
        "data:\n  params:\n    n_samples: 1.255e2\n",
        "c.yaml:3",
        "data.params.n_samples: expected an integer, got str '1.255e2'",
    ),
    config("undotted-key", "lr: 0.1\n", "c.yaml:1", "unknown key 'lr' — did you mean 'train.lr'?"),
    config("negative-lr", "train:\n  lr: -1\n", "c.yaml:2", "train.lr: expected a number > 0"),
    config(
        "test-size", "data:\n  test_size: 1.5\n", "c.yaml:2", "data.test_size: expected a fraction in [0, 1)"
    ),
    config("unknown-dataset", "data:\n  dataset: moon\n", "c.yaml:2", "data.dataset: expected one of"),
    config(
        "unknown-optimizer",
        "train:\n  optimizer: adamw\n",
        "c.yaml:2",
        "train.optimizer: expected one of sgd",
    ),
    config(
        "unknown-param",
        "data:\n  params: {n_sample: 10}\n",
        "c.yaml:2",
        "unknown key 'data.params.n_sample'",
        "did you mean",
    ),
    config(
        "python-tag",
        "!!python/object/apply:os.system ['touch pwned']\n",
        "c.yaml:1",
        "could not determine a constructor",
    ),
    config("deep-nesting", "a: " + "[" * 1000 + "]" * 1000 + "\n", "c.yaml", "nested too deeply"),
    config(
        "csv-without-path", "data:\n  dataset: csv\n", "c.yaml", "data.path: dataset 'csv' needs data.path"
    ),
    config("not-utf8", "", "c.yaml", "cannot read config"),
    Case("missing-config", ("train", "nope.yaml"), 2, ("nope.yaml: no such config file",)),
    # --set overrides
    override("set-no-equals", "train.lr", "--set train.lr: expected key=value"),
    override("set-unknown-key", "train.lrr=0.1", "--set train.lrr=0.1", "did you mean 'train.lr'?"),
    override(
        "set-bad-value", "train.lr=abc", "--set train.lr=abc", "train.lr: expected a number, got str 'abc'"
    ),
    override(
        "set-out-of-range", "model.hidden_size=0", "--set model.hidden_size=0", "expected an integer >= 1"
    ),
    override(
        "set-not-a-section", "train.lr.x=1", "--set train.lr.x=1", "train.lr: expected a number, got dict"
    ),
    override("set-undotted-key", "hidden_size=8", "--set hidden_size=8", "did you mean 'model.hidden_size'?"),
    override("set-int-not-integral", "train.epochs=2.5", "--set train.epochs=2.5", "got float 2.5"),
    # CSV data
    csv(
        "csv-missing",
        None,
        "c.yaml:1: data.path: ",
        "d.csv: no such file (a relative data.path in a config file is relative to the file's directory)",
    ),
    Case(
        "set-csv-missing",
        ("train", "sub/c.yaml", "--out", "run", "-q", "--set", "data.path=d.csv"),
        1,
        (
            "--set data.path=d.csv: data.path: ",
            "d.csv: no such file (a relative data.path given by --set is relative to the current directory)",
        ),
        {"sub/c.yaml": CSV_CONFIG, "sub/d.csv": points()},
    ),
    csv(
        "csv-no-target",
        points(),
        "d.csv",
        "no target column 'lable'",
        "did you mean 'label'?",
        target="lable",
    ),
    csv("csv-nan", points().replace("0.025,", "nan,", 1), "d.csv:3", "column 'x0'", "missing value ('nan'"),
    csv("csv-inf", points().replace("0.025,", "-inf,", 1), "d.csv:3", "is not finite"),
    csv(
        "csv-non-numeric",
        points().replace("0.025,", "abc,", 1),
        "d.csv:3",
        "column 'x0': mixes numbers (39 rows) and text (1 rows), text here: 'abc'",
        "data.categorical",
        "data.na_values",
    ),
    csv("csv-one-class", points(labels=("a",)), "d.csv", "only one class ('a')"),
    csv("csv-empty", "", "d.csv: file is empty"),
    csv("csv-header-only", "x0,x1,label\n", "d.csv: no data rows"),
    csv(
        "csv-ragged", points().replace("0.050,0.350,a", "0.050,a", 1), "d.csv:4", "expected 3 fields", "got 2"
    ),
    csv("csv-not-utf8", None, "d.csv:2: not a UTF-8 text file (byte 0xff)"),
    csv("csv-too-few-rows", points(n=6), "data.test_size", "cannot hold all 2 classes"),
    csv("csv-huge-values", HUGE, "d.csv", "column 'x1' is too large to standardise"),
    csv(
        "csv-empty-cell",
        points().replace("0.025,", ",", 1),
        "d.csv:3: column 'x0': missing value (an empty cell; data.missing drop, mean or median accepts",
    ),
    csv(
        "csv-bom-crlf-bad-value",
        "\ufeff" + points().replace("\n", "\r\n").replace("0.025,", "abc,", 1),
        "d.csv:3: column 'x0': mixes numbers (39 rows) and text (1 rows), text here: 'abc'",
    ),
    csv(
        "csv-float-labels",
        points().replace(",a\n", ",0.5\n").replace(",b\n", ",1.5\n"),
        "d.csv:2: column 'label': label '0.5' is a number but not an integer",
    ),
    csv(
        "csv-quote-never-closed",
        points().replace("0.025,", '"0.025,', 1),
        "d.csv:3: expected 3 fields (as on line 1), got 1",
        "(the row runs on to line 41: is a quote left open?)",
    ),
    csv(
        "csv-drop-leaves-one-class",
        "x0,x1,label\n" + "".join(f"{i},{'' if i % 2 else i},{'ab'[i % 2]}\n" for i in range(40)),
        "d.csv",
        "only one class ('a')",
        missing="drop",
    ),
    csv(
        "csv-mean-of-an-empty-column",
        "x0,x1,label\n" + "".join(f"{i / 40},,{'ab'[i % 2]}\n" for i in range(40)),
        "d.csv",
        "column 'x1' has no value in the train split to impute it from",
        missing="mean",
    ),
    csv(
        "csv-median-and-an-unknown-placeholder",
        points().replace("0.025,", ",", 1).replace("0.050,", "--,", 1),
        "d.csv:4: column 'x0': mixes numbers (38 rows) and text (1 rows), text here: '--'",
        "if '--' marks a missing value, add it to data.na_values",
        missing="median",
    ),
    config(
        "missing-policy-unknown",
        "data:\n  missing: zero\n",
        "c.yaml:2",
        "data.missing: expected one of error, drop, mean, median",
    ),
    # sample and class weights
    weights(
        "weight-negative", weighted(bad="-1"), 1, "d.csv:4: column 'w': weight '-1' is not a number >= 0"
    ),
    weights("weight-nan", weighted(bad="nan"), 1, "d.csv:4: column 'w': weight 'nan' is not a number >= 0"),
    weights(
        "weight-not-a-number",
        weighted(bad="heavy"),
        1,
        "d.csv:4: column 'w': weight is not a number: 'heavy'",
    ),
    weights("weight-all-zero", weighted().replace(",1.5,", ",0,"), 1, "d.csv: column 'w': every weight is 0"),
    weights(
        "weight-unknown-column",
        weighted(),
        1,
        "d.csv: no weight column 'wt'",
        "did you mean 'w'?",
        config=WEIGHTED.replace("weight: w", "weight: wt"),
    ),
    weights(
        "weight-is-the-target",
        weighted(),
        2,
        "data.weight: the weight column 'label' is the target column",
        config=WEIGHTED.replace("weight: w", "weight: label"),
    ),
    weights(
        "class-weight-unknown-class",
        weighted(),
        2,
        "train.class_weight: no class 'c' among the classes (a, b) of",
        "d.csv",
        config=WEIGHTED.replace("train: {", "train: {class_weight: {a: 1, c: 2}, "),
    ),
    weights(
        "class-weight-all-rows-zero",
        weighted(),
        1,
        "d.csv: every row of the train split weighs 0",
        config=WEIGHTED.replace("train: {", "train: {class_weight: {a: 0, b: 0}, "),
    ),
    config(
        "class-weight-negative",
        "train:\n  class_weight: {0: -1}\n",
        "c.yaml:2",
        "train.class_weight: expected null, 'balanced', or a mapping label: weight (numbers >= 0)",
    ),
    config("class-weight-misspelt", "train:\n  class_weight: balance\n", "c.yaml:2", "got 'balance'"),
    config(
        "weight-without-csv", "data:\n  weight: w\n", "c.yaml:2", "data.weight: only used with dataset 'csv'"
    ),
    # --init-from: BASE's model.npz has features x0, x1, classes 0, 1, hidden size 4, float64
    command(
        "init-from-missing",
        ("train", "good.yaml", "--init-from", "nope.npz", "--out", "run", "-q"),
        1,
        "nope.npz: no such model file",
    ),
    init_from(
        "init-from-other-hidden-size",
        2,
        "model.init_from:",
        "model.npz has hidden size 4, but model.hidden_size is 100",
    ),
    init_from(
        "init-from-other-dtype",
        2,
        "model.npz holds float64 weights, but model.dtype is float32",
        sets=("model.hidden_size=4", "model.dtype=float32"),
    ),
    init_from(
        "init-from-other-classes",
        2,
        "model.npz has the classes 0, 1; the data have a, b",
        sets=("model.hidden_size=4",),
        config="c.yaml",
        files={"c.yaml": CSV_CONFIG, "d.csv": points()},
    ),
    init_from(
        "init-from-other-features",
        2,
        "model.npz was trained on the features x0, x1; the data have sepal length (cm)",
        sets=("model.hidden_size=4", "data.dataset=iris", "data.params={}"),
    ),
    init_from(
        "init-from-damaged",
        1,
        "model.npz: truncated or damaged model file",
        files={"model.npz": model_file()[:300]},
    ),
    command(
        "init-from-in-a-cross-validated-sweep",  # folds start from model.init: refused, not ignored
        ("sweep", "good.yaml", "--grid", "train.lr=0.1,1", "--set", "model.init_from=model.npz", "--cv", "3"),
        2,
        "model.init_from: a sweep scored by cross-validation (--cv 3) fits each fold from model.init, "
        "not from a saved model's weights; score on the validation split instead",
    ),
    command(
        "init-from-with-resume",
        ("train", "--resume", "oldrun", "--init-from", "model.npz"),
        2,
        "--resume goes on from the run's own checkpoint; drop --init-from",
    ),
    # model files and their data
    command("model-missing", ("evaluate", "nope.npz"), 1, "nope.npz: no such model file"),
    command("model-is-text", ("evaluate", "notes.txt"), 1, "notes.txt: not a trainer model file"),
    command(
        "model-is-pickle",
        ("predict", "evil.npz", "points.csv"),
        1,
        "evil.npz: is a Python pickle",
        files={"evil.npz": pickle.dumps({"W1": [1.0]})},
    ),
    command(
        "model-truncated",
        ("evaluate", "cut.npz"),
        1,
        "cut.npz: truncated or damaged model file",
        files={"cut.npz": model_file()[:300]},
    ),
    command(
        "model-weight-changed",
        ("evaluate", "bad.npz"),
        1,
        "bad.npz: checksum mismatch",
        files={"bad.npz": model_file(b2=np.array([0.5, 0.0]))},
    ),
    command(
        "model-object-array",
        ("evaluate", "obj.npz"),
        1,
        "obj.npz: member W1 holds a Python object array",
        files={"obj.npz": model_file(W1=np.array([None, 1], dtype=object))},
    ),
    # the columns a saved model reads: by name with a header, by position without
    command(
        "wrong-feature-count",
        ("predict", "model.npz", "three.csv"),
        1,
        "three.csv: has no header row, so its columns are matched by position: it has 3 feature columns; "
        "the model expects 2 (x0, x1); name a label or id column among them by its index (--target N, --id N",
        files={"three.csv": "1,2,3\n4,5,6\n"},
    ),
    command(
        "column-renamed",
        ("predict", "named.npz", "r.csv"),
        1,
        "r.csv: missing 1 of the model's 2 feature columns: 'width' — did you mean 'Width'?",
        files={"r.csv": "Width,height\n1,2\n"},
    ),
    command(
        "columns-reordered-one-renamed",
        ("evaluate", "named.npz", "--csv", "r.csv", "--target", "kind"),
        1,
        "r.csv: missing 1 of the model's 2 feature columns: 'height' — did you mean 'Height'?",
        files={"r.csv": "kind,Height,width\n0,2,1\n1,4,3\n"},
    ),
    command(
        "column-missing",
        ("evaluate", "named.npz", "--csv", "r.csv"),
        1,
        "r.csv: missing 1 of the model's 2 feature columns: 'height'",
        files={"r.csv": "width,kind,notes\n1,0,x\n"},
    ),
    command(
        "column-duplicated",
        ("predict", "named.npz", "r.csv"),
        1,
        "r.csv:1: duplicate column name 'width'",
        files={"r.csv": "width,height,width\n1,2,3\n"},
    ),
    command(
        "header-on-a-positional-model",
        ("predict", "model.npz", "r.csv"),
        1,
        "r.csv: the model's features have no names",
        "remove the header row, or name the feature columns x0, x1",
        files={"r.csv": "foo,bar\n1,2\n"},
    ),
    command(
        "header-on-a-positional-model-before-its-label",  # the header is the problem, not --target
        ("evaluate", "model.npz", "--csv", "r.csv"),
        1,
        "r.csv: the model's features have no names",
        "remove the header row, or name the feature columns x0, x1",
        files={"r.csv": "foo,bar,baz\n1,2,0\n"},
    ),
    command(
        "no-header-no-label-name",
        ("evaluate", "named.npz", "--csv", "r.csv"),
        1,
        "r.csv: which column holds the labels? it has no header row, so the model's label column 'kind' "
        "cannot be found by name; give it with --target COLUMN",
        files={"r.csv": "1,2,0\n3,4,1\n"},
    ),
    command(
        "no-header-target-by-name",
        ("evaluate", "named.npz", "--csv", "r.csv", "--target", "kind"),
        1,
        "r.csv: no header row, so the target 'kind' must be a column index",
        files={"r.csv": "1,2,0\n3,4,1\n"},
    ),
    command(
        "label-is-a-feature",
        ("evaluate", "model.npz", "--csv", "points.csv", "--target", "x1"),
        1,
        "points.csv: the label column 'x1' is one of the model's features",
    ),
    command(
        "empty-label",
        ("evaluate", "model.npz", "--csv", "e.csv", "--target", "label"),
        1,
        "e.csv:3: ",
        "empty label",
        files={"e.csv": "x0,x1,label\n1,2,0\n3,4,\n"},
    ),
    command(
        "label-column-of-floats",
        ("evaluate", "model.npz", "--csv", "r.csv", "--target", "score"),
        1,
        "r.csv:2: label(s) '0.25', '0.75' are not among the model's classes (0, 1)",
        files={"r.csv": "x0,x1,score\n1,2,0.25\n3,4,0.75\n"},
    ),
    command(
        "id-is-a-feature",
        ("predict", "model.npz", "points.csv", "--id", "x0"),
        1,
        "points.csv: the id column 'x0' is one of the model's features; an id column must be another column",
    ),
    command(
        "id-missing",
        ("predict", "named.npz", "named.csv", "--id", "key"),
        1,
        "named.csv: no id column 'key'; columns: width, height, kind",
    ),
    command(
        "id-twice",
        ("predict", "named.npz", "r.csv", "--id", "key", "--id", "0"),
        1,
        "r.csv: id column 'key' is given twice",
        files={"r.csv": "key,width,height\nA,1,2\n"},
    ),
    # the values a saved model reads
    command(
        "value-overflows-the-network",
        ("predict", "model.npz", "r.csv"),
        1,
        "r.csv:3: column 'x0': -1e+308 is too large for the network: its scores overflow float64",
        files={"r.csv": "x0,x1\n0.5,0.5\n-1e308,0.5\n"},
    ),
    command(
        "value-overflows-standardised",
        ("predict", "scaled.npz", "r.csv"),
        1,
        "r.csv:2: column 'x1': 1e+308 overflows float64 after standardisation",
        files={"r.csv": "x0,x1\n0.5,1e308\n"},
    ),
    command(
        "value-overflows-float32",
        ("evaluate", "single.npz", "--csv", "r.csv", "--target", "2"),
        1,
        "r.csv:3: column 0 (counting from 0): 1e+39 overflows float32 after standardisation",
        files={"r.csv": "0.5,0.5,0\n\n1e39,0.5,1\n"},
    ),
    command(
        "predict-empty-cell",
        ("predict", "model.npz", "r.csv"),
        1,
        "r.csv:3: column 'x1': missing value (an empty cell; a model trained with data.missing drop",
        files={"r.csv": "x0,x1\n1,2\n3,\n"},
    ),
    command(
        "predict-empty-cell-NA-under-drop",
        ("predict", "drop.npz", "r.csv"),
        1,
        "r.csv:3: column 'x1': not a number: 'NA'",
        files={"r.csv": "x0,x1\n1,\n3,NA\n"},
    ),
    command(
        "evaluate-every-row-dropped",
        ("evaluate", "drop.npz", "--csv", "r.csv", "--target", "y"),
        1,
        "r.csv: every row has a missing value (the model's data.missing: drop)",
        files={"r.csv": "x0,x1,y\n1,,0\n,2,1\n"},
    ),
    command(
        "predict-empty-file",
        ("predict", "model.npz", "r.csv"),
        1,
        "r.csv: file is empty",
        files={"r.csv": ""},
    ),
    command(
        "predict-header-only",
        ("predict", "model.npz", "r.csv"),
        1,
        "r.csv: no data rows, only a header",
        files={"r.csv": "\ufeffx0,x1\r\n"},
    ),
    command(
        "predict-ragged-row",
        ("predict", "model.npz", "r.csv"),
        1,
        "r.csv:3: expected 2 fields (as on line 1), got 3",
        files={"r.csv": "x0,x1\r\n1,2\r\n3,4,5\r\n"},
    ),
    command(
        "predict-not-utf8",
        ("predict", "named.npz", "r.csv", "--id", "key"),
        1,
        "r.csv:3: not a UTF-8 text file (byte 0xe9)",
    ),
    command(
        "wrong-classes",
        ("evaluate", "model.npz", "--csv", "animals.csv", "--target", "label"),
        1,
        "animals.csv",
        "label(s) 'cat', 'dog' are not among the model's classes",
        files={"animals.csv": points(labels=("cat", "dog"))},
    ),
    # command-line use
    command("no-command", (), 2, "the following arguments are required: COMMAND"),
    command("bad-command", ("fly",), 2, "invalid choice: 'fly'"),
    command("misspelt-command", ("trian",), 2, "invalid choice: 'trian' — did you mean 'train'?"),
    command(
        "misspelt-action", ("curve", "chek", "good.yaml"), 2, "invalid choice: 'chek' — did you mean 'check'?"
    ),
    command("bad-option", ("train", "good.yaml", "--bogus"), 2, "unrecognized arguments: --bogus"),
    command(
        "misspelt-option", ("train", "good.yaml", "--ovewrite"), 2, "--ovewrite — did you mean '--overwrite'?"
    ),
    command(
        "config-key-as-option",
        ("train", "good.yaml", "--lr", "0.1"),
        2,
        "unrecognized arguments: --lr 0.1 — to change config key train.lr, write --set train.lr=0.1",
    ),
    command(
        "config-key-as-option-with-equals",
        ("train", "good.yaml", "--hidden-size=8"),
        2,
        "write --set model.hidden_size=8",
    ),
    command(
        "values-as-option-of-sweep-without-grid",  # the flag, not the missing --grid, is the mistake
        ("sweep", "good.yaml", "--lr", "0.1,1"),
        2,
        "write --grid train.lr=0.1,1",
    ),
    command("sweep-without-grid", ("sweep", "good.yaml"), 2, "the following arguments are required: --grid"),
    command(
        "values-as-option-of-sweep",
        ("sweep", "good.yaml", "--grid", "train.epochs=1", "--lr", "0.1,1"),
        2,
        "write --grid train.lr=0.1,1",
    ),
    command(
        "grid-undotted-key",
        ("sweep", "good.yaml", "--grid", "lr=0.1,1"),
        2,
        "--grid lr=0.1,1: unknown key 'lr' — did you mean 'train.lr'?",
    ),
    command("plot-bad-format", ("plot", "oldrun", "--format", "jpg"), 2, "invalid choice: 'jpg'"),
    command("plot-bad-dpi", ("plot", "oldrun", "--dpi", "5"), 2, "must be an integer from 10 to 1000, got 5"),
    command(
        "evaluate-split-and-csv",
        ("evaluate", "model.npz", "--split", "train", "--csv", "points.csv"),
        2,
        "--split names a split of the model's own dataset; drop it with --csv",
    ),
    command(
        "evaluate-split-of-arrays",
        ("evaluate", "model.npz", "--split", "train"),
        1,
        "fitted on arrays, not on a dataset of a config, so it has no train split",
    ),
    command("train-nothing", ("train",), 2, "give a CONFIG file, or --resume RUN_DIR"),
    command("resume-missing", ("train", "--resume", "nope"), 2, "nope: no such run directory"),
    # where the output goes
    command(
        "out-under-a-file",
        ("train", "good.yaml", "--out", "notes.txt/run", "-q"),
        1,
        "notes.txt/run",
        "Not a directory",
    ),
    command(
        "out-holds-a-run", ("train", "good.yaml", "--out", "oldrun", "-q"), 1, "oldrun already holds a run"
    ),
    Case(
        "out-in-use",
        ("train", "good.yaml", "--out", "busy", "-q"),
        1,
        (f"busy is in use by process {os.getpid()} on ", "which holds busy/trainer.lock"),
        hold="busy",
    ),
    Case(
        "resume-in-use",
        ("train", "--resume", "busy", "-q"),
        1,
        (f"busy is in use by process {os.getpid()} on ",),
        {"busy/config.yaml": GOOD},
        hold="busy",
    ),
    # sweeps: what to sweep and where
    command(
        "sweep-nothing",
        ("sweep",),
        2,
        "sweep: give a CONFIG and --grid KEY=V1,V2,..., or --resume OUT",
    ),
    command("sweep-resume-missing", ("sweep", "--resume", "nope"), 2, "nope: no such sweep directory"),
    command(
        "sweep-resume-not-a-sweep",
        ("sweep", "--resume", "oldrun"),
        2,
        "oldrun: not a sweep directory (no sweep.json)",
    ),
    command(
        "sweep-resume-with-out",
        ("sweep", "--resume", "oldrun", "--out", "x"),
        2,
        "--resume goes on in OUT itself; drop --out and --overwrite",
    ),
    command(
        "sweep-resume-damaged",
        ("sweep", "--resume", "half"),
        1,
        "half/sweep.json:1: malformed JSON",
        files={"half/sweep.json": "{"},
    ),
    Case(
        "sweep-out-in-use",
        ("sweep", "good.yaml", "--grid", "train.lr=0.1", "--out", "busy", "-q"),
        1,
        (f"busy is in use by process {os.getpid()} on ",),
        hold="busy",
    ),
    command(
        "out-holds-an-unfinished-run",
        ("train", "good.yaml", "--out", "cut-short", "-q"),
        1,
        "cut-short: a run that has not finished (no summary.json; no checkpoint: it would start again)",
        "go on with: trainer train --resume cut-short; or choose another --out, or pass --overwrite",
    ),
    command(
        "evaluate-an-unfinished-run",
        ("evaluate", "cut-short"),
        1,
        "cut-short: a run that has not finished",
        "trainer train --resume cut-short",
    ),
    command("plot-an-unfinished-run", ("plot", "cut-short"), 1, "trainer train --resume cut-short"),
    # a mistyped run directory: the nearest entry of the directory above it
    *(
        command(
            f"mistyped-run-{args[0]}-{i}", args, code, f"{typed}: no such {what} — did you mean '{meant}'?"
        )
        for i, (args, code, typed, what, meant) in enumerate(
            [
                (("evaluate", "oldrnu"), 1, "oldrnu", "model file or run directory", "oldrun"),
                (("evaluate", "oldrnu/model.npz"), 1, "oldrnu/model.npz", "model file", "oldrun/model.npz"),
                (("predict", "oldrnu", "points.csv"), 1, "oldrnu", "model file or run directory", "oldrun"),
                (("inspect", "oldrnu"), 1, "oldrnu", "model file or run directory", "oldrun"),
                (("plot", "oldrnu"), 1, "oldrnu", "directory", "oldrun"),
                (("compare", "oldrnu", "oldrun"), 1, "oldrnu", "run directory or seed group", "oldrun"),
                (("train", "--resume", "oldrnu"), 2, "oldrnu", "run directory", "oldrun"),
                (("sweep", "--resume", "oldrnu"), 2, "oldrnu", "sweep directory", "oldrun"),
                (
                    ("curve", "compare", "oldrnu", "oldrun"),
                    1,
                    "oldrnu",
                    "curve file or run directory",
                    "oldrun",
                ),
            ]
        )
    ),
    command(  # model.init_from is made absolute as the config is read: the path is said so
        "mistyped-run-init-from",
        ("train", "good.yaml", "--init-from", "oldrnu", "-q"),
        1,
        "/mistyped-run-init-from/oldrnu: no such model file or run directory — did you mean '",
        "/mistyped-run-init-from/oldrun'?",
    ),
    command(
        "evaluate-a-directory-without-a-model",
        ("predict", "empty", "points.csv"),
        1,
        "empty: no model.npz in this directory",
    ),
    command(
        "predict-into-missing-dir",
        ("predict", "model.npz", "points.csv", "-o", "nodir/p.csv"),
        1,
        "cannot write nodir/p.csv: No such file or directory",
    ),
    # seed groups, comparisons and band goldens
    command("seeds-empty", ("train", "good.yaml", "--seeds", "", "--out", "g"), 2, "--seeds : empty"),
    command("seeds-negative", ("train", "good.yaml", "--seeds", "-3", "--out", "g"), 2, "integers >= 0"),
    command("seeds-twice", ("train", "good.yaml", "--seeds", "1,2,1", "--out", "g"), 2, "seed 1 given twice"),
    command(
        "seeds-huge",
        ("train", "good.yaml", "--seeds", "0-99999999", "--out", "g"),
        2,
        "100000000 seeds; at most",
    ),
    command("seeds-with-resume", ("train", "--resume", "oldrun", "--seeds", "3"), 2, "drop --seeds"),
    command(
        "sweep-seeds-bad", ("sweep", "good.yaml", "--grid", "train.lr=0.1", "--seeds", "2-1"), 2, "backwards"
    ),
    command(
        "compare-other-datasets",
        ("compare", "moons_run", "iris_run"),
        1,
        "cannot compare moons_run and iris_run: trained on moons and iris",
        files={**run_files("moons_run", "moons"), **run_files("iris_run", "iris")},
    ),
    command(
        "compare-not-a-run", ("compare", "oldrun", "oldrun"), 1, "oldrun: incomplete run: no metrics.jsonl"
    ),
    command(
        "band-one-seed",
        ("curve", "update", "good.yaml", "--golden", "g.json", "--seeds", "1"),
        2,
        "a band needs at least 2 seeds",
    ),
    command(
        "band-of-exact-golden",
        ("curve", "check", "good.yaml", "--golden", "exact.json", "--band"),
        1,
        "exact.json: an exact golden, with no band",
        "--seeds 10",
        files={"exact.json": EXACT_GOLDEN},
    ),
    command("band-and-exact", ("curve", "check", "good.yaml", "--band", "--exact"), 2, "choose one"),
    # --debug shows the traceback instead
    Case(
        "debug-config",
        ("train", "c.yaml"),
        1,
        ("Traceback", "ConfigError: c.yaml:2"),
        {"c.yaml": "train:\n  lr: -1\n"},
        debug=True,
    ),
    Case("debug-model", ("evaluate", "notes.txt"), 1, ("Traceback", "ModelFileError: notes.txt"), debug=True),
]
BYTES = {
    "not-utf8": {"c.yaml": b"train:\n  lr: \xff\xfe\n"},
    "csv-not-utf8": {"d.csv": b"x0,x1,label\n1,2,\xff\n"},
    "predict-not-utf8": {"r.csv": b"key,width,height\nA,1,2\nB\xe9,3,4\n"},
}


def snapshot(root):
    """relative path -> bytes of every file below root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run_case(case, root):
    cwd = root / case.id
    for name, content in {**BASE, **case.files, **BYTES.get(case.id, {})}.items():
        (cwd / name).parent.mkdir(parents=True, exist_ok=True)
        (cwd / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    with DirLock(cwd / case.hold) if case.hold else contextlib.nullcontext():
        before = snapshot(cwd)
        result = cli(*case.args, cwd=cwd)
        return result, before, snapshot(cwd)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_input")
    return {case.id: run_case(case, root) for case in CASES}


def test_the_table_is_big_enough():
    assert len({c.id for c in CASES}) == len(CASES) >= 30


@pytest.mark.parametrize("case", [c for c in CASES if not c.debug], ids=lambda c: c.id)
def test_bad_input(case, results):
    result, before, after = results[case.id]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("trainer: error: "), lines[0]
    assert not lines[0].startswith("trainer: error: trainer"), lines[0]  # the program is named once
    for text in case.says:
        assert text in lines[0]
    assert result.returncode == case.code, lines[0]
    assert result.stdout == ""
    assert after == before, f"files changed or were added: {sorted(set(after) ^ set(before))}"


@pytest.mark.parametrize("case", [c for c in CASES if c.debug], ids=lambda c: c.id)
def test_debug_shows_the_traceback(case, results):
    result, before, after = results[case.id]
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert all(text in result.stderr for text in case.says)
    assert result.returncode == case.code and after == before


# ---------------------------------------------------------------- inputs that are fine


@dataclass
class Good:
    """A CSV a saved model reads correctly: the command prints what `reference` prints on a plain
    file of the same numbers (changed by `expect` where the output rightly differs), exit 0, and at
    most notes on stderr."""

    id: str
    args: tuple
    reference: tuple
    files: dict
    expect: object = None  # reference stdout -> expected stdout


GOOD_CASES = [
    Good(
        "good-columns-reordered",
        ("predict", "named.npz", "r.csv", "--proba"),
        ("predict", "named.npz", "named.csv", "--proba"),
        {"r.csv": "kind,height,width\n0,2,1\n1,4,3\n"},
    ),
    Good(
        "good-columns-reordered-evaluate",
        ("evaluate", "named.npz", "--csv", "r.csv", "--json"),
        ("evaluate", "named.npz", "--csv", "named.csv", "--json"),
        {"r.csv": "height,kind,width\n2,0,1\n4,1,3\n"},
    ),
    Good(
        "good-extra-columns",
        ("predict", "named.npz", "r.csv", "--proba"),
        ("predict", "named.npz", "named.csv", "--proba"),
        {"r.csv": "notes,width,height,more\nx,1,2,7\ny,3,4,8\n"},
    ),
    Good(
        "good-bom-crlf",
        ("predict", "named.npz", "r.csv", "--proba"),
        ("predict", "named.npz", "named.csv", "--proba"),
        {"r.csv": "\ufeffwidth,height,kind\r\n1,2,0\r\n3,4,1\r\n"},
    ),
    Good(
        "good-no-header-by-position",
        ("predict", "named.npz", "r.csv", "--target", "2", "--proba"),
        ("predict", "named.npz", "named.csv", "--proba"),
        {"r.csv": "1,2,0\n3,4,1\n"},
    ),
    Good(
        "good-subnormal",
        ("predict", "model.npz", "r.csv", "--proba"),
        ("predict", "model.npz", "same.csv", "--proba"),
        {"r.csv": "x0,x1\n1e-320,-1e-320\n", "same.csv": "x0,x1\n10e-321,-0.1e-319\n"},
    ),
    Good(
        "good-label-column-of-floats-ignored",
        ("predict", "model.npz", "r.csv", "--target", "score", "--proba"),
        ("predict", "model.npz", "plain.csv", "--proba"),
        {"r.csv": "x0,x1,score\n1,2,0.25\n3,4,0.75\n", "plain.csv": "x0,x1\n1,2\n3,4\n"},
    ),
    Good(
        "good-empty-cells-mean",
        ("predict", "mean.npz", "r.csv", "--proba"),
        ("predict", "mean.npz", "filled.csv", "--proba"),
        {"r.csv": "x0,x1\n,1\n0.5,\n", "filled.csv": "x0,x1\n0.25,1\n0.5,0.75\n"},
    ),
    Good(
        "good-empty-cells-drop",
        ("predict", "drop.npz", "r.csv", "--proba"),
        ("predict", "drop.npz", "kept.csv", "--proba"),
        {"r.csv": "x0,x1\n1,2\n,3\n4,5\n", "kept.csv": "x0,x1\n1,2\n4,5\n"},
        expect=lambda out: "".join(line + ",,\n" * (i == 1) for i, line in enumerate(out.splitlines(True))),
    ),
]


def run_good(case, root):
    cwd = root / case.id
    for name, content in {**BASE, **case.files}.items():
        (cwd / name).parent.mkdir(parents=True, exist_ok=True)
        (cwd / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return cli(*case.args, cwd=cwd), cli(*case.reference, cwd=cwd)


@pytest.fixture(scope="module")
def good_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("good_input")
    return {case.id: run_good(case, root) for case in GOOD_CASES}


@pytest.mark.parametrize("case", GOOD_CASES, ids=lambda c: c.id)
def test_good_input(case, good_results):
    result, reference = good_results[case.id]
    assert (result.returncode, reference.returncode) == (0, 0), result.stderr + reference.stderr
    assert all(line.startswith("trainer: note: ") for line in result.stderr.splitlines()), result.stderr
    expected = case.expect(reference.stdout) if case.expect else reference.stdout
    assert result.stdout == expected and len(expected.splitlines()) >= 2
