"""CSV reading: delimiter and header detection, label columns, and every bad CSV as one clear line."""

from pathlib import Path

import numpy as np
import pytest

from trainer.data.csvfile import encode_labels, read_csv
from trainer.data.datasets import DataConfig, load_dataset
from trainer.errors import ConfigError, DataError

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "example.csv"


def write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def read(path, **kwargs):
    """(X, labels as text or None, input names) of read_csv's Table."""
    t = read_csv(path, **kwargs)
    labels = None if t.y is None else [str(t.schema.classes[c]) for c in t.y]
    return t.X, labels, t.schema.names


# ---------------------------------------------------------------- CSV reading

ROWS = [("1.5", "2", "cat"), ("0.5", "-1", "dog"), ("2.5", "3e-1", "cat"), ("4", "0", "emu")]


def csv_text(delimiter=",", header=True, rows=ROWS):
    lines = [delimiter.join(("a", "b", "label"))] if header else []
    return "\n".join([*lines, *(delimiter.join(r) for r in rows)]) + "\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("header", [True, False])
def test_delimiter_and_header_are_detected(tmp_path, delimiter, header):
    X, labels, names = read(write(tmp_path, csv_text(delimiter, header)), target=-1)
    np.testing.assert_array_equal(X, [[1.5, 2], [0.5, -1], [2.5, 0.3], [4, 0]])
    assert labels == ["cat", "dog", "cat", "emu"]
    assert names == (["a", "b"] if header else ["x0", "x1"])


@pytest.mark.parametrize("target", ["label", 2, -1])
def test_target_by_name_index_or_negative_index(tmp_path, target):
    X, labels, names = read(write(tmp_path, csv_text()), target=target)
    assert labels[:2] == ["cat", "dog"] and names == ["a", "b"] and X.shape == (4, 2)


def test_target_in_the_middle_and_features_only(tmp_path):
    X, labels, names = read(write(tmp_path, "a,y,b\n1,0,2\n3,1,4\n", "m.csv"), target=1)
    assert names == ["a", "b"] and labels == ["0", "1"] and X.tolist() == [[1, 2], [3, 4]]
    X, labels, names = read(write(tmp_path, "a,b\n1,2\n3,4\n", "f.csv"))
    assert labels is None and names == ["a", "b"] and X.tolist() == [[1, 2], [3, 4]]


def test_explicit_header_delimiter_and_messy_files(tmp_path):
    # numeric header names read as data unless header=True; a BOM, spaces and blank lines are fine
    p = write(tmp_path, "\ufeff1 ; 2 ; 3\n\n0.5 ; 1 ; x\n\n1.5 ; 2 ; y\n\n")
    X, labels, names = read(p, target=-1, sep="semicolon", header=True)
    assert names == ["1", "2"] and labels == ["x", "y"] and X.tolist() == [[0.5, 1], [1.5, 2]]


def test_string_labels_are_mapped_and_recorded(tmp_path):
    cfg = DataConfig(
        dataset="csv", path=str(write(tmp_path, csv_text(rows=ROWS * 5))), test_size=0, val_size=0
    )
    ds = load_dataset(cfg, np.random.default_rng(0))
    assert ds.schema.classes == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(ds.y[:4], [0, 1, 0, 2])


def test_encode_labels_ints_sort_numerically_strings_sort_as_text():
    y, classes = encode_labels(["10", "9", "-1", "9"])
    assert classes == [-1, 9, 10] and y.tolist() == [2, 1, 0, 1] and y.dtype == np.int64
    assert encode_labels(["b", "a", "10"])[1] == ["10", "a", "b"]
    assert encode_labels(["1.0", "2"])[1] == ["1.0", "2"]  # not every label is an int


