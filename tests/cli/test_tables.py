"""Real tables as they come, through the command line in this process: text columns become
categories, missing-value markers count as missing, delimiters and quoted names are read, ids are
refused, a CSV trains without a config, and shifted columns are caught by the drift guard."""

import contextlib
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.preprocessing import OneHotEncoder

from trainer.cli import main
from trainer.storage.modelfile import load_model

ROOT = Path(__file__).resolve().parents[2]
PENGUINS = ROOT / "data" / "penguins.csv"


def run(*args, cwd):
    """(exit code, stdout, stderr) of `trainer ARGS` run in this process in directory cwd."""
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


def ok(*args, cwd):
    code, out, err = run(*args, cwd=cwd)
    assert code == 0, err
    return out, err


def error(code, *args, cwd):
    """The one stderr line of a command that must fail with exit `code`."""
    got, _, err = run(*args, cwd=cwd)
    assert got == code and err.count("\n") == 1 and err.startswith("trainer: error: "), err
    return err.strip()


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    """The penguins table trained from the CSV alone (no config), missing values filled: its directory."""
    tmp = tmp_path_factory.mktemp("penguins")
    shutil.copy(PENGUINS, tmp / "penguins.csv")
    sets = ["--set", "data.missing=median", "--set", "train.epochs=20"]
    ok("train", "penguins.csv", "--target", "species", *sets, "--out", "run", "-q", "--no-plots", cwd=tmp)
    return tmp


def test_text_columns_are_categories_learned_on_the_train_split(penguins):
    model = load_model(penguins / "run")
    kinds = {c.name: c.kind for c in model.schema.inputs}
    assert kinds == {
        "island": "categorical",
        "bill_length_mm": "numeric",
        "bill_depth_mm": "numeric",
        "flipper_length_mm": "numeric",
        "body_mass_g": "numeric",
        "sex": "categorical",
        "year": "numeric",
    }
    island = model.schema.inputs[0]
    assert island.categories == ("Biscoe", "Dream", "Torgersen")  # sorted, as OneHotEncoder sorts them
    assert model.feature_names[:3] == ["island_Biscoe", "island_Dream", "island_Torgersen"]
    assert model.prep.missing == "median" and "NA" in model.prep.na_values


def test_the_run_config_is_complete_and_trains_the_same_model_again(penguins):
    config = yaml.safe_load((penguins / "run/config.yaml").read_text())
    assert config["data"]["dataset"] == "csv" and config["data"]["target"] == "species"
    assert config["name"] == "penguins" and Path(config["data"]["path"]).is_absolute()
    ok("train", "run/config.yaml", "--out", "again", "-q", "--no-plots", cwd=penguins)
    a, b = load_model(penguins / "run"), load_model(penguins / "again")
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_inspect_shows_each_columns_kind_categories_and_the_missing_value_policy(penguins):
    out, _ = ok("inspect", "run", cwd=penguins)
    assert "island (categorical: Biscoe, Dream, Torgersen)" in out and "bill_length_mm" in out
    assert "missing values: median" in out and "'NA'" in out
    d = json.loads(ok("inspect", "run", "--json", cwd=penguins)[0])
    assert d["inputs"][0] == {
        "name": "island",
        "kind": "categorical",
        "categories": ["Biscoe", "Dream", "Torgersen"],
    }
    assert (
        d["inputs"][1] == {"name": "bill_length_mm", "kind": "numeric"} and d["unknown_category"] == "error"
    )


def test_evaluate_and_predict_read_the_table_as_training_did(penguins):
    report = json.loads(ok("evaluate", "run", "--csv", "penguins.csv", "--json", cwd=penguins)[0])
    assert report["n_samples"] == 344 and report["drift"] == []
    out, err = ok("predict", "run", "penguins.csv", cwd=penguins)
    assert len(out.splitlines()) == 345 and "missing value(s) filled" in err


def test_an_unseen_category_names_file_line_column_value_and_the_known_ones(penguins):
    lines = PENGUINS.read_text().splitlines()
    lines[7] = lines[7].replace("Torgersen", "Torgersn")
    (penguins / "new.csv").write_text("\n".join(lines) + "\n")
    message = error(1, "predict", "run", "new.csv", cwd=penguins)
    assert message == (
        "trainer: error: new.csv:8: column 'island': 'Torgersn' is not a category the model learned "
        "(Biscoe, Dream, Torgersen) — did you mean 'Torgersen'? (a model trained with "
        "data.unknown_category: ignore encodes such a value as none of them)"
    )


