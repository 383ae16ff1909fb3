"""Saved models and data: `trainer evaluate`, `trainer predict`, `trainer inspect`, `trainer datasets`."""

import re
import sys

from trainer.cli import (
    at_least,
    column,
    columns,
    command,
    note,
    number,
    picture_arguments,
    picture_failed,
    warn,
)
from trainer.errors import ConfigError


def _evaluate_arguments(p):
    p.add_argument("model", help="a model.npz written by `trainer train`, or its run directory")
    p.add_argument(
        "--split",
        choices=("train", "val", "test"),
        help="the split of the model's own dataset to evaluate on, recreated from its stored config "
        "(default test)",
    )
    p.add_argument("--csv", help="labelled CSV to evaluate on (default: the model's own test split)")
    p.add_argument(
        "--target",
        type=column,
        help="label column of --csv: name or index (default: the model's own label column, by name)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--plot",
        metavar="DIR",
        help="also draw the evaluation into DIR: confusion.png, and for two classes roc.png and "
        "precision_recall.png, beside evaluation.json (and scores.npz): `trainer plot DIR` draws them again",
    )
    picture_arguments(p, "--plot DIR")
    _file_arguments(p, "--csv")


def _file_arguments(p, what):
    """--sep, --skip-rows and --strict: how a CSV is read, and whether drift is an error."""
    p.add_argument(
        "--sep",
        metavar="SEP",
        help=f"the delimiter of {what}: a character, comma, semicolon, tab, pipe or whitespace "
        "(default: detect)",
    )
    p.add_argument(
        "--skip-rows", type=at_least(0), default=0, metavar="N", help=f"lines to skip at the top of {what}"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help=f"exit 5 instead of warning when {what}'s features lie far from their training distribution "
        "(nothing is written)",
    )


@command(
    "evaluate",
    help="metrics of a saved model on its own test split or on a CSV",
    arguments=_evaluate_arguments,
)
def evaluate_command(args):
    from trainer.evaluate import Scores, evaluate, evaluate_csv
    from trainer.storage.files import dumps
    from trainer.storage.modelfile import load_model

    if args.csv and args.split:
        raise ConfigError("evaluate: --split names a split of the model's own dataset; drop it with --csv")
    if not args.csv and (args.sep or args.skip_rows or args.strict):
        raise ConfigError("evaluate: --sep, --skip-rows and --strict are for --csv FILE")
    if not args.plot and (args.format or args.dpi):
        raise ConfigError("evaluate: --format and --dpi are for --plot DIR")
    if args.plot:
        _check_plot_dir(args.plot)
    model = load_model(args.model)
    notes, source = [], args.csv or f"{args.split or 'test'} split"
    scores = Scores() if args.plot and model.n_classes == 2 else None  # for the ROC and PR curves
    if args.csv:
        from trainer.data.drift import DriftCheck

        drift = DriftCheck(model.prep)
        report = evaluate_csv(
            model, args.csv, args.target, notes, drift, args.sep, args.skip_rows, scores=scores
        )
        report["drift"] = _drift(drift, args.csv, args.strict)  # said before the report: a pipe may close
    else:
        report = evaluate(model, split=args.split or "test", scores=scores)
    for line in notes:
        note(line)
    print(dumps(report, indent=2) if args.json else _report_text(report, source))
    if args.plot:
        pictures = _plot_evaluation(args, model, report, source, scores)
        if pictures and not args.json:  # --json prints one JSON object, nothing more
            print(f"\npictures {', '.join(map(str, pictures))}")
    return 0


def _check_plot_dir(directory):
    """--plot DIR: refused when DIR holds another kind of directory (a run's confusion.png is not an
    evaluation's), and made, before the model is evaluated."""
    from trainer.pictures.evaluation import plot_evaluation
    from trainer.pictures.redraw import kind_of
    from trainer.storage.files import make_dir

    kind = kind_of(directory)
    if kind is not None and kind[1] is not plot_evaluation:
        raise ConfigError(f"evaluate: --plot {directory} holds {kind[0]}; choose another directory")
    make_dir(directory)


def _plot_evaluation(args, model, report, source, scores):
    """Write the evaluation's files into --plot DIR and draw its pictures; the pictures' paths. Without
    matplotlib, or when drawing fails, one warning line: the evaluation stands, and its files
    are there for `trainer plot DIR`."""
    from pathlib import Path

    from trainer.pictures import plots
    from trainer.pictures.evaluation import plot_evaluation, save_evaluation

    where = source if args.csv else f"the {source}"  # a CSV's path, or "the test split"
    name = model.config.get("name") or Path(args.model).stem
    record = {"model": str(args.model), "name": name, "source": where, "report": report}
    if not save_evaluation(args.plot, record, scores) and scores is not None:
        note(f"no ROC or precision-recall curve: every row of {where} is of one class")
    if not plots.available():
        hint = plots.install_hint()
        warn(
            f"no pictures: matplotlib is not installed; `{hint}`, then `trainer plot {args.plot}` draws them"
        )
        return []
    try:
        return plot_evaluation(args.plot, fmt=args.format or "png", dpi=args.dpi or plots.DPI)
    except Exception as e:  # the evaluation is said and saved; a failed picture must not fail it
        picture_failed(e, args.plot, args.debug)
        return []