def test_example_csv_is_a_realistic_three_class_problem():
    ds = load_dataset(DataConfig(dataset="csv", path=str(EXAMPLE), target="label"), np.random.default_rng(0))
    assert ds.X.shape == (300, 4) and ds.schema.classes == ["apple", "lemon", "orange"]
    assert ds.schema.names == ["weight_g", "diameter_cm", "sugar_pct", "acidity_ph"]
    assert np.bincount(ds.y).tolist() == [100, 100, 100]


BAD_CSV = [
    # (file text or None for a missing file, target, expected message parts)
    (None, -1, ["d.csv: no such file"]),
    ("", -1, ["d.csv: file is empty"]),
    ("  \n\n", -1, ["d.csv: file is empty"]),
    ("a,b,label\n", -1, ["d.csv: no data rows"]),
    (
        "a,b,label\n1,2,x\n3,4,y\n",
        "lable",
        ["d.csv: no target column 'lable'", "columns: a, b, label", "did you mean 'label'?"],
    ),
    ("a,b,label\n1,2,x\n", 3, ["d.csv: target column 3 is out of range", "3 columns"]),
    ("1,2,x\n3,4,y\n", "label", ["d.csv: no header row, so the target 'label' must be a column index"]),
    ("a,b,label\n1,2,x\n3,4\n5,6,y\n", -1, ["d.csv:3: expected 3 fields (as on line 1), got 2"]),
    ("a,b,label\n1,2,x\n3,4,y,z\n", -1, ["d.csv:3: expected 3 fields", "got 4"]),
    (
        "a,b,label\n1,2,x\n3,oops,y\n",  # half numbers, half text: which it is, the user says
        -1,
        [
            "d.csv:3: column 'b': mixes numbers (1 rows) and text (1 rows), text here: 'oops'; name it in "
            "data.categorical",
            "or data.drop to leave it out; if 'oops' marks a missing value, add it to data.na_values",
        ],
    ),
    ("a,b,label\n1,,x\n", -1, ["d.csv:2: column 'b': missing value (an empty cell; data.missing drop"]),
    ("1,2,x\n3,oops,y\n", -1, ["d.csv:2: column 1 (counting from 0): mixes numbers", "text here: 'oops'"]),
    (
        "x0,x1,2\n1,2,0\n",  # a number in the header row: it is read as data, and the message says why
        -1,
        [
            "d.csv:1: column 0 (counting from 0): mixes numbers (1 rows) and text (1 rows), text here: 'x0'",
            "line 1 is read as data because some of its cells are numbers: if it is not part of the "
            "table, skip it with data.skip_rows: 1",
        ],
    ),
    (
        "a,b,label\n1,2,x\n\n3,nan,y\n",
        -1,
        ["d.csv:4: column 'b': missing value ('nan', a missing-value marker"],
    ),
    ("a,b,label\n1,2,x\n-inf,4,y\n", -1, ["d.csv:3: column 'a': '-inf' is not finite"]),
    ("a,b,label\n1,2,x\n3,4,\n", -1, ["d.csv:3: column 'label': empty label"]),
    # a line's first problem is named, left to right: the label before a bad number right of it
    ("label,a,b\n x,1,2\n,oops,4\n", 0, ["d.csv:3: column 'label': empty label"]),
    ("a,label,b\n1,x,2\n3,,4\n", 1, ["d.csv:3: column 'label': empty label"]),
    ("a,label,b\n1,x,2\n,,4\n", 1, ["d.csv:3: column 'a': missing value (an empty cell"]),
    ("a,a,label\n1,2,x\n", -1, ["d.csv:1: duplicate column name 'a'"]),
    ("label\nx\ny\n", -1, ["d.csv: no feature columns besides the target column 'label'"]),
]


@pytest.mark.parametrize("text, target, expected", BAD_CSV)
def test_bad_csv_is_one_clear_line(tmp_path, text, target, expected):
    path = tmp_path / "d.csv" if text is None else write(tmp_path, text)
    with pytest.raises(DataError) as e:
        read(path, target=target)
    message = str(e.value)
    assert "\n" not in message and message.startswith(str(path))
    for part in expected:
        assert part in message


