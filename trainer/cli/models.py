"""Saved models and data: `trainer evaluate`, `trainer predict`, `trainer datasets`."""

import sys

from trainer.cli import columns, command, number
from trainer.errors import ConfigError


def _column(text):
    """A CSV column: an integer index when it parses as one, else a header name."""
    try:
        return int(text)
    except ValueError:
        return text


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
        type=_column,
        help="label column of --csv: name or index (default: the model's data.target)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")


@command(
    "evaluate",
    help="metrics of a saved model on its own test split or on a CSV",
    arguments=_evaluate_arguments,
)
def evaluate_command(args):
    from trainer.evaluate import evaluate, evaluate_csv
    from trainer.storage.files import dumps
    from trainer.storage.modelfile import load_model

    if args.csv and args.split:
        raise ConfigError("evaluate: --split names a split of the model's own dataset; drop it with --csv")
    model = load_model(args.model)
    if args.csv:
        target = args.target if args.target is not None else model.config.get("data", {}).get("target", -1)
        report = evaluate_csv(model, args.csv, target)
    else:
        report = evaluate(model, split=args.split or "test")
    print(
        dumps(report, indent=2)
        if args.json
        else _report_text(report, args.csv or f"{args.split or 'test'} split")
    )
    return 0


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
    p.add_argument("csv", help="CSV of feature rows (a header naming the model's features is optional)")
    p.add_argument("--target", type=_column, help="a label column in the CSV to ignore")
    p.add_argument("--proba", action="store_true", help="also write each class's probability")
    p.add_argument("-o", "--output", help="write the predictions to this CSV file (default: stdout)")


@command(
    "predict",
    help="predict the classes of the rows of a CSV with a saved model",
    arguments=_predict_arguments,
)
def predict_command(args):
    from trainer.evaluate import predict_csv
    from trainer.storage.files import atomic_write
    from trainer.storage.modelfile import load_model

    model = load_model(args.model)
    pred, proba = predict_csv(model, args.csv, target=args.target)
    header = ["prediction"] + ([f"proba_{c}" for c in model.classes] if args.proba else [])
    rows = [
        [str(model.classes[i])] + ([repr(float(p)) for p in ps] if args.proba else [])
        for i, ps in zip(pred, proba, strict=True)
    ]
    text = "".join(",".join(r) + "\n" for r in [header, *rows])
    if args.output:
        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


@command("datasets", help="list the built-in datasets and their parameters")
def datasets_command(args):
    from trainer.data.datasets import DATASETS

    for name, spec in DATASETS.items():
        params = ", ".join(f"{k}={v!r}" for k, v in spec.defaults.items())
        print(f"{name:<20} {spec.description}" + (f"\n{'':<20} params: {params}" if params else ""))
    return 0
