"""The two CSV parsers agree: pandas' fast path, kept only when its guards hold, reads every file as
the exact csv-module pass reads it (the same floats, bit for bit, the same texts and lines, or the
same one-line error), whatever the chunk size; and the fast path does read plain files."""

import decimal
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.data import csvchunks, csvparse, kinds
from trainer.data.csvfile import read_csv
from trainer.errors import DataError

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=5), suppress_health_check=list(HealthCheck))


def write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def outcome(path, **kwargs):
    """What read_csv makes of a file: its arrays (NaN as a bit pattern, so NaN == NaN), each column's
    kind, the categories' texts, or its error."""
    try:
        t = read_csv(path, **kwargs)
    except DataError as e:
        return str(e)
    labels = None if t.y is None else [t.schema.classes[c] for c in t.y]
    texts = [t.texts(k).tolist() for k in range(len(t.values))]
    kinds = [c.kind for c in t.schema.inputs]
    return t.X.tobytes(), t.X.shape, labels, t.schema.names, kinds, texts, t.lines.tolist(), t.n_dropped


def small_chunks(monkeypatch, size):
    """Chunks of about `size` bytes, however few rows they hold."""
    monkeypatch.setattr(csvparse, "CHUNK_BYTES", size)
    monkeypatch.setattr(csvparse, "CHUNK_ROWS", 0)


def exact_only(monkeypatch):
    """Make every chunk, and the first rows that decide the columns' kinds, go to the exact reader."""
    monkeypatch.setattr(csvparse, "_fast", lambda f, chunk, want: None)

    def refuse(*args, **kwargs):
        raise ValueError("the csv module decides")

    monkeypatch.setattr(kinds, "_by_pandas", refuse)


def fast_only(monkeypatch):
    """Fail the test if any chunk goes to the exact reader."""

    def refuse(*args, **kwargs):
        raise AssertionError("the exact reader read a chunk the fast path should have read")

    monkeypatch.setattr(csvparse, "exact_blocks", refuse)


# ---------------------------------------------------------------- the floats


def hard_decimals(rng, n):
    """Decimal texts that are hard to round: long mantissas, midpoints between adjacent doubles and
    a digit either side of them, subnormals, the largest doubles."""
    out = []
    for x in rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n):
        up = np.nextafter(x, np.inf)
        mid = (decimal.Decimal(float(x)) + decimal.Decimal(float(up))) / 2  # exactly halfway
        out += [repr(float(x)), f"{mid:.40e}", f"{mid.next_plus():.25e}", f"{x:.25e}"]
    out += ["4.9406564584124654e-324", "2.4703282292062328e-324", "2.4703282292062329e-324", "1e-320"]
    out += ["1.7976931348623157e308", "-1.7976931348623157e308", "0.1", "-0", "+1", ".5", "5."]
    out += ["9007199254740993", "1" + "0" * 400 + "e-400", "0." + "0" * 300 + "1e300"]
    return out


def test_the_fast_path_rounds_every_number_as_float_does(tmp_path, monkeypatch):
    texts = hard_decimals(np.random.default_rng(0), 2000)
    width = 4
    texts += ["0"] * (-len(texts) % width)
    rows = [texts[i : i + width] for i in range(0, len(texts), width)]
    path = write(tmp_path, "".join(",".join(r) + "\n" for r in rows))
    fast_only(monkeypatch)
    X = read_csv(path).X
    expected = np.array([[float(s) for s in r] for r in rows])
    assert X.tobytes() == expected.tobytes()  # bit for bit, -0.0 included


# ---------------------------------------------------------------- fast and exact agree

CELLS = [
    "1.5", " 2.25 ", "-0", "+1", "1e5", ".5", "7.", "1e-320", "1e400", "-1e308", "1_000", "１", "True",
    "false", "tRUE", "nan", "NaN", "-inf", "Infinity", "", " ", "NA", " NA", '"NA"', "?", "-999", "-999.0",
    "abc", '"3.5"', '" 4"', "0x10", "0", "1", "1,5", "n/a",
]  # fmt: skip
TEXTS = [
    "red",
    " red ",
    "blue",
    "",
    "NA",
    '"x,y"',
    "None",
    "?",
    "-999",
    "Red",
]  # a categorical column's cells
LABELS = ["a", "b", " c ", '"d,e"', '"f ""g"""', "", "1", "True", '"h\ni"']