def test_unknown_category_ignore_is_scikit_learns_all_zero_code(tmp_path):
    rows = [f"{'ab'[i % 2]},{i % 7},{'xy'[i % 2]}" for i in range(60)]
    (tmp_path / "d.csv").write_text("c,n,label\n" + "\n".join(rows) + "\n")
    ok("train", "d.csv", "--target", "label", "--set", "data.unknown_category=ignore", "--set",
       "train.epochs=2", "--out", "run", "-q", "--no-plots", cwd=tmp_path)  # fmt: skip
    (tmp_path / "new.csv").write_text("c,n\nz,3\na,3\n")
    model = load_model(tmp_path / "run")
    Z = model.transform(_table(model, tmp_path / "new.csv"))
    codes = (
        OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        .fit([["a"], ["b"]])
        .transform([["z"], ["a"]])
    )
    assert Z[:, :2].tolist() == codes.tolist() == [[0, 0], [1, 0]]
    assert len(ok("predict", "run", "new.csv", cwd=tmp_path)[0].splitlines()) == 3


def _table(model, path):
    from trainer.data.columns import match
    from trainer.data.csvfile import open_csv
    from trainer.data.csvparse import Want, blocks
    from trainer.predict import _block_table

    f = open_csv(path)
    cols = match(f, model)
    kinds = [c.kind for c in model.schema.inputs]
    numeric = tuple(j for j, k in zip(cols.inputs, kinds, strict=True) if k == "numeric")
    text = tuple(j for j, k in zip(cols.inputs, kinds, strict=True) if k != "numeric")
    (block,) = blocks(f, Want(numeric, text, marked=frozenset(text)))
    return _block_table(block, model.schema, len(text))


def test_categorical_and_drop_name_columns_with_did_you_mean(tmp_path):
    shutil.copy(PENGUINS, tmp_path / "p.csv")
    base = ["train", "p.csv", "--target", "species", "--set", "data.missing=drop", "--set", "train.epochs=2",
            "--out", "run", "-q", "--no-plots"]  # fmt: skip
    ok(*base, "--set", "data.categorical=[year]", "--set", "data.drop=[sex]", cwd=tmp_path)
    model = load_model(tmp_path / "run")
    assert "sex" not in model.schema.names and model.feature_names[-3:] == [
        "year_2007",
        "year_2008",
        "year_2009",
    ]
    assert error(2, *base, "--overwrite", "--set", "data.drop=[yaer]", cwd=tmp_path).endswith(
        "p.csv; columns: species, island, bill_length_mm, "
        "bill_depth_mm, flipper_length_mm, body_mass_g, sex, year — did you mean 'year'?"
    )
    assert error(2, *base, "--overwrite", "--set", "data.drop=[species]", cwd=tmp_path).endswith(
        "data.drop: 'species' is the target column; it cannot be left out"
    )


def test_an_id_column_is_refused_in_one_line_naming_its_count(tmp_path):
    rows = [f"id-{i:05d},{i % 13 * 0.5},{'ab'[i % 2]}" for i in range(10_000)]
    (tmp_path / "d.csv").write_text("id,x,label\n" + "\n".join(rows) + "\n")
    message = error(1, "train", "d.csv", "--target", "label", "--out", "run", cwd=tmp_path)
    assert message.endswith(
        "d.csv: column 'id' has 10000 distinct values, too many to be categories "
        "(data.max_categories is 100); if it is an id or free text, leave it out with data.drop: [id], "
        "else raise data.max_categories"
    )
    assert not (tmp_path / "run" / "model.npz").exists()


def test_a_column_that_turns_to_text_late_is_refused_naming_it(tmp_path):
    rows = [f"{i % 17},{'ab'[i % 2]}" for i in range(5000)] + ["n/k,a"] + [f"{i % 5},b" for i in range(10)]
    (tmp_path / "d.csv").write_text("x,label\n" + "\n".join(rows) + "\n")
    message = error(1, "train", "d.csv", "--target", "label", "--out", "run", cwd=tmp_path)
    assert "d.csv:5002: column 'x': not a number: 'n/k' (a column of numbers" in message
    assert "name it in data.categorical to read all of it as categories" in message