def _drift(check, source, strict):
    """The drifted features as JSON records, said in one warning line; under --strict a DriftError
    (exit 5) instead, and a note when the rows could not be judged."""
    from trainer.data.drift import drift_message
    from trainer.errors import DriftError

    findings = check.findings()
    if findings:
        message = drift_message(findings, check.n, source)
        if strict:
            raise DriftError(f"{message} (--strict)")
        warn(message)
    elif strict and check.not_judged():
        note(f"{source}: drift not judged: {check.not_judged()}")
    return [vars(d) for d in findings]


def _report_text(r, what):
    """The report as lines: the headline, per-class metrics and the confusion matrix, both tables labelled."""
    names = [str(c) for c in r["classes"]]
    per_class = [["class", "precision", "recall", "f1", "support"]]
    per_class += [
        [name, f"{m['precision']:.4f}", f"{m['recall']:.4f}", f"{m['f1']:.4f}", str(m["support"])]
        for name, m in zip(names, r["per_class"].values(), strict=True)
    ]
    confusion = [["true \\ predicted", *names]]
    confusion += [[name, *map(str, row)] for name, row in zip(names, r["confusion_matrix"], strict=True)]
    return "\n".join(
        [
            f"accuracy {r['accuracy']:.4f}  balanced_accuracy {r['balanced_accuracy']:.4f}  "
            f"loss {number(r['loss'])}  n_samples {r['n_samples']}  ({what})",
            "",
            columns(per_class, right=range(1, 5)),
            "",
            "confusion matrix (rows: true class, columns: predicted class)",
            columns(confusion, right=range(1, len(names) + 1)),
        ]
    )


def _predict_arguments(p):
    p.add_argument("model", help="a model.npz written by `trainer train`, or its run directory")
    p.add_argument("csv", help="CSV of feature rows: matched by header name, or by position without one")
    p.add_argument(
        "--target",
        type=column,
        help="a label column to ignore (default: the model's own label column, when the header has it)",
    )
    p.add_argument(
        "--id",
        action="append",
        default=[],
        type=column,
        metavar="COL",
        help="copy this column (name or index) to the output, first (repeatable)",
    )
    p.add_argument("--proba", action="store_true", help="also write each class's probability")
    p.add_argument("-o", "--output", help="write the predictions to this CSV file (default: stdout)")
    _file_arguments(p, "the CSV")


@command(
    "predict",
    help="predict the classes of the rows of a CSV with a saved model",
    arguments=_predict_arguments,
)
def predict_command(args):
    import contextlib

    from trainer.data.drift import DriftCheck
    from trainer.predict import predict_chunks
    from trainer.storage.files import atomic_stream
    from trainer.storage.modelfile import load_model

    model = load_model(args.model)
    notes, drift = [], DriftCheck(model.prep)
    id_names, chunks = predict_chunks(
        model, args.csv, args.target, args.id, notes, drift=drift, sep=args.sep, skip_rows=args.skip_rows
    )
    header = [*id_names, "prediction"] + ([f"proba_{c}" for c in model.classes] if args.proba else [])
    text = ",".join(map(_field, header)) + "\n"  # goes out with the first rows: none if they fail
    labels = [_field(str(c)) for c in model.classes] + [""]  # index -1: a row the model cannot take
    with contextlib.ExitStack() as stack:
        if args.output:
            out = stack.enter_context(atomic_stream(args.output))
        else:  # under --strict, held back until the drift check passes
            out = stack.enter_context(_Held()) if args.strict else _Stdout()
        for ids, pred, proba in chunks:
            out.write((text + _rows(ids, pred, proba if args.proba else None, labels)).encode())
            text = ""
        _drift(drift, args.csv, args.strict)  # inside: under --strict nothing is written
    for line in notes:
        note(line)
    return 0


class _Held:
    """stdout written only when the block ends without an error (a spooled file meanwhile)."""

    def __enter__(self):
        import tempfile

        self.file = tempfile.SpooledTemporaryFile(max_size=1 << 24)
        return self

    def write(self, data):
        self.file.write(data)

    def __exit__(self, kind, error, tb):
        if kind is None:
            self.file.seek(0)
            for block in iter(lambda: self.file.read(1 << 20), b""):
                sys.stdout.write(block.decode())
        self.file.close()


