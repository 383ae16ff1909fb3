"""Evaluate and predict on CSVs: columns matched by name whatever their order (never by position when
there is a header), renamed columns refused, missing values handled as the model was trained,
streaming equal to one shot, and a model's own splits recreated by name."""

import itertools
import json
import tracemalloc

import numpy as np
import pytest
from conftest import ROOT, numeric_model

import trainer
from trainer import predict as predict_module
from trainer.config.load import load_config
from trainer.errors import DataError, InputError
from trainer.evaluate import evaluate, evaluate_csv
from trainer.model.metrics import classification_report
from trainer.model.network import init_params
from trainer.predict import predict_chunks, predict_csv
from trainer.storage.modelfile import load_model

FEATURES = ["a", "b", "c"]
CLASSES = ["p", "q", "r"]


def small_model(names=FEATURES, target="label", classes=CLASSES, **kwargs):
    rng = np.random.default_rng(1)
    return numeric_model(
        init_params(3, 6, 3, rng, init="normal", std=1.0),
        classes,
        list(names),
        scaler=([1.0, -2.0, 30.0], [0.5, 3.0, 10.0]),
        target=target,
        config={"data": {"dataset": "csv", "target": target, "missing": kwargs.get("missing", "error")}},
        **kwargs,
    )


def rows(n=24):
    """Features on different scales, so that any two swapped columns change the predictions."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((n, 3)) * [0.5, 3.0, 10.0] + [1.0, -2.0, 30.0]
    return X, [CLASSES[i % 3] for i in range(n)]


def write(path, header, X, labels, order):
    """A CSV of the columns named in `order` (features by name, 'label'), under `header`'s names."""
    columns = {**{f: [repr(float(v)) for v in X[:, j]] for j, f in enumerate(FEATURES)}, "label": labels}
    lines = [",".join(header)] if header else []
    lines += [",".join(columns[c][i] for c in order) for i in range(len(labels))]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_order_of_the_columns_gives_the_same_result_and_every_renaming_is_refused(tmp_path):
    model, (X, labels) = small_model(), rows()
    proba = model.predict_proba(X)
    y = np.array([CLASSES.index(s) for s in labels])
    report = classification_report(model.params, model.transform(X), y, CLASSES)
    swapped = small_model().predict_proba(X[:, [1, 0, 2]])
    assert (swapped.argmax(1) != proba.argmax(1)).any()  # a column order that is wrong would show
    for order in itertools.permutations([*FEATURES, "label"]):
        path = write(tmp_path / "d.csv", order, X, labels, order)
        assert evaluate_csv(model, path) == report, order
        assert predict_csv(model, path)[1].tobytes() == proba.tobytes(), order
        for old, new in itertools.product(FEATURES, ("A", "x", "")):
            header = [new.replace("A", old.upper()) if c == old else c for c in order]
            renamed = write(tmp_path / "r.csv", header, X, labels, order)
            for use in (evaluate_csv, predict_csv):
                with pytest.raises(DataError, match=f"missing 1 of the model's 3 feature columns: '{old}'"):
                    use(model, renamed)


def test_a_model_without_names_matches_a_header_only_when_it_names_x0_x1(tmp_path):
    model, (X, labels) = small_model(names=["x0", "x1", "x2"], target=None), rows()
    assert model.positional
    proba = model.predict_proba(X)
    for order in itertools.permutations(range(3)):
        header = [f"x{j}" for j in order] + ["y"]
        path = tmp_path / "d.csv"
        body = [",".join([*(repr(float(X[i, j])) for j in order), labels[i]]) for i in range(len(labels))]
        path.write_text("\n".join([",".join(header), *body]) + "\n")
        assert predict_csv(model, path)[1].tobytes() == proba.tobytes()
    path.write_text("foo,bar,baz\n1,2,3\n")
    with pytest.raises(DataError, match="the model's features have no names"):
        predict_csv(model, path)


