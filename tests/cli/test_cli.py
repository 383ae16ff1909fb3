"""The user's day, end to end through the command line (in this process): train -> evaluate ->
predict, in a temp dir; `python -m trainer` and the scripts in processes of their own."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import cli, trainer

ROOT = Path(__file__).resolve().parents[2]


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    """One short moons run shared by the tests that only read it."""
    tmp = tmp_path_factory.mktemp("moons")
    ok(
        cli(
            "train",
            ROOT / "configs/moons.yaml",
            "--set",
            "train.epochs=8",
            "--set",
            "data.params.n_samples=300",
            "--out",
            "run",
            "--quiet",
            "--no-plots",
            cwd=tmp,
        )
    )
    return tmp / "run"


def test_train_writes_the_run_directory(moons_run):
    assert {"config.yaml", "metrics.jsonl", "model.npz", "summary.json"} <= {
        p.name for p in moons_run.iterdir()
    }
    summary = json.loads((moons_run / "summary.json").read_text())
    # one shape and one name for every split
    splits = ("train", "val", "test")
    assert all(set(summary[split]) == {"accuracy", "balanced_accuracy", "loss"} for split in splits)
    assert summary["epochs_run"] <= 8 and summary["n_train"] + summary["n_val"] + summary["n_test"] == 300
    records = [json.loads(line) for line in (moons_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == list(range(1, summary["epochs_run"] + 1))
    assert set(records[0]) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "epoch_seconds",
    }
    assert all(0 <= r["train_accuracy"] <= 1 for r in records)


def test_resolved_config_has_every_default_and_trains_the_same(moons_run):
    from trainer.config.load import known_keys, load_config

    raw = yaml.safe_load((moons_run / "config.yaml").read_text())
    for key in known_keys():
        node = raw
        for part in key.split("."):
            assert part in node, f"{key} missing from the resolved config"
            node = node[part]
    cfg = load_config(moons_run / "config.yaml")
    assert cfg.train.epochs == 8 and cfg.data.params["n_samples"] == 300 and cfg.data.params["noise"] == 0.2


def test_evaluate_recreates_the_test_split_exactly(moons_run):
    report = json.loads(ok(cli("evaluate", moons_run / "model.npz", "--json", cwd=moons_run)).stdout)
    summary = json.loads((moons_run / "summary.json").read_text())
    assert report["accuracy"] == summary["test"]["accuracy"]
    assert report["loss"] == summary["test"]["loss"]
    assert report["balanced_accuracy"] == summary["test"]["balanced_accuracy"]
    assert set(report) == {
        "accuracy",
        "balanced_accuracy",
        "loss",
        "n_samples",
        "classes",
        "confusion_matrix",
        "per_class",
    }
    assert report["n_samples"] == summary["n_test"] == sum(map(sum, report["confusion_matrix"]))
    assert set(report["per_class"]["0"]) >= {"precision", "recall", "f1"}


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_evaluate_takes_the_run_directory_and_any_split_of_its_data(moons_run, split):
    by_dir = ok(cli("evaluate", moons_run, "--split", split, "--json", cwd=moons_run)).stdout
    by_file = ok(cli("evaluate", moons_run / "model.npz", "--split", split, "--json", cwd=moons_run)).stdout
    assert by_dir == by_file
    report, summary = json.loads(by_dir), json.loads((moons_run / "summary.json").read_text())
    assert {k: report[k] for k in ("accuracy", "balanced_accuracy", "loss")} == summary[
        split
    ]  # recreated exactly
    assert report["n_samples"] == summary[f"n_{split}"]


def test_predict_takes_the_run_directory(moons_run, tmp_path):
    np.savetxt(tmp_path / "inputs.csv", np.random.default_rng(0).uniform(-1, 2, size=(5, 2)), delimiter=",")
    by_dir = ok(cli("predict", moons_run, tmp_path / "inputs.csv", "--proba", cwd=tmp_path)).stdout
    by_file = ok(cli("predict", moons_run / "model.npz", tmp_path / "inputs.csv", "--proba", cwd=tmp_path))
    assert by_dir == by_file.stdout and len(by_dir.splitlines()) == 6


def test_evaluate_a_config_without_a_test_split(tmp_path):
    config = ROOT / "configs/spiral_cs231n.yaml"
    ok(cli("train", config, "--set", "train.epochs=3", "--out", "run", "-q", "--no-plots", cwd=tmp_path))
    r = cli("evaluate", "run", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.splitlines() == [
        "trainer: error: this model was trained with data.test_size 0, so it has no test split; "
        "choose --split train, or pass --csv FILE --target COLUMN"
    ]
    report = json.loads(ok(cli("evaluate", "run", "--split", "train", "--json", cwd=tmp_path)).stdout)
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert {k: report[k] for k in ("accuracy", "balanced_accuracy", "loss")} == summary["train"] and report[
        "n_samples"
    ] == 300
    assert "  (train split)" in ok(cli("evaluate", "run", "--split", "train", cwd=tmp_path)).stdout


def table(lines):
    """The lines of a text table, each cut into its cells (two spaces or more apart) with the column
    each cell ends at."""
    import re

    return [[(m[0], m.end()) for m in re.finditer(r"\S+(?: \S+)*", line)] for line in lines]


@pytest.mark.parametrize("labels", [("0", "1"), ("a-very-long-class-name", "b")])
def test_evaluate_text_tables_are_aligned_and_labelled(tmp_path, labels):
    rows = [f"{i % 7},{i % 5 * 0.5},{labels[i % 2]}" for i in range(60)]
    (tmp_path / "d.csv").write_text("f1,f2,label\n" + "\n".join(rows) + "\n")
    (tmp_path / "c.yaml").write_text("data: {dataset: csv, path: d.csv, target: label}\ntrain: {epochs: 2}\n")
    ok(cli("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path))
    lines = ok(cli("evaluate", "run", cwd=tmp_path)).stdout.splitlines()
    assert lines[0].startswith("accuracy ") and "  loss " in lines[0] and lines[0].endswith("(test split)")
    per_class, confusion = table(lines[2:5]), table(lines[7:10])
    assert [cell for cell, _ in per_class[0]] == ["class", "precision", "recall", "f1", "support"]
    assert [cell for cell, _ in per_class[1]][0] == labels[0]
    assert lines[6] == "confusion matrix (rows: true class, columns: predicted class)"
    assert [cell for cell, _ in confusion[0]] == ["true \\ predicted", *labels]
    assert [row[0][0] for row in confusion[1:]] == list(labels)
    for rows in (per_class, confusion):  # numbers stand right-aligned under their headers
        assert all(len(row) == len(rows[0]) for row in rows)
        for j in range(1, len(rows[0])):
            assert len({row[j][1] for row in rows}) == 1, rows


def test_evaluate_prints_a_readable_report(moons_run):
    out = ok(cli("evaluate", moons_run / "model.npz", cwd=moons_run)).stdout
    assert out.startswith("accuracy ") and "confusion matrix" in out


def test_csv_train_evaluate_predict(tmp_path):
    ok(cli("train", ROOT / "configs/csv_example.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path))
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    example = ROOT / "data/example.csv"
    report = json.loads(
        ok(
            cli("evaluate", "run/model.npz", "--csv", example, "--target", "label", "--json", cwd=tmp_path)
        ).stdout
    )
    assert report["n_samples"] == 300 and report["accuracy"] > 0.8
    assert sorted(report["classes"]) == ["apple", "lemon", "orange"]
    assert summary["test"]["accuracy"] > 0.8

    ok(
        cli(
            "predict",
            "run/model.npz",
            example,
            "--target",
            "label",
            "--proba",
            "-o",
            "preds.csv",
            cwd=tmp_path,
        )
    )
    with open(tmp_path / "preds.csv") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["prediction", "proba_apple", "proba_lemon", "proba_orange"]
    assert len(rows) == 301
    proba = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    assert np.allclose(proba.sum(axis=1), 1.0)
    names = rows[0][1:]
    assert [r[0] for r in rows[1:]] == [names[i].removeprefix("proba_") for i in proba.argmax(axis=1)]
    with open(example) as f:
        truth = [r["label"] for r in csv.DictReader(f)]
    agree = np.mean([p[0] == t for p, t in zip(rows[1:], truth, strict=True)])
    assert agree == pytest.approx(report["accuracy"])  # predict and evaluate see the same model


def test_predict_to_stdout_without_a_header_row(moons_run, tmp_path):
    rows = np.random.default_rng(0).uniform(-1, 2, size=(5, 2))
    np.savetxt(tmp_path / "inputs.csv", rows, delimiter=",")
    out = ok(cli("predict", moons_run / "model.npz", tmp_path / "inputs.csv", cwd=tmp_path)).stdout
    lines = out.splitlines()
    assert lines[0] == "prediction" and len(lines) == 6 and set(lines[1:]) <= {"0", "1"}


def test_scripts_train_is_the_same_command(tmp_path):
    env = {**os.environ, "PYTHONPATH": ""}
    r = subprocess.run(
        [
            sys.executable,
            ROOT / "scripts/train.py",
            ROOT / "configs/moons.yaml",
            "--set",
            "train.epochs=2",
            "--out",
            "run",
            "-q",
            "--no-plots",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    r = subprocess.run(
        [sys.executable, ROOT / "scripts/evaluate.py", "run/model.npz"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0 and r.stdout.startswith("accuracy"), r.stderr


def test_default_run_directory_and_no_overwrite(tmp_path):
    ok(cli("train", ROOT / "configs/moons.yaml", "--set", "train.epochs=1", "-q", "--no-plots", cwd=tmp_path))
    (run,) = (tmp_path / "runs/moons").iterdir()
    before = (run / "model.npz").read_bytes()
    r = cli("train", ROOT / "configs/moons.yaml", "--set", "train.epochs=2", "--out", run, "-q", cwd=tmp_path)
    assert r.returncode == 1 and "already holds a run" in r.stderr and len(r.stderr.splitlines()) == 1
    assert (run / "model.npz").read_bytes() == before
    ok(
        cli(
            "train",
            ROOT / "configs/moons.yaml",
            "--set",
            "train.epochs=2",
            "--out",
            run,
            "--overwrite",
            "-q",
            "--no-plots",
            cwd=tmp_path,
        )
    )
    assert (run / "model.npz").read_bytes() != before


def test_summary_is_printed_and_quiet_prints_only_the_run_directory(tmp_path):
    out = ok(
        cli("train", ROOT / "configs/moons.yaml", "--set", "train.epochs=2", "--out", "r", cwd=tmp_path)
    ).stdout
    lines = out.splitlines()
    summary = json.loads((tmp_path / "r/summary.json").read_text())
    assert lines[:2] == [
        "run r",
        "  epochs    2",
    ]  # no "(best 2)": without early stopping no epoch was chosen
    # the objective the steps minimised (with L2) is told apart from the loss of the final weights
    assert lines[2].startswith("  objective ") and lines[2].endswith(
        "(per epoch: loss + L2, mean over its batches)"
    )
    for line, split in zip(lines[3:6], ("train", "val", "test"), strict=True):
        s = summary[split]
        expected = (
            f"accuracy {s['accuracy']:.4f}  balanced {s['balanced_accuracy']:.4f}  loss {s['loss']:.4f}"
        )
        assert line == f"  {split:<9} {expected}"
    assert "cross-entropy" not in out and "log_loss" not in out
    assert (
        ok(
            cli(
                "train",
                ROOT / "configs/moons.yaml",
                "--set",
                "train.epochs=2",
                "--out",
                "q",
                "-q",
                "--no-plots",
                cwd=tmp_path,
            )
        ).stdout
        == "q\n"
    )


def test_summary_names_the_best_epoch_early_stopping_chose(tmp_path):
    out = ok(
        cli(
            "train",
            ROOT / "configs/moons.yaml",
            "--set",
            "train.epochs=3",
            "--set",
            "train.early_stopping=true",
            "--out",
            "r",
            "--no-plots",
            cwd=tmp_path,
        )
    ).stdout
    best = json.loads((tmp_path / "r/summary.json").read_text())["best_epoch"]
    assert f"  epochs    3 (best {best})" in out.splitlines()


def test_datasets_lists_every_builtin(tmp_path):
    from trainer.data.datasets import DATASETS

    out = ok(cli("datasets", cwd=tmp_path)).stdout
    assert all(name in out for name in DATASETS)


def test_python_dash_m_and_version(tmp_path):
    from trainer import __version__

    assert ok(trainer("--version", cwd=tmp_path)).stdout.strip() == f"trainer {__version__}"


# ---------------------------------------------------------------- your own CSV files


@pytest.fixture(scope="module")
def fruit_run(tmp_path_factory):
    """One short run on the fruit CSV shared by the tests that only read it."""
    tmp = tmp_path_factory.mktemp("fruit")
    ok(
        cli(
            "train",
            ROOT / "configs/csv_example.yaml",
            "--set",
            "train.epochs=5",
            "--out",
            "run",
            "-q",
            cwd=tmp,
        )
    )
    return tmp / "run"


def fruit_rows():
    with open(ROOT / "data/example.csv") as f:
        return list(csv.reader(f))


def write_rows(path, rows, end="\n", bom=False):
    path.write_bytes(("\ufeff" * bom + "".join(",".join(r) + end for r in rows)).encode())
    return path


def test_evaluate_finds_the_label_column_by_the_models_own_name(fruit_run, tmp_path):
    rows = fruit_rows()
    moved = [[r[4], r[3], r[0], r[2], r[1]] for r in rows]  # label first, features reversed
    write_rows(tmp_path / "moved.csv", moved, end="\r\n", bom=True)
    got = json.loads(
        ok(cli("evaluate", fruit_run / "model.npz", "--csv", "moved.csv", "--json", cwd=tmp_path)).stdout
    )
    plain = ["evaluate", fruit_run / "model.npz", "--csv", ROOT / "data/example.csv", "--json"]
    assert got == json.loads(ok(cli(*plain, cwd=tmp_path)).stdout)


def test_inspect_says_what_a_model_takes_and_how_it_was_trained(fruit_run, tmp_path):
    from trainer.storage.modelfile import checksum, load_model

    model = load_model(fruit_run / "model.npz")
    text = ok(cli("inspect", fruit_run, cwd=tmp_path)).stdout
    lines = {line.split("  ")[0]: line.split("  ", 1)[1].strip() for line in text.splitlines()}
    assert lines["columns"] == "4, by name: weight_g, diameter_cm, sugar_pct, acidity_ph"
    assert "features" not in lines  # numbers only: one feature per column
    assert lines["label"] == "column 'label'" and lines["classes"] == "3: apple, lemon, orange"
    assert lines["network"] == "4 -> 32 ReLU -> 3, float64"
    assert lines["inputs"].startswith(
        "standardized; missing values: error (cells read as missing: '', '#N/A',"
    )
    assert lines["trained on"].endswith("seed 0; 5 of 5 epochs run") and "example.csv" in lines["trained on"]
    assert lines["settings"] == "optimizer adam, lr 0.01, lr_schedule cosine, batch_size 32, reg 0.03"
    test = model.summary["test"]
    assert lines["test split"] == (
        f"accuracy {test['accuracy']:.4f}  balanced_accuracy {test['balanced_accuracy']:.4f}  "
        f"loss {test['loss']:.4f}  ({model.summary['n_test']} rows)"
    )
    assert lines["sha256"] == checksum(model) and "started from" not in lines
    assert lines["written by"] == f"trainer {model.trainer_version}"
    as_json = json.loads(ok(cli("inspect", fruit_run / "model.npz", "--json", cwd=tmp_path)).stdout)
    assert as_json == json.loads(json.dumps(model.description()))
    assert as_json["features"] == model.feature_names and as_json["network"]["hidden"] == 32


def test_inspect_a_positional_model_and_one_started_from_another(tmp_path):
    from trainer.storage.modelfile import checksum, load_model

    (tmp_path / "d.csv").write_text("".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40)))
    (tmp_path / "c.yaml").write_text(
        "data: {dataset: csv, path: d.csv}\ntrain: {epochs: 2}\nmodel: {hidden_size: 4}\n"
    )
    ok(cli("train", "c.yaml", "--out", "a", "-q", "--no-plots", cwd=tmp_path))
    ok(cli("train", "c.yaml", "--init-from", "a/model.npz", "--out", "b", "-q", "--no-plots", cwd=tmp_path))
    text = ok(cli("inspect", "b", cwd=tmp_path)).stdout
    assert "2, by position (no names: a CSV without a header, in this order): x0, x1" in text
    assert "label         column 2 (index, counting from 0)" in text
    assert f"started from  the model with sha256 {checksum(load_model(tmp_path / 'a/model.npz'))}" in text
    done = cli("inspect", "nope", cwd=tmp_path)
    assert (
        done.returncode == 1 and done.stderr == "trainer: error: nope: no such model file or run directory\n"
    )


def test_predict_copies_id_columns_and_notes_what_it_ignored(fruit_run, tmp_path):
    rows = fruit_rows()
    ided = [["name", "note", *rows[0]]] + [[f'"fruit, no. {i}"', "x", *r] for i, r in enumerate(rows[1:])]
    write_rows(tmp_path / "ided.csv", ided)
    result = ok(
        cli("predict", fruit_run / "model.npz", "ided.csv", "--id", "name", "--id", "label", cwd=tmp_path)
    )
    out = list(csv.reader(result.stdout.splitlines()))
    assert out[0] == ["name", "label", "prediction"]
    assert out[1][:2] == ["fruit, no. 0", rows[1][4]] and len(out) == len(rows)
    assert result.stderr == "trainer: note: ided.csv: ignoring 1 column(s) the model does not use: note\n"
    plain = ok(cli("predict", fruit_run / "model.npz", ROOT / "data/example.csv", cwd=tmp_path)).stdout
    assert [r[2] for r in out] == plain.splitlines()  # the label column is ignored, never a feature


def test_predict_streams_chunks_into_the_same_output(fruit_run, tmp_path, monkeypatch, capsys):
    from trainer.cli import main
    from trainer.data import csvparse

    args = ["predict", str(fruit_run / "model.npz"), str(ROOT / "data/example.csv"), "--proba", "--id", "4"]
    assert main([*args, "-o", str(tmp_path / "whole.csv")]) == 0
    monkeypatch.setattr(csvparse, "CHUNK_BYTES", 200)  # ~8 rows per chunk
    assert main(args) == 0
    streamed = capsys.readouterr().out
    assert streamed == (tmp_path / "whole.csv").read_text() and streamed.count("\n") == 301
    probabilities = [float(v) for line in streamed.splitlines()[1:] for v in line.split(",")[2:]]
    assert all(repr(p) in streamed for p in probabilities[:50])  # the shortest text of each float


def test_train_with_missing_values_says_what_it_did(tmp_path):
    rows = fruit_rows()
    for r in rows[1:40:3]:
        r[1] = ""
    write_rows(tmp_path / "holed.csv", rows)
    config = "data: {dataset: csv, path: holed.csv, target: label, missing: drop}\ntrain: {epochs: 3}\n"
    (tmp_path / "c.yaml").write_text(config)
    out = ok(cli("train", "c.yaml", "--out", "run", "--no-plots", cwd=tmp_path)).stdout
    assert "  missing   13 rows with missing values dropped (data.missing: drop)" in out.splitlines()
    assert json.loads((tmp_path / "run/summary.json").read_text())["n_dropped"] == 13
    result = ok(cli("predict", "run/model.npz", "holed.csv", cwd=tmp_path))
    lines = result.stdout.splitlines()
    assert len(lines) == 301 and lines[1] == "" and lines[2] != ""  # a dropped row: an empty prediction
    assert "13 row(s) with missing values dropped (the model's data.missing: drop)" in result.stderr


def test_init_from_starts_every_run_and_every_seed_of_a_group_from_the_model(tmp_path):
    from trainer.cli import main
    from trainer.storage.modelfile import checksum, load_model

    (tmp_path / "c.yaml").write_text("data: {dataset: moons, params: {n_samples: 200}}\ntrain: {epochs: 2}\n")
    assert main(["train", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "a"), "-q", "--no-plots"]) == 0
    parent = checksum(load_model(tmp_path / "a" / "model.npz"))
    args = [
        "train",
        str(tmp_path / "c.yaml"),
        "--init-from",
        str(tmp_path / "a" / "model.npz"),
        "-q",
        "--no-plots",
    ]
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert load_model(tmp_path / "b" / "model.npz").parent_sha256 == parent
    assert main([*args, "--seeds", "2", "--out", str(tmp_path / "g")]) == 0
    for seed in (0, 1):
        assert load_model(tmp_path / "g" / f"seed-{seed}" / "model.npz").parent_sha256 == parent


def test_a_diverged_run_reports_one_loss_the_same_everywhere(tmp_path):
    (tmp_path / "c.yaml").write_text(
        "data: {params: {n_samples: 300}, val_size: 0.1}\n"
        "train: {optimizer: sgd, lr: 1000, lr_schedule: constant, reg: 0, epochs: 30, early_stopping: true,"
        " patience: 100}\n"
    )
    assert cli("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path).returncode == 3
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    for split in ("train", "val", "test"):
        report = json.loads(ok(cli("evaluate", "run", "--split", split, "--json", cwd=tmp_path)).stdout)
        assert report["loss"] == summary[split]["loss"], split  # one computation: never clipped
        assert report["accuracy"] == summary[split]["accuracy"]
    # past what clipping the probabilities caps a mean at: -log(2.2e-16) = 36.0
    assert summary["test"]["loss"] > 40
    headline = ok(cli("evaluate", "run", cwd=tmp_path)).stdout.splitlines()[0]
    loss = summary["test"]["loss"]
    assert f"  loss {loss:.4e}  " in headline if loss >= 1e6 else f"  loss {loss:.4f}  " in headline


def test_numbers_are_read_one_way_for_integers_and_floats(tmp_path):
    (tmp_path / "c.yaml").write_text(
        'data: {dataset: moons, params: {n_samples: 1e2, noise: "0.1"}}\n'
        'train: {epochs: "2", batch_size: 3.2e1, lr: "1e-2"}\n'
    )
    ok(cli("train", "c.yaml", "--set", "model.hidden_size=8.0", "--out", "run", "-q", cwd=tmp_path))
    cfg = yaml.safe_load((tmp_path / "run/config.yaml").read_text())
    assert cfg["data"]["params"] == {"n_samples": 100, "noise": 0.1}
    assert (cfg["train"]["epochs"], cfg["train"]["batch_size"], cfg["train"]["lr"]) == (2, 32, 0.01)
    assert cfg["model"]["hidden_size"] == 8 and type(cfg["model"]["hidden_size"]) is int
    assert json.loads((tmp_path / "run/summary.json").read_text())["epochs_run"] == 2


def test_a_model_saved_when_the_test_loss_was_called_log_loss_still_loads(tmp_path, moons_run):
    from trainer.storage.modelfile import load_model, save_model

    model = load_model(moons_run / "model.npz")
    model.summary["test"] = {"accuracy": model.summary["test"]["accuracy"], "log_loss": 0.1}
    save_model(tmp_path / "old.npz", model)
    now = json.loads(ok(cli("evaluate", "old.npz", "--json", cwd=tmp_path)).stdout)
    assert now == json.loads(ok(cli("evaluate", moons_run, "--json", cwd=tmp_path)).stdout)


def test_help_says_where_a_relative_data_path_given_by_set_points(tmp_path):
    for command in ("train", "sweep"):
        text = " ".join(ok(cli(command, "--help", cwd=tmp_path)).stdout.split())
        assert "a relative data.path given here is relative to the current directory" in text, command


def test_help_lists_the_three_jobs_first_with_an_example_each(tmp_path):
    """train; evaluate and predict; curve (the loss-curve tests)."""
    import shlex

    from trainer.cli import build_parser

    text = ok(cli("--help", cwd=tmp_path)).stdout
    listed = text.split("  COMMAND\n", 1)[1].split("\n\n")[0]
    names = [line.split()[0] for line in listed.splitlines() if line.startswith("    ") and line[4] != " "]
    assert names[:4] == ["train", "evaluate", "predict", "curve"] and len(names) == len(set(names)) >= 10
    examples = [shlex.split(line, comments=True) for line in text.split("examples:\n")[1].splitlines()]
    assert [words[1] for words in examples] == ["train", "evaluate", "predict", "curve"]
    parsed = [build_parser().parse_args(words[1:]) for words in examples]  # argparse exits on a bad one
    train, evaluate, predict, curve = parsed
    golden = ROOT / "tests/golden" / Path(curve.configs[0]).with_suffix(".json").name
    assert curve.configs == [train.config] and golden.is_file()
    assert evaluate.model == predict.model == train.out  # the run the first example writes
    assert (ROOT / train.config).is_file() and (ROOT / predict.csv).is_file()


def test_a_run_that_fails_before_writing_leaves_no_empty_run_directory(tmp_path):
    """The directory a failed run made (runs/<name>/<time>/ or a new --out) is removed; one that was
    there before stays."""
    rows = "".join(f"{i},{2 * i},{'xy'[i % 2]}\n" for i in range(30))
    (tmp_path / "t.csv").write_text("a,b,c\n" + rows + "NA,3,x\n")
    (tmp_path / "kept").mkdir()
    for out in ([], ["--out", "new"], ["--out", "kept"]):
        r = cli("train", "t.csv", "--target", "c", *out, cwd=tmp_path)
        assert r.returncode == 1 and "missing value ('NA'" in r.stderr
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_dir()) == ["kept", "runs", "t"]
    assert list((tmp_path / "runs/t").iterdir()) == [] and list((tmp_path / "kept").iterdir()) == []