@pytest.mark.parametrize("sep, text", [(",", "a,b,c"), (";", "a;b;c"), ("\t", "a\tb\tc"), ("  ", "a  b   c")])
def test_delimiters_are_detected_and_quoted_names_unquoted(tmp_path, sep, text):
    header = sep.join(["'size'", '"weight"', "kind"]) if sep != "  " else "'size'  \"weight\"   kind"
    rows = [sep.join([str(i % 5), str(i % 3 * 1.5), "xy"[i % 2]]) for i in range(40)]
    (tmp_path / "d.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    ok("train", "d.csv", "--target", "kind", "--set", "train.epochs=2", "--out", "run", "-q", "--no-plots",
       cwd=tmp_path)  # fmt: skip
    assert load_model(tmp_path / "run").schema.names == ["size", "weight"]


def test_booleans_markers_bom_crlf_and_a_trailing_delimiter(tmp_path):
    rows = [f"{i % 5},{['True', 'false', 'NA', '?'][i % 4]},{'xy'[i % 2]}," for i in range(40)]
    text = "\ufeffa,flag,kind,\r\n" + "\r\n".join(rows) + "\r\n"
    (tmp_path / "d.csv").write_text(text, newline="")
    ok("train", "d.csv", "--target", "kind", "--set", "data.missing=mean", "--set", "train.epochs=2",
       "--out", "run", "-q", "--no-plots", cwd=tmp_path)  # fmt: skip
    model = load_model(tmp_path / "run")
    assert model.schema.names == ["a", "flag"] and [c.kind for c in model.schema.inputs] == ["numeric"] * 2
    assert 0 < model.prep.fill[1] < 1  # true and false are 1 and 0; NA and ? were missing


def test_na_values_replaces_the_markers_and_a_quoted_marker_is_still_one(tmp_path):
    quoted = '"NA"'  # a category spelled as a marker, in quotes
    region = [quoted if i == 1 else "EU" for i in range(40)]
    rows = [f"{i % 5},{'-999' if i % 4 == 0 else i % 3},{region[i]},{'xy'[i % 2]}" for i in range(40)]
    (tmp_path / "d.csv").write_text("a,b,region,kind\n" + "\n".join(rows) + "\n")
    base = [
        "train",
        "d.csv",
        "--target",
        "kind",
        "--set",
        "train.epochs=2",
        "--out",
        "run",
        "-q",
        "--no-plots",
    ]
    message = error(1, *base, cwd=tmp_path)
    assert "d.csv:3: column 'region': missing value ('NA', a missing-value marker" in message
    ok(*base, "--overwrite", "--set", 'data.na_values=["-999"]', "--set", "data.missing=drop", cwd=tmp_path)
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["n_dropped"] == 10  # the -999 rows; "NA" is a category now


def test_skip_rows_and_the_hint_when_a_first_line_of_text_sets_another_width(tmp_path):
    rows = [",".join([str(i % 5), str(i % 7), str(i % 3), "xy"[i % 2]]) for i in range(40)]
    (tmp_path / "d.csv").write_text("40,3,x,y\n".replace("40,3,x,y", "40,3,x") + "\n".join(rows) + "\n")
    message = error(1, "train", "d.csv", "--target", "-1", "--out", "run", cwd=tmp_path)
    assert message.endswith(
        "d.csv:2: expected 3 fields (as on line 1), got 4; line 1 holds text: if it is not part of the "
        "table (a title, counts), skip it with data.skip_rows: 1 (evaluate and predict: --skip-rows 1)"
    )
    ok("train", "d.csv", "--target", "-1", "--set", "data.skip_rows=1", "--set", "train.epochs=2", "--out",
       "run", "-q", "--no-plots", cwd=tmp_path)  # fmt: skip


@pytest.mark.parametrize(
    "cells, says",
    [
        (
            ["0,5", "1,5", "2,5"],
            "'0,5' is a number written with a comma: a decimal comma (0.5) or a thousands separator (05)?",
        ),
        (
            ["45,646", "1,200", "7"],
            "'45,646' is a number written with a comma: a decimal comma (45.646) or a thousands "
            "separator (45646)?",
        ),
        (
            ["$27.99", "$3.50", "$8"],
            "'$27.99' is a number with a sign: numbers are read bare; strip the signs from the column",
        ),
        (["57%", "12%", "100%"], "'57%' is a number with a sign"),
    ],
)
def test_numbers_written_with_a_comma_or_a_sign_are_refused_naming_the_first(tmp_path, cells, says):
    rows = [f"{i % 5};{cells[i % 3]};{'xy'[i % 2]}" for i in range(40)]
    (tmp_path / "d.csv").write_text("a;b;kind\n" + "\n".join(rows) + "\n")
    message = error(1, "train", "d.csv", "--target", "kind", cwd=tmp_path)
    assert f"d.csv:2: column 'b': {says}" in message and "data.categorical" in message