@st.composite
def csv_files(draw):
    width = draw(st.integers(1, 4))
    header = draw(st.booleans())
    n = draw(st.integers(1, 12))
    numbers = draw(st.booleans())  # labels that are numbers too, so that a row can be read as features only
    text = draw(st.integers(-1, width - 1))  # a column of text, for categories (-1: none)
    rows = []
    for _ in range(n):
        cells = [draw(st.sampled_from(TEXTS if j == text else CELLS)) for j in range(width)]
        cells.append(draw(st.sampled_from(CELLS if numbers else LABELS)))
        if draw(st.integers(0, 9)) == 0:  # now and then a ragged row
            cells = cells[:-1] if draw(st.booleans()) else [*cells, "9"]
        rows.append(",".join(cells))
        if draw(st.integers(0, 9)) == 0:
            rows.append(draw(st.sampled_from(["", "   ", ",," * width, "\r"])))
    names = ",".join([*(f"f{j}" for j in range(width)), "label"])
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return end.join([names] * header + rows) + draw(st.sampled_from(["", end]))


@FUZZ
@given(
    text=csv_files(),
    missing=st.sampled_from(["error", "drop", "mean"]),
    size=st.sampled_from([16, 64, 1 << 20]),
    target=st.sampled_from([-1, None]),  # None: every column a feature, as predict reads a file
    markers=st.sampled_from([None, ["NA", "-999"]]),
)
def test_fast_and_exact_read_every_file_alike(tmp_path_factory, text, missing, size, target, markers):
    path = write(tmp_path_factory.mktemp("fuzz"), text)
    options = {} if markers is None else {"na_values": markers}
    with pytest.MonkeyPatch.context() as mp:
        small_chunks(mp, size)
        got = outcome(path, target=target, missing=missing, **options)
        exact_only(mp)
        expected = outcome(path, target=target, missing=missing, **options)
    assert got == expected


def test_quoted_fields_crlf_and_blank_lines_across_tiny_chunks(tmp_path, monkeypatch):
    text = 'a,b,label\r\n1,2,"x,\r\ny"\r\n\r\n3,4,"say ""hi"""\r\n   \r\n5,6,plain\r\n'
    path = write(tmp_path, text)
    whole = outcome(path, target=-1)
    assert sorted(whole[2]) == sorted(["x,\r\ny", 'say "hi"', "plain"]) and whole[6] == [3, 5, 7]
    for size in (1, 7, 19):
        small_chunks(monkeypatch, size)
        assert outcome(path, target=-1) == whole


def test_an_error_in_a_later_chunk_names_its_line(tmp_path, monkeypatch):
    rows = [f'{i},{i / 2},"multi\nline {i}"' for i in range(200)]
    rows[150] = '150,oops,"x"'
    path = write(tmp_path, "a,b,label\n" + "\n".join(rows) + "\n")
    small_chunks(monkeypatch, 256)
    monkeypatch.setattr(kinds, "SNIFF_ROWS", 50)  # the kinds are decided before row 150
    monkeypatch.setattr(kinds, "SNIFF_BYTES", 256)
    with pytest.raises(DataError) as e:
        read_csv(path, target=-1)
    assert str(e.value) == (
        f"{path}:{2 + 2 * 150}: column 'b': not a number: 'oops' (a column of numbers up to here: name it "
        "in data.categorical to read all of it as categories, or add 'oops' to data.na_values if it marks "
        "a missing value)"
    )


@pytest.mark.parametrize(
    "text, line, fields",
    [
        ("a,b,label\n1,2,x\n3,4,y,z\n5,x\n6,7,w\n", 3, 4),  # a long row and a short one: the count adds up
        ("a,b,label\n3,4,y,z\n1,2,x\n5,x\n", 2, 4),  # the long row first, where pandas takes the width from
        ("a,b,label\n5,x\n3,4,y,z\n1,2,x\n", 2, 2),
    ],
)
def test_rows_too_long_and_too_short_in_one_chunk_are_found(tmp_path, monkeypatch, text, line, fields):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as e:
        read_csv(path, target=-1)
    # right after the header, the line that sets the width may be a title: the error says how to skip it
    hint = "; line 1 holds text: if it is not part of the table" if line == 2 else ""
    assert str(e.value).startswith(f"{path}:{line}: expected 3 fields (as on line 1), got {fields}{hint}")


@pytest.mark.parametrize(
    "text, line, fields",
    [
        ("1,2\n3,4,5\n6\n7,8\n", 2, 3),  # the count of delimiters adds up; an empty cell is allowed
        ("3,4,5\n1,2\n6\n7,8\n", 2, 2),  # the first row sets the width: pandas would read 3 columns
        ("1,2\n6\n3,4,5\n7,8\n", 2, 1),
    ],
)
def test_a_long_row_and_a_short_one_do_not_cancel_out(tmp_path, text, line, fields):
    path = write(tmp_path, text)
    with pytest.raises(DataError) as e:
        read_csv(path, missing="mean")
    width = 3 if text.startswith("3,4,5") else 2
    assert str(e.value) == f"{path}:{line}: expected {width} fields (as on line 1), got {fields}"