def test_without_a_header_columns_go_by_position_and_must_be_exactly_the_features(tmp_path):
    model, (X, labels) = small_model(), rows()
    path = write(tmp_path / "d.csv", None, X, labels, [*FEATURES, "label"])
    notes = []
    report = evaluate_csv(model, path, target=3, notes=notes)
    assert report["accuracy"] == evaluate(model, X, [CLASSES.index(s) for s in labels])["accuracy"]
    assert notes == [
        f"{path} has no header row: its columns are taken by position as the model's features a, b, c"
    ]
    with pytest.raises(DataError, match="it has 4 feature columns; the model expects 3"):
        predict_csv(model, path)  # no --target: the label column would be a fourth feature


def test_the_label_column_is_target_else_the_models_own_and_predict_ignores_it(tmp_path):
    model, (X, labels) = small_model(), rows()
    path = write(
        tmp_path / "d.csv", ["c", "label", "b", "a", "extra"], X, labels, ["c", "label", "b", "a", "c"]
    )
    notes = []
    own = evaluate_csv(model, path, notes=notes)
    assert own == evaluate_csv(model, path, target="label")
    assert notes == [f"{path}: ignoring 1 column(s) the model does not use: extra"]
    notes = []
    pred, _ = predict_csv(model, path, notes=notes)
    assert notes == [
        f"{path}: ignoring 1 column(s) the model does not use: extra"
    ]  # the label is not 'extra'
    assert pred.tolist() == model.predict(X).tolist()


@pytest.mark.parametrize("batch", [64, 4096])
def test_id_columns_are_copied_and_streaming_equals_one_shot(tmp_path, monkeypatch, batch):
    monkeypatch.setattr(predict_module, "BATCH_ROWS", batch)
    model, (X, labels) = small_model(), rows(500)
    path = write(tmp_path / "d.csv", ["label", *FEATURES], X, labels, ["label", *FEATURES])
    whole = list(predict_chunks(model, path, ids=["label"])[1])
    assert len(whole) == 1
    names, parts = predict_chunks(model, path, ids=["label"], size=300)
    parts = list(parts)
    assert names == ["label"] and len(parts) > 10
    assert np.concatenate([p[0][0] for p in parts]).tolist() == labels
    assert np.concatenate([p[2] for p in parts]).tobytes() == whole[0][2].tobytes()


def test_predict_memory_does_not_grow_with_the_file(tmp_path, monkeypatch):
    from trainer.data import csvparse

    monkeypatch.setattr(csvparse, "CHUNK_BYTES", 1 << 16)
    model = small_model()

    def peak(n):
        X, labels = rows(n)
        path = write(tmp_path / f"d{n}.csv", FEATURES, X, labels, FEATURES)
        tracemalloc.start()
        for _ in predict_chunks(model, path)[1]:
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    small, big = peak(20_000), peak(80_000)
    assert big < 1.5 * small  # 4x the rows: about the same peak (a one-shot predict's grows with them)


def test_a_value_the_model_cannot_take_names_its_line_and_column(tmp_path):
    model = small_model()
    path = tmp_path / "d.csv"
    path.write_text("a,b,c\n1,2,3\n\n1e308,2,3\n")  # a's scale 0.5: 2e308 once standardised
    with pytest.raises(
        DataError, match=r"d.csv:4: column 'a': 1e\+308 overflows float64 after standardisation"
    ):
        predict_csv(model, path)
    model.prep.scaler_mean = model.prep.scaler_scale = None
    path.write_text("a,b,c\n1,2,3\n1e308,1e308,1e308\n")
    with pytest.raises(DataError, match=r"d.csv:3: column 'a': 1e\+308 is too large for the network"):
        predict_csv(model, path)
    with pytest.raises(InputError) as e:
        model.predict_proba([[1, 2, 3], [1e308, 1e308, 1e308]])
    assert (e.value.row, e.value.column) == (1, 0)
    path.write_text("a,b,c\n1e-320,-1e-320,3\n-1e308,1e308,3\n")  # finite results: numbers like any other
    expected = model.predict_proba([[1e-320, -1e-320, 3], [-1e308, 1e308, 3]])
    assert np.isfinite(expected).all() and predict_csv(model, path)[1].tobytes() == expected.tobytes()