def test_a_header_only_file_is_one_line(tmp_path):
    (tmp_path / "h.csv").write_text("a,b,kind\n")
    assert error(1, "train", "h.csv", "--target", "kind", cwd=tmp_path).endswith(
        "h.csv: no data rows, only a header"
    )


def test_duplicate_names_after_unquoting_and_a_column_without_values_in_training(tmp_path):
    (tmp_path / "d.csv").write_text("'a',a,kind\n1,2,x\n")
    assert error(1, "train", "d.csv", "--target", "kind", cwd=tmp_path).endswith(
        "d.csv:1: duplicate column name 'a'"
    )
    rows = [f"{i % 5},,{'xy'[i % 2]}" for i in range(40)]
    (tmp_path / "e.csv").write_text("a,c,kind\n" + "\n".join(rows) + "\n")
    sets = ["--set", "data.missing=mean", "--set", "data.categorical=[c]"]
    assert error(1, "train", "e.csv", "--target", "kind", *sets, cwd=tmp_path).endswith(
        "e.csv: column 'c' has no value in the train split, so it has no categories to learn; leave it out "
        "with data.drop"
    )


def test_a_config_with_a_path_and_no_dataset_reads_the_csv(tmp_path):
    shutil.copy(ROOT / "data/example.csv", tmp_path / "fruit.csv")
    (tmp_path / "c.yaml").write_text("data: {path: fruit.csv, target: label}\ntrain: {epochs: 2}\n")
    ok("train", "c.yaml", "--out", "run", "-q", "--no-plots", cwd=tmp_path)
    assert yaml.safe_load((tmp_path / "run/config.yaml").read_text())["data"]["dataset"] == "csv"
    (tmp_path / "m.yaml").write_text("data: {dataset: moons, path: fruit.csv}\n")
    assert "data.path: only used with dataset 'csv', but data.dataset is 'moons'" in error(
        2, "train", "m.yaml", cwd=tmp_path
    )
    assert error(2, "train", "fruit.csv", cwd=tmp_path).endswith(
        "train: fruit.csv is read as a CSV file (a config is a .yaml file); give its label column with "
        "--target COL (a header name, or an index: -1 for the last)"
    )


def test_the_drift_guard_catches_a_reordered_headerless_file_and_not_honest_rows(tmp_path):
    fruit = (ROOT / "data/example.csv").read_text().splitlines()
    (tmp_path / "f.csv").write_text("\n".join(fruit[1:]) + "\n")  # without its header: columns by position
    ok("train", "f.csv", "--target", "-1", "--set", "train.epochs=5", "--out", "run", "-q", "--no-plots",
       cwd=tmp_path)  # fmt: skip
    rows = [line.split(",") for line in fruit[1:]]
    (tmp_path / "moved.csv").write_text(
        "\n".join(",".join([r[2], r[0], r[3], r[1], r[4]]) for r in rows) + "\n"
    )
    _, out, err = run("evaluate", "run", "--csv", "moved.csv", cwd=tmp_path)
    assert (
        "trainer: warning: moved.csv: 4 feature(s) far from their training distribution over 300 rows" in err
    )
    honest = json.loads(ok("evaluate", "run", "--csv", "f.csv", "--json", cwd=tmp_path)[0])
    assert "'x0' mean" in err and honest["drift"] == []
    (tmp_path / "few.csv").write_text("\n".join(fruit[1:4]) + "\n")  # a few rows of honest data
    assert "warning" not in ok("predict", "run", "few.csv", cwd=tmp_path)[1]
    assert error(5, "predict", "run", "moved.csv", "--strict", "-o", "p.csv", cwd=tmp_path).endswith(
        "(--strict)"
    )
    assert not (tmp_path / "p.csv").exists()
    code, out, _ = run("predict", "run", "moved.csv", "--strict", cwd=tmp_path)
    assert code == 5 and out == ""  # the rows are held back, not half written


