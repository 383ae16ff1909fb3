"""The column rules in one place: features found by name with the nearest name for each missing one,
the label column from --target or the model's own, id columns that are never features."""

from types import SimpleNamespace

import pytest

from trainer.data.columns import locate, match
from trainer.data.csvfile import open_csv
from trainer.data.schema import is_positional, numeric_schema
from trainer.errors import DataError


def model(names=("a", "b"), target="y", weight=None):
    return SimpleNamespace(
        schema=numeric_schema(names, [0, 1], target),
        positional=is_positional(names),
        target=target,
        config={"data": {"weight": weight}},
    )


def csv(tmp_path, text):
    p = tmp_path / "d.csv"
    p.write_text(text)
    return open_csv(p)


def test_locate_finds_any_order_and_ignores_other_names():
    assert locate(["a", "b"], ["z", "b", "a"], "X") == [2, 1]


def test_locate_names_each_missing_feature_and_its_nearest_unclaimed_name():
    with pytest.raises(DataError) as e:
        locate(["mean_radius", "area", "texture"], ["texture", "Mean_Radius", "AREA_se"], "f.csv")
    assert str(e.value) == (
        "f.csv: missing 2 of the model's 3 feature columns: 'mean_radius' — did you mean 'Mean_Radius'?; "
        "'area' — did you mean 'AREA_se'?"
    )
    with pytest.raises(DataError) as e:  # a name another feature holds is not offered
        locate(["ab", "abc"], ["abc"], "f.csv")
    assert str(e.value) == "f.csv: missing 1 of the model's 2 feature columns: 'ab'"
    with pytest.raises(
        DataError, match=r"missing 30 of the model's 30 feature columns: 'f0', .*'f9' and 20 more$"
    ):
        locate([f"f{j}" for j in range(30)], ["q"], "f.csv")


def test_the_label_column_is_target_else_the_models_own(tmp_path):
    f = csv(tmp_path, "b,y,a,z\n1,0,2,3\n")
    assert match(f, model(), need_label=True).label == 1  # the model's own, by name
    assert match(f, model(), target="z", need_label=True).label == 3
    assert match(f, model()).notes == [f"{f.path}: ignoring 1 column(s) the model does not use: z"]
    with pytest.raises(DataError, match="the label column 'a' is one of the model's features"):
        match(f, model(), target=-2)
    with pytest.raises(
        DataError, match="which column holds the labels\\? the model's label column 'y' is not in"
    ):
        match(csv(tmp_path, "a,b,label\n1,2,3\n"), model(), need_label=True)


def test_without_a_header_the_models_own_label_index_needs_a_model_trained_without_one(tmp_path):
    f = csv(tmp_path, "1,0,2\n")
    positional = model(("x0", "x1"), target=1)
    assert match(f, positional, need_label=True).label == 1 and match(f, positional).inputs == [0, 2]
    assert match(csv(tmp_path, "1,2\n"), positional).label is None  # only the features: no label
    with pytest.raises(DataError, match="the model's label column 'y' cannot be found by name"):
        match(f, model(), need_label=True)


def test_a_header_naming_x0_x1_keeps_the_label_index_of_the_headerless_training_file(tmp_path):
    positional = model(("x0", "x1"), target=2)  # trained on a file without a header: x0, x1, label
    cols = match(csv(tmp_path, "x0,x1,kind\n1,2,0\n"), positional, need_label=True)
    assert (cols.inputs, cols.label) == ([0, 1], 2)
    moved = csv(tmp_path, "kind,x1,x0\n0,2,1\n")  # column 2 is now a feature: no guess
    with pytest.raises(DataError, match="which column holds the labels"):
        match(moved, positional, need_label=True)
    assert match(moved, positional, target="kind").inputs == [2, 1]


def test_without_a_header_the_training_weight_column_is_not_a_feature(tmp_path):
    weighted = model(("x0", "x1"), target=-1, weight=1)  # trained on x0, w, x1, label
    cols = match(csv(tmp_path, "1,9,2,0\n"), weighted, need_label=True)
    assert (cols.inputs, cols.label) == ([0, 2], 3)
    assert match(csv(tmp_path, "1,2\n"), weighted).inputs == [0, 1]  # the features alone
    with pytest.raises(DataError, match="it has 3 feature columns; the model expects 2"):
        match(csv(tmp_path, "1,9,2\n"), weighted)  # not the training layout: which one is the weight?


def test_id_columns(tmp_path):
    f = csv(tmp_path, "key,a,b,y\nk,1,2,0\n")
    cols = match(f, model(), ids=["key", "y"])
    assert cols.ids == [0, 3] and cols.inputs == [1, 2] and cols.notes == []
    with pytest.raises(DataError, match="the id column 'a' is one of the model's features"):
        match(f, model(), ids=["a"])
    with pytest.raises(DataError, match="no id column 'kee'; columns: key, a, b, y — did you mean 'key'\\?"):
        match(f, model(), ids=["kee"])
