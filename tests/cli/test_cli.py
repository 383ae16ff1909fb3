"""The user's day, end to end through subprocesses: train -> evaluate -> predict, in a temp dir."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import trainer

ROOT = Path(__file__).resolve().parents[2]


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    """One short moons run shared by the tests that only read it."""
    tmp = tmp_path_factory.mktemp("moons")
    ok(
        trainer(
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
    assert set(summary["train"]) >= {"accuracy", "loss"} and set(summary["test"]) >= {"accuracy", "log_loss"}
    assert summary["epochs_run"] <= 8 and summary["n_train"] + summary["n_val"] + summary["n_test"] == 300
    records = [json.loads(line) for line in (moons_run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == list(range(1, summary["epochs_run"] + 1))
    assert {"epoch", "train_loss", "val_loss", "val_accuracy", "lr", "epoch_seconds"} <= set(records[0])


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
    report = json.loads(ok(trainer("evaluate", moons_run / "model.npz", "--json", cwd=moons_run)).stdout)
    summary = json.loads((moons_run / "summary.json").read_text())
    assert report["accuracy"] == summary["test"]["accuracy"]
    assert report["log_loss"] == summary["test"]["log_loss"]
    assert report["n_samples"] == summary["n_test"] == sum(map(sum, report["confusion_matrix"]))
    assert set(report["per_class"]["0"]) >= {"precision", "recall", "f1"}


def test_evaluate_prints_a_readable_report(moons_run):
    out = ok(trainer("evaluate", moons_run / "model.npz", cwd=moons_run)).stdout
    assert out.startswith("accuracy ") and "confusion matrix" in out


def test_csv_train_evaluate_predict(tmp_path):
    ok(trainer("train", ROOT / "configs/csv_example.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path))
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    example = ROOT / "data/example.csv"
    report = json.loads(
        ok(
            trainer(
                "evaluate", "run/model.npz", "--csv", example, "--target", "label", "--json", cwd=tmp_path
            )
        ).stdout
    )
    assert report["n_samples"] == 300 and report["accuracy"] > 0.8
    assert sorted(report["classes"]) == ["apple", "lemon", "orange"]
    assert summary["test"]["accuracy"] > 0.8

    ok(
        trainer(
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
    out = ok(trainer("predict", moons_run / "model.npz", tmp_path / "inputs.csv", cwd=tmp_path)).stdout
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
    ok(
        trainer(
            "train", ROOT / "configs/moons.yaml", "--set", "train.epochs=1", "-q", "--no-plots", cwd=tmp_path
        )
    )
    (run,) = (tmp_path / "runs/moons").iterdir()
    before = (run / "model.npz").read_bytes()
    r = trainer(
        "train", ROOT / "configs/moons.yaml", "--set", "train.epochs=2", "--out", run, "-q", cwd=tmp_path
    )
    assert r.returncode == 1 and "already holds a run" in r.stderr and len(r.stderr.splitlines()) == 1
    assert (run / "model.npz").read_bytes() == before
    ok(
        trainer(
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


def test_summary_is_printed_unless_quiet(tmp_path):
    out = ok(
        trainer("train", ROOT / "configs/moons.yaml", "--set", "train.epochs=2", "--out", "r", cwd=tmp_path)
    ).stdout
    lines = out.splitlines()
    assert "  epochs   2" in lines  # no "(best 2)": without early stopping no epoch was chosen
    # the two train losses are told apart: the per-epoch objective (with L2) and the final cross-entropy
    assert any(
        line.startswith("  loss ") and line.endswith("(train objective per epoch, L2 included)")
        for line in lines
    )
    assert any(line.startswith("  train    accuracy ") and "  cross-entropy " in line for line in lines)
    assert any(line.startswith("  test     accuracy ") for line in lines)
    assert (
        ok(
            trainer(
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
        == ""
    )


def test_summary_names_the_best_epoch_early_stopping_chose(tmp_path):
    out = ok(
        trainer(
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
    assert f"  epochs   3 (best {best})" in out.splitlines()


def test_datasets_lists_every_builtin(tmp_path):
    from trainer.data.datasets import DATASETS

    out = ok(trainer("datasets", cwd=tmp_path)).stdout
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
        trainer(
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
        ok(trainer("evaluate", fruit_run / "model.npz", "--csv", "moved.csv", "--json", cwd=tmp_path)).stdout
    )
    plain = ["evaluate", fruit_run / "model.npz", "--csv", ROOT / "data/example.csv", "--json"]
    assert got == json.loads(ok(trainer(*plain, cwd=tmp_path)).stdout)


def test_predict_copies_id_columns_and_notes_what_it_ignored(fruit_run, tmp_path):
    rows = fruit_rows()
    ided = [["name", "note", *rows[0]]] + [[f'"fruit, no. {i}"', "x", *r] for i, r in enumerate(rows[1:])]
    write_rows(tmp_path / "ided.csv", ided)
    result = ok(
        trainer("predict", fruit_run / "model.npz", "ided.csv", "--id", "name", "--id", "label", cwd=tmp_path)
    )
    out = list(csv.reader(result.stdout.splitlines()))
    assert out[0] == ["name", "label", "prediction"]
    assert out[1][:2] == ["fruit, no. 0", rows[1][4]] and len(out) == len(rows)
    assert result.stderr == "trainer: note: ided.csv: ignoring 1 column(s) the model does not use: note\n"
    plain = ok(trainer("predict", fruit_run / "model.npz", ROOT / "data/example.csv", cwd=tmp_path)).stdout
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
    out = ok(trainer("train", "c.yaml", "--out", "run", "--no-plots", cwd=tmp_path)).stdout
    assert "  missing  13 rows with missing values dropped (data.missing: drop)" in out.splitlines()
    assert json.loads((tmp_path / "run/summary.json").read_text())["n_dropped"] == 13
    result = ok(trainer("predict", "run/model.npz", "holed.csv", cwd=tmp_path))
    lines = result.stdout.splitlines()
    assert len(lines) == 301 and lines[1] == "" and lines[2] != ""  # a dropped row: an empty prediction
    assert "13 row(s) with missing values dropped (the model's data.missing: drop)" in result.stderr