@pytest.mark.parametrize("size", [8, 1 << 20])
def test_booleans_in_any_case_are_the_numbers_one_and_zero(tmp_path, monkeypatch, size):
    # as pandas writes them (get_dummies' columns); pandas reads only some spellings itself
    path = write(tmp_path, "a,b,label\n1,True,x\n2,false,y\n3,TRUE,x\n4,fAlSe,y\n")
    small_chunks(monkeypatch, size)
    t = read_csv(path, target=-1)
    assert t.X[:, 1].tolist() == [1.0, 0.0, 1.0, 0.0] and [c.kind for c in t.schema.inputs] == ["numeric"] * 2


def test_binary_columns_and_boolean_labels_stay_on_the_fast_path(tmp_path, monkeypatch):
    path = write(tmp_path, "a,b,label\n" + "".join(f"{i % 2},{i},{i % 3 == 0}\n" for i in range(30)))
    fast_only(monkeypatch)
    t = read_csv(path, target=-1)
    assert t.X[:4, 0].tolist() == [0, 1, 0, 1] and set(t.schema.classes) == {"True", "False"}


def test_missing_values_are_nan_only_when_allowed(tmp_path):
    path = write(tmp_path, "a,b,label\n1,,x\nnan,2,y\n3,NaN,x\n4,?,y\n5, NA ,x\n")
    X = read_csv(path, target=-1, missing="mean").X
    assert np.isnan(X).tolist() == [[False, True], [True, False], [False, True], [False, True], [False, True]]
    with pytest.raises(DataError, match=r"d.csv:2: column 'b': missing value \(an empty cell"):
        read_csv(path, target=-1)
    path = write(tmp_path, "a,b,label\n1,,x\ninf,2,y\n")
    with pytest.raises(DataError, match=r"d.csv:3: column 'a': 'inf' is not finite"):
        read_csv(path, target=-1, missing="mean")


def test_a_quote_inside_a_field_is_read_exactly_to_the_end(tmp_path, monkeypatch):
    # a quote that does not open or close a field: the csv module takes it as text, from that chunk on
    path = write(tmp_path, 'a,label\n1,x\n2,ab"c\n3,"d,e"\n')
    small_chunks(monkeypatch, 4)
    t = read_csv(path, target=-1)
    assert [t.schema.classes[c] for c in t.y] == ["x", 'ab"c', "d,e"] and t.X[:, 0].tolist() == [1, 2, 3]


# ---------------------------------------------------------------- the scan


def scan(text, width, size=1 << 20):
    """The Chunks of a text as blocks() cuts and scans them."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "s.csv"
        p.write_bytes(text.encode())
        return [csvchunks.scan(offset, data, ",", width) for offset, data in csvchunks.cut(p, 0, size)]


@pytest.mark.parametrize(
    "text, lines",
    [
        ("1,2\n3,4\n", [1, 2]),
        ("1,2\n\n3,4", [1, 3]),
        ("1,2\r\n\r\n3,4\r\n", [1, 3]),
        ('1,"a\nb"\n3,4\n', [2, 3]),  # a row's line is where it ends, as csv.reader counts
        ('"x,y",2\n', [1]),
        ("1,2\n3\n", None),  # ragged
        ("1,2\n3,4,5\n", None),
        ("1,2\n  \n", None),  # whitespace only: the exact reader decides
        ("1,2\r3,4\n", None),  # a lone carriage return
    ],
)
def test_the_scan_finds_each_rows_line_or_calls_the_chunk_irregular(text, lines):
    parts = scan(text, 2)  # a last line without a newline is a chunk of its own
    first = np.cumsum([1] + [c.newlines for c in parts])  # the first line of each chunk
    found = [None if c.lines is None else c.lines + first[i] for i, c in enumerate(parts)]
    assert (None if any(x is None for x in found) else np.concatenate(found).tolist()) == lines


def test_chunks_end_at_newlines_outside_quotes(tmp_path):
    text = "".join(f'{i},"a\nb,c"\n' for i in range(50))
    parts = scan(text, 2, size=10)
    assert b"".join(c.data for c in parts) == text.encode()
    assert all(c.data.endswith(b'"\n') for c in parts)
    assert sum(len(c.lines) for c in parts) == 50
    assert [c.offset for c in parts] == [sum(len(p.data) for p in parts[:i]) for i in range(len(parts))]
    assert sum(c.newlines for c in parts) == text.count("\n")


@pytest.mark.parametrize("field", ['ab"c', '"a"b', '"open'])
def test_quotes_that_cannot_be_paired_send_the_rest_to_the_exact_reader(field):
    chunk = scan(f"1,x\n2,{field}\n", 2)[-1]
    assert chunk.malformed