class _Stdout:
    def write(self, data):
        sys.stdout.write(data.decode())


NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def _field(text):
    """A CSV field: quoted when it holds a comma, a quote or a line break, as the csv module writes it."""
    return '"' + text.replace('"', '""') + '"' if NEEDS_QUOTES.search(text) else text


def _rows(ids, pred, proba, labels):
    """Output lines: id columns, predicted label, and each class's probability as repr writes it (the
    shortest text that reads back to the same float64); a row the model cannot take has empty fields."""
    import numpy as np

    cells = [[_field(s) for s in column] for column in ids]
    cells.append(np.asarray(labels, dtype=object)[pred].tolist())
    if proba is not None:
        C = proba.shape[1]
        text = list(map(repr, proba.astype(np.float64).ravel().tolist()))
        for i in np.flatnonzero(pred < 0):
            text[i * C : (i + 1) * C] = [""] * C
        cells += [text[c::C] for c in range(C)]
    return "".join(",".join(row) + "\n" for row in zip(*cells, strict=True))


def _inspect_arguments(p):
    p.add_argument("model", help="a model.npz written by `trainer train`, or its run directory")
    p.add_argument("--json", action="store_true", help="print one JSON object")


@command(
    "inspect",
    help="what a saved model takes and gives: its features, label column, classes, network and training",
    arguments=_inspect_arguments,
)
def inspect_command(args):
    from trainer.storage.files import dumps
    from trainer.storage.modelfile import load_model

    d = load_model(args.model).description()
    print(dumps(d, indent=2) if args.json else _description_text(d))
    return 0


def _description_text(d):
    net, train = d["network"], d["train"]
    by = "by position (no names: a CSV without a header, in this order)" if d["positional"] else "by name"
    label = (
        "none (not trained on a CSV)"
        if d["target"] is None
        else f"column {d['target']!r}" + (" (index, counting from 0)" if isinstance(d["target"], int) else "")
    )
    markers = ", ".join(repr(m) for m in ["", *d["na_values"]])
    inputs = [
        "standardized" if d["standardized"] else "not standardized",
        f"missing values: {d['missing']} (cells read as missing: {markers})",
    ]
    if any(c["kind"] == "categorical" for c in d["inputs"]):
        inputs.append(f"unknown categories: {d['unknown_category']}")
    data = ", ".join(f"{k} {v}" for k, v in d["data"].items())
    settings = ", ".join(f"{k} {v}" for k, v in train.items() if k != "epochs")
    planned = f" of {train['epochs']}" if "epochs" in train else ""
    rows = [["columns", f"{len(d['inputs'])}, {by}: {_listed(_column(c) for c in d['inputs'])}"]]
    if len(d["features"]) != len(d["inputs"]):
        rows.append(["features", f"{len(d['features'])} (one-hot codes of the categories)"])
    rows += [
        ["label", label],
        ["classes", f"{len(d['classes'])}: {', '.join(map(str, d['classes']))}"],
        ["network", f"{net['inputs']} -> {net['hidden']} ReLU -> {net['classes']}, {net['dtype']}"],
        ["inputs", "; ".join(inputs)],
        ["trained on", f"{data}; seed {d['seed']}; {d['epochs_run']}{planned} epochs run"],
        ["settings", settings],
    ]
    for split, m in d["metrics"].items():
        scores = "  ".join(f"{k} {number(v)}" for k, v in m.items() if k != "rows")
        rows.append([f"{split} split", scores + (f"  ({m['rows']} rows)" if m["rows"] is not None else "")])
    rows.append(["sha256", d["sha256"]])
    rows.append(["written by", f"trainer {d['trainer_version']}"])
    if d["parent_sha256"]:
        rows.append(["started from", f"the model with sha256 {d['parent_sha256']}"])
    return columns(rows)


SHOWN = 10  # categories listed by inspect before "... (N in all)"


def _column(c):
    """An input column as inspect lists it: its name, and a categorical one's categories."""
    if c["kind"] != "categorical":
        return c["name"]
    cats = c["categories"]
    more = f", ... ({len(cats)} in all)" if len(cats) > SHOWN else ""
    return f"{c['name']} (categorical: {', '.join(cats[:SHOWN])}{more})"


def _listed(items, most=200):
    """Items joined by commas: the first `most`, then how many there are in all."""
    items = list(items)
    more = f", ... ({len(items)} in all)" if len(items) > most else ""
    return ", ".join(items[:most]) + more


@command("datasets", help="list the built-in datasets and their parameters")
def datasets_command(args):
    from trainer.data.datasets import DATASETS

    for name, spec in DATASETS.items():
        params = ", ".join(f"{k}={v!r}" for k, v in spec.defaults.items())
        print(f"{name:<20} {spec.description}" + (f"\n{'':<20} params: {params}" if params else ""))
    return 0