def test_the_estimator_takes_a_dataframe_of_any_dtypes_and_saves_what_the_cli_reads(tmp_path):
    import pandas as pd

    from trainer import TwoLayerNetClassifier

    frame = pd.read_csv(PENGUINS, keep_default_na=False, na_values=["NA"])
    X, y = frame.drop(columns="species"), frame["species"]
    X["island"] = X["island"].astype("category")
    X["heavy"] = X["body_mass_g"] > 4000  # booleans: 1 and 0
    est = TwoLayerNetClassifier(missing="median", epochs=5, random_state=0).fit(X, y)
    assert [c.kind for c in est.prep_.schema.inputs] == [
        "categorical",
        "numeric",
        "numeric",
        "numeric",
        "numeric",
        "categorical",
        "numeric",
        "numeric",
    ]
    first = TwoLayerNetClassifier(missing="median", random_state=0).partial_fit(X, y, classes=np.unique(y))
    assert first.prep_.schema.inputs == est.prep_.schema.inputs  # one prologue for fit and partial_fit
    est.save(tmp_path / "m.npz")
    X.assign(heavy=X["heavy"].map({True: "true", False: "false"})).to_csv(tmp_path / "x.csv", index=False)
    out, _ = ok("predict", "m.npz", "x.csv", cwd=tmp_path)
    assert out.splitlines()[1:] == list(est.predict(X))


def test_a_run_and_a_seed_group_draw_their_pictures_without_reading_the_file_again(tmp_path, monkeypatch):
    import trainer.evaluate

    def reread(model):
        raise AssertionError("the file was read again for the pictures")

    monkeypatch.setattr(trainer.evaluate, "model_splits", reread)
    monkeypatch.setattr("trainer.pictures.plots.model_splits", reread)
    shutil.copy(ROOT / "data/example.csv", tmp_path / "fruit.csv")
    sets = ["--set", "train.epochs=2", "--set", "data.drop=[sugar_pct, acidity_ph]"]  # 2 inputs: a boundary
    ok("train", "fruit.csv", "--target", "label", *sets, "--out", "run", "-q", cwd=tmp_path)
    assert {"curves.png", "confusion.png", "boundary.png"} <= {p.name for p in (tmp_path / "run").iterdir()}
    ok("train", "fruit.csv", "--target", "label", *sets, "--seeds", "2", "--backend", "threading", "--out",
       "group", "-q", cwd=tmp_path)  # fmt: skip
    for seed in (0, 1):
        assert (tmp_path / f"group/seed-{seed}/boundary.png").exists()


def test_a_category_too_rare_to_reach_the_train_split_is_none_of_the_known_ones(tmp_path):
    rng = np.random.default_rng(0)
    colours = rng.choice(["red", "green", "blue"], 300)
    colours[150] = "purple"  # one row: it lands in the test split for some seeds
    rows = [f"{c},{rng.normal():.3f},{'ab'[i % 2]}" for i, c in enumerate(colours)]
    (tmp_path / "rare.csv").write_text("colour,x,label\n" + "\n".join(rows) + "\n")
    seen = []
    for seed in range(6):
        sets = ["--set", f"seed={seed}", "--set", "train.epochs=2"]
        out, _ = ok(
            "train", "rare.csv", "--target", "label", *sets, "--out", f"run{seed}", "--no-plots", cwd=tmp_path
        )
        summary = json.loads((tmp_path / f"run{seed}/summary.json").read_text())
        if "n_unseen" in summary:
            seen.append(seed)
            assert summary["n_unseen"] == {"test": 1} and "unseen    1 value(s) of the test split" in out
            report = json.loads(ok("evaluate", f"run{seed}", "--json", cwd=tmp_path)[0])
            assert report["accuracy"] == summary["test"]["accuracy"]  # the own split, encoded as in training
    assert seen  # the purple row reached a test split at least once


def test_an_index_column_in_any_order_is_left_out_and_an_id_column_warned_about(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.integers(20, 70, 80), "kind": rng.choice(["x", "y"], 80)})
    frame.sample(frac=1, random_state=0).to_csv(tmp_path / "shuffled.csv")  # pandas' index, shuffled
    _, err = ok("train", "shuffled.csv", "--target", "kind", "--set", "train.epochs=2", "--out", "run", "-q",
                "--no-plots", cwd=tmp_path)  # fmt: skip
    assert load_model(tmp_path / "run").schema.names == ["age"]
    assert "has no name and holds a different whole number on every row: an index" in err
    frame.assign(customer=rng.permutation(80) + 1000).to_csv(tmp_path / "ids.csv", index=False)
    _, err = ok("train", "ids.csv", "--target", "kind", "--set", "train.epochs=2", "--out", "run2", "-q",
                "--no-plots", cwd=tmp_path)  # fmt: skip
    assert "column 'customer' holds a different whole number on every row, 1000 to 1079: an id" in err