def test_bad_csv_errors_are_deterministic(tmp_path):
    p = write(tmp_path, "a,b,label\n1,x,x\n2,3,y\n")
    messages = set()
    for _ in range(3):
        with pytest.raises(DataError) as e:
            read(p, target=-1)
        messages.add(str(e.value).split(";")[0])
    assert messages == {f"{p}:2: column 'b': mixes numbers (1 rows) and text (1 rows), text here: 'x'"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a,label\n1,x\n2,x\n3,x\n", "only one class ('x'); a classifier needs at least 2 classes"),
        (
            "a,label\n1,x\n2,x\n3,x\n4,y\n",
            "too few rows: class 'y' has 1 row(s); need at least 3 per class for the train/val/test split(s)",
        ),
    ],
)
def test_training_data_needs_two_classes_and_enough_rows(tmp_path, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(DataError) as e:
        load_dataset(DataConfig(dataset="csv", path=str(p), val_size=0.1), np.random.default_rng(0))
    assert str(e.value) == f"{p}: {expected}"


def test_bad_delimiter_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="data.sep: expected one character"):
        read(write(tmp_path, csv_text()), target=-1, sep="::")


# ---------------------------------------------------------------- the weight column


@pytest.mark.parametrize("weight", ["w", 1, -3])
def test_a_weight_column_is_read_and_is_not_a_feature(tmp_path, weight):
    text = "a,w,b,label\n1,2,3,x\n4,0,6,y\n7,0.5,9,x\n"
    t = read_csv(write(tmp_path, text), target="label", weight=weight)
    X, labels, names = read(write(tmp_path, text), target="label", weight=weight)
    assert names == ["a", "b"] and X.tolist() == [[1, 3], [4, 6], [7, 9]] and labels == ["x", "y", "x"]
    assert t.weight.dtype == np.float64 and t.weight.tolist() == [2.0, 0.0, 0.5]


BAD_WEIGHTS = [
    ("a,w,label\n1,2,x\n3,heavy,y\n", "w", "d.csv:3: column 'w': weight is not a number: 'heavy'"),
    ("a,w,label\n1,2,x\n3,,y\n", "w", "d.csv:3: column 'w': weight is not a number: ''"),
    ("a,w,label\n1,2,x\n3,-1,y\n", "w", "d.csv:3: column 'w': weight '-1' is not a number >= 0"),
    ("a,w,label\n1,nan,x\n3,1,y\n", "w", "d.csv:2: column 'w': weight 'nan' is not a number >= 0"),
    ("a,w,label\n1,inf,x\n3,1,y\n", "w", "d.csv:2: column 'w': weight 'inf' is not a number >= 0"),
    ("a,w,label\n1,0,x\n3,0.0,y\n", "w", "d.csv: column 'w': every weight is 0"),
    ("a,w,label\n1,0,x\n", "wt", "d.csv: no weight column 'wt'; columns: a, w, label — did you mean 'w'?"),
    ("a,w,label\n1,0,x\n", 5, "d.csv: weight column 5 is out of range"),
    (
        "w,label\n1,x\n",
        "w",
        "d.csv: no feature columns besides the target column 'label' and the weight column 'w'",
    ),
]


@pytest.mark.parametrize("text, weight, expected", BAD_WEIGHTS)
def test_bad_weight_columns_are_one_clear_line(tmp_path, text, weight, expected):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as e:
        read_csv(path, target="label", weight=weight)
    assert str(e.value).startswith(expected.replace("d.csv", str(path))) and "\n" not in str(e.value)


def test_the_weight_column_cannot_be_the_target(tmp_path):
    with pytest.raises(ConfigError, match="data.weight: the weight column 'label' is the target column"):
        read_csv(write(tmp_path, csv_text()), target=-1, weight="label")