@pytest.mark.parametrize("policy", ["drop", "mean"])
def test_missing_values_follow_the_models_data_missing(tmp_path, policy):
    stats = np.array([1.5, -2.5, 31.0]) if policy == "mean" else None
    model = small_model(fill=stats, missing=policy)
    model.prep.na_values = ("nan",)
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,label\n1,2,3,p\n,2,3,q\n1,nan,,r\n")
    notes = []
    pred, proba = predict_csv(model, path, notes=notes)
    if policy == "drop":
        assert pred.tolist()[1:] == [-1, -1] and np.isnan(proba[1:]).all()
        assert notes == [f"{path}: 2 row(s) with missing values dropped (the model's data.missing: drop)"]
        assert evaluate_csv(model, path)["n_samples"] == 1
    else:
        filled = [[1, 2, 3], [1.5, 2, 3], [1, -2.5, 31.0]]
        assert proba.tobytes() == model.predict_proba(filled).tobytes()
        assert notes == [f"{path}: 3 missing value(s) filled with the train split's mean"]


# ---------------------------------------------------------------- a model's own splits


def csv_run(tmp_path, text, *overrides):
    (tmp_path / "d.csv").write_text(text)
    (tmp_path / "c.yaml").write_text("data: {dataset: csv, path: d.csv, target: kind}\ntrain: {epochs: 3}\n")
    return trainer.train(load_config(tmp_path / "c.yaml", list(overrides)), tmp_path / "run")


def fruit():
    return (ROOT / "data/example.csv").read_text().replace("label", "kind", 1)


@pytest.mark.parametrize("standardize", ["true", "false"])
def test_the_own_test_split_is_found_by_name_after_the_columns_moved(tmp_path, standardize):
    result = csv_run(tmp_path, fruit(), f"data.standardize={standardize}")
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    lines = [line.split(",") for line in fruit().splitlines()]
    moved = [[r[4], r[2], "0", r[0], r[3], r[1]] for r in lines]
    moved[0][2] = "added"
    (tmp_path / "d.csv").write_text("".join(",".join(r) + "\n" for r in moved))
    report = evaluate(load_model(tmp_path / "run/model.npz"))
    assert report["accuracy"] == summary["test"]["accuracy"] and report["loss"] == summary["test"]["loss"]
    assert result.model.target == "kind" and not result.model.positional


def test_mean_imputation_is_fitted_on_the_train_split_and_recreated(tmp_path):
    text = [line.split(",") for line in fruit().splitlines()]
    text[5][0], text[9][1] = "", "nan"
    text = [",".join(r) for r in text]
    result = csv_run(tmp_path, "\n".join(text) + "\n", "data.missing=mean")
    model = load_model(tmp_path / "run/model.npz")
    assert model.prep.fill is not None and result.summary["n_filled"] == 2
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    report = evaluate(model)
    assert report["accuracy"] == summary["test"]["accuracy"] and report["loss"] == summary["test"]["loss"]


def test_every_unknown_label_is_named_wherever_it_first_appears(tmp_path):
    X, labels = rows(400)
    labels = ["p"] * 150 + ["u"] * 150 + ["q"] * 90 + ["w", "v"] + ["r"] * 8  # unknown ones late in the file
    path = write(tmp_path / "late.csv", ["a", "b", "c", "label"], X, labels, ["a", "b", "c", "label"])
    with pytest.raises(DataError) as e:
        evaluate_csv(small_model(), path)
    assert str(e.value) == f"{path}:152: label(s) 'u', 'w', 'v' are not among the model's classes (p, q, r)"
    many = ["p"] + [f"x{i}" for i in range(7)] + ["q"] * 392
    path = write(tmp_path / "many.csv", ["a", "b", "c", "label"], X, many, ["a", "b", "c", "label"])
    with pytest.raises(
        DataError, match=r":3: label\(s\) 'x0', 'x1', 'x2', 'x3', 'x4', \.\.\. \(7 in all\) are"
    ):
        evaluate_csv(small_model(), path)
    fruit = small_model(classes=["apple", "lemon", "orange"])
    capital = ["apple", "lemon", "orange"] * 133 + ["Apple"]
    path = write(tmp_path / "capital.csv", ["a", "b", "c", "label"], X, capital, ["a", "b", "c", "label"])
    with pytest.raises(DataError) as e:
        evaluate_csv(fruit, path)
    assert str(e.value) == (
        f"{path}:401: label(s) 'Apple' are not among the model's classes (apple, lemon, orange)"
        " — did you mean 'apple'?"
    )