def test_a_first_row_of_text_repeated_below_is_refused_as_ambiguous(tmp_path):
    rows = ["x,n,e", *(f"{'xb'[i % 2]},{'pn'[i % 3 == 0]},{'ep'[i % 2]}" for i in range(40))]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    assert error(1, "train", "t.csv", "--target", "-1", cwd=tmp_path).endswith(
        "t.csv:1: line 1 holds only text, as a header does, but its 'x' is also a value of column 0 "
        "(counting from 0) further down, as in data: say which it is with data.header: true or false"
    )
    ok("train", "t.csv", "--target", "-1", "--set", "data.header=false", "--set", "train.epochs=2", "--out",
       "run", "-q", "--no-plots", cwd=tmp_path)  # fmt: skip
    assert json.loads((tmp_path / "run/summary.json").read_text())["n_train"] == 33  # every row of the 41


def test_a_header_of_years_a_title_line_and_spaces_read_as_one_column_say_so(tmp_path):
    rows = [f"{'ns'[i % 2]},{i % 7},{i % 5},{'ud'[i % 2]}" for i in range(40)]
    (tmp_path / "years.csv").write_text("region,2019,2020,growth\n" + "\n".join(rows) + "\n")
    assert error(1, "train", "years.csv", "--target", "growth", cwd=tmp_path).endswith(
        "years.csv: no header row, so the target 'growth' must be a column index (0..3, or -1 for the last) "
        "(line 1 holds numbers: '2019'; if it names the columns, set data.header: true)"
    )
    ok("train", "years.csv", "--target", "growth", "--set", "data.header=true", "--set", "train.epochs=2",
       "--out", "run", "-q", "--no-plots", cwd=tmp_path)  # fmt: skip
    report = json.loads(ok("evaluate", "run", "--csv", "years.csv", "--json", cwd=tmp_path)[0])
    assert report["n_samples"] == 40  # the model's column names say that line 1 is the header
    (tmp_path / "title.csv").write_text("Survey results 2024, exported by tool\na,b,churn\n1,2,x\n")
    assert error(1, "train", "title.csv", "--target", "churn", cwd=tmp_path).endswith(
        "no target column 'churn'; columns: 'Survey results 2024', 'exported by tool' (line 1 has 2 field(s) "
        "and the next line 3: if line 1 is a title, skip it with data.skip_rows: 1; evaluate and predict: "
        "--skip-rows 1)"
    )
    (tmp_path / "aligned.csv").write_text("x  city       y\n1  New York   a\n2  Boston     b\n")
    assert error(1, "train", "aligned.csv", "--target", "y", cwd=tmp_path).endswith(
        "(one column read: if the columns are aligned by spaces, set data.sep: whitespace)"
    )


def test_drift_says_the_training_range_and_strict_says_when_it_cannot_judge(tmp_path):
    fruit = (ROOT / "data/example.csv").read_text().splitlines()
    (tmp_path / "f.csv").write_text("\n".join(fruit) + "\n")
    ok("train", "f.csv", "--target", "label", "--set", "train.epochs=2", "--out", "run", "-q", "--no-plots",
       cwd=tmp_path)  # fmt: skip
    grams = [line.split(",") for line in fruit]
    kilos = [grams[0]] + [[str(float(r[0]) / 1000), *r[1:]] for r in grams[1:]]  # weight_g in kilograms
    (tmp_path / "kg.csv").write_text("\n".join(",".join(r) for r in kilos) + "\n")
    _, out, err = run("evaluate", "run", "--csv", "kg.csv", cwd=tmp_path)
    assert "'weight_g' mean 0.1" in err and "where 98% of the training values lay in [" in err
    assert err.index("warning") < len(err) and out.startswith("accuracy")  # the warning first
    (tmp_path / "few.csv").write_text("\n".join(",".join(r) for r in kilos[:6]) + "\n")
    code, _, err = run("predict", "run", "few.csv", "--strict", cwd=tmp_path)
    assert code == 0 and "few.csv: drift not judged: 5 rows, fewer than the 20 it needs" in err


def test_a_dataframe_model_given_an_array_says_to_pass_a_dataframe():
    import pandas as pd

    from trainer import TwoLayerNetClassifier

    X = pd.DataFrame({"team": ["a", "b"] * 20, "x": np.arange(40.0)})
    est = TwoLayerNetClassifier(epochs=1, random_state=0).fit(X, np.arange(40) % 2)
    with pytest.raises(
        ValueError, match=r"fitted on a DataFrame with categorical columns \(team\); pass a DataFrame"
    ):
        est.predict(X.to_numpy())
