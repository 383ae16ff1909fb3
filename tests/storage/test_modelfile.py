"""Model files never execute code: each kind of bad file gets its own message; fuzzed bytes load
identically or raise ModelFileError, never anything else and never slowly."""

import io
import json
import os
import pickle
import zipfile
from datetime import timedelta

import numpy as np
import pytest
from conftest import numeric_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer import __version__
from trainer.errors import ModelFileError
from trainer.model.network import init_params
from trainer.storage.modelfile import load_model, model_bytes, model_from_bytes, save_model

FUZZ = settings(max_examples=300, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])


def small_model():
    params = init_params(2, 3, 2, np.random.default_rng(0))
    return numeric_model(
        params,
        ["no", "yes"],
        ["x0", "x1"],
        scaler=([0.5, -1.0], [2.0, 0.25]),
        config={"seed": 0, "model": {"hidden_size": 3}},
        summary={"test": {"accuracy": 0.9}},
    )


VALID = model_bytes(small_model())


def same_model(a, b):
    def arrays(m):
        return {**m.params, "mean": m.prep.scaler_mean, "scale": m.prep.scaler_scale}

    pairs = zip(arrays(a).values(), arrays(b).values(), strict=True)
    same_arrays = all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in pairs)
    fields = ("classes", "feature_names", "config", "summary", "history", "trainer_version")
    return same_arrays and all(getattr(a, f) == getattr(b, f) for f in fields)


def npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def members(data=VALID):
    """The arrays of a valid model file, read with numpy itself (pickle off)."""
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def with_metadata(arrays, **changes):
    """Arrays with the metadata JSON changed (the checksum left as it was); a key `a__b` is field b of a."""
    meta = json.loads(arrays["metadata"].tobytes())
    for key, value in changes.items():
        *path, name = key.split("__")
        node = meta
        for part in path:
            node = node[part]
        node[name] = value
    return {**arrays, "metadata": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}


def message(data):
    with pytest.raises(ModelFileError) as e:
        model_from_bytes(data, "m.npz")
    text = str(e.value)
    assert text.startswith("m.npz: ") and "\n" not in text
    return text


def test_round_trip_is_identical(tmp_path):
    save_model(tmp_path / "m.npz", small_model())
    assert same_model(load_model(tmp_path / "m.npz"), small_model())
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temp file left


class RunsCode:
    """Unpickling this would create the file named by `path`."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_is_refused_without_running_it(tmp_path):
    target = tmp_path / "pwned"
    (tmp_path / "m.npz").write_bytes(pickle.dumps(RunsCode(str(target))))
    with pytest.raises(ModelFileError, match="is a Python pickle, not a trainer model file; refusing"):
        load_model(tmp_path / "m.npz")
    assert not target.exists()


def test_an_object_array_is_refused_without_unpickling(tmp_path):
    target = tmp_path / "pwned"
    arrays = {**members(), "W1": np.array([RunsCode(str(target))], dtype=object)}
    assert "member W1 holds a Python object array; refusing" in message(npz(**arrays))
    assert not target.exists()


def test_a_truncated_file():
    assert "truncated or damaged model file" in message(VALID[: len(VALID) // 2])


def test_random_bytes():
    assert "not a trainer model file (not an .npz archive)" in message(os.urandom(2000))


def test_one_weight_changed():
    arrays = members()
    arrays["W2"] = arrays["W2"].copy()
    arrays["W2"][1, 0] += 1e-12
    assert "checksum mismatch" in message(npz(**arrays))


def test_a_flipped_byte_in_the_weights_is_caught():
    start = VALID.index(members()["W1"].tobytes())
    data = bytearray(VALID)
    data[start + 3] ^= 0x01
    assert "damaged" in message(bytes(data))  # the zip member's CRC-32, before the SHA-256


@pytest.mark.parametrize(
    "change, expected",
    [
        (
            lambda a: {**a, "evil": np.zeros(1)},
            "unexpected member(s) 'evil.npy'; not part of a trainer model file",
        ),
        (lambda a: {k: v for k, v in a.items() if k != "b2"}, "missing member(s) b2"),
        (lambda a: {k: v for k, v in a.items() if k != "metadata"}, "missing member metadata"),
        (
            lambda a: with_metadata(a, format_version=3),
            "model format version 3 is not supported (this trainer reads versions 1, 2)",
        ),
        (lambda a: with_metadata(a, format="other"), "not a trainer model (format is 'other')"),
        (
            lambda a: with_metadata(a, schema__classes="ab"),
            "metadata field 'classes' is missing or not a list",
        ),
        (
            lambda a: with_metadata(a, schema__classes=["a", "a"]),
            "metadata field 'classes' lists a name twice",
        ),
        (
            lambda a: with_metadata(a, schema__classes=[None, "a"]),
            "metadata field 'classes' must list booleans, integers, finite floats or strings",
        ),
        (
            lambda a: with_metadata(a, schema__classes=[["a"], "b"]),
            "metadata field 'classes' must list booleans",
        ),
        (
            lambda a: with_metadata(a, schema__classes=["a", "b", "c"]),
            "metadata lists 3 classes and 2 features; the weights have 2 and 2",
        ),
        (
            lambda a: with_metadata(a, schema__inputs=["x0", "x0"]),
            "'schema.inputs' must list distinct strings",
        ),
        (lambda a: with_metadata(a, schema__inputs=["x0"]), "metadata lists 2 classes and 1 features"),
        (
            lambda a: with_metadata(a, schema__categories={"x1": ["a", "a"]}),
            "'schema.categories' must map input names to lists of distinct strings",
        ),
        (
            lambda a: with_metadata(a, schema__categories={"x1": ["a", "b"]}),
            "metadata lists 2 classes and 3 features; the weights have 2 and 2",
        ),
        (
            lambda a: with_metadata(a, preprocessing__missing="maybe"),
            "'preprocessing' names an unknown policy",
        ),
        (
            lambda a: with_metadata(a, preprocessing__fill_categories=[0]),
            "'preprocessing.fill_categories' does not fit the schema",
        ),
        (
            lambda a: {**a, "feature_low": np.zeros(2)},
            "feature_low and feature_high and feature_mean and feature_std must come together",
        ),
        (
            lambda a: {**a, "metadata": np.frombuffer(b"{not json", dtype=np.uint8)},
            "metadata is not valid JSON",
        ),
        (
            lambda a: {**a, "metadata": np.frombuffer(b'{"x": NaN}', dtype=np.uint8)},
            "metadata is not valid JSON",
        ),
        (lambda a: {**a, "metadata": np.zeros(3, dtype=np.float64)}, "metadata must be at most"),
        (
            lambda a: {**a, "W1": a["W1"].astype(np.int64)},
            "member W1 has dtype int64; expected float32 or float64",
        ),
        (
            lambda a: {**a, "W1": a["W1"].astype(np.complex128)},
            "member W1 has dtype complex128; expected one of",
        ),
        (lambda a: {**a, "W2": np.zeros((4, 2))}, "member W2 has shape (4, 2); expected (3, 2)"),
        (
            lambda a: {**a, "W1": a["W1"].ravel()},
            "W1 and W2 must be non-empty matrices, got shapes (6,) and (3, 2)",
        ),
        (lambda a: {**a, "W1": a["W1"].astype(np.float32)}, "params mix dtypes"),
        (lambda a: {**a, "b1": np.full(3, np.nan)}, "checksum mismatch"),
        (lambda a: {**a, "imputer_statistics": np.zeros(3)}, "member imputer_statistics has shape (3,)"),
        (
            lambda a: with_metadata(a, schema__target=["y"]),
            "metadata field 'target' is missing or not a str or int",
        ),
        (lambda a: with_metadata(a, schema__positional=1), "metadata field 'positional' is missing"),
    ],
)
def test_each_check_says_what_failed(change, expected):
    assert expected in message(npz(**change(members())))


@pytest.mark.parametrize("classes", [[False, True], [-1.0, 2.0], [0, 1], ["no", "yes"]])
def test_every_label_type_the_estimator_saves_loads_back_as_itself(classes):
    model = small_model()
    model.schema.classes = classes
    back = model_from_bytes(model_bytes(model))
    assert back.classes == classes and [type(c) for c in back.classes] == [type(c) for c in classes]


def test_imputer_target_and_positional_names_round_trip():
    model = small_model()
    model.prep.fill, model.schema.target = np.array([0.25, -3.0]), "label"
    back = model_from_bytes(model_bytes(model))
    assert back.prep.fill.tobytes() == model.prep.fill.tobytes()
    assert (back.target, back.positional) == ("label", True)  # x0, x1: made-up names
    model.schema.positional, model.schema.target = False, 2  # a header naming them so
    back = model_from_bytes(model_bytes(model))
    assert (back.target, back.positional, back.prep.fill is not None) == (2, False, True)
    model.prep.fill = np.array([np.nan, 0.0])
    assert "member imputer_statistics contains NaN or inf" in message(model_bytes(model))


def test_categories_fills_policies_and_the_drift_reference_round_trip():
    import pandas as pd

    from trainer.data.fitting import fit
    from trainer.data.table import Schema, Table, frame_inputs
    from trainer.storage.modelfile import SavedModel

    frame = pd.DataFrame({"island": ["a", "b", None, "b"], "x": [1.0, np.nan, 3.0, 4.0]})
    columns, X, codes, values = frame_inputs(frame)
    table = Table(Schema(columns, ["no", "yes"], "label"), X, codes, values)
    prep = fit(table.schema, table, "median", unknown_category="ignore", na_values=("NA", "?"))
    model = SavedModel(init_params(3, 3, 2, np.random.default_rng(0)), prep, {"seed": 1})
    back = model_from_bytes(model_bytes(model))
    assert back.schema == model.schema and back.feature_names == ["island_a", "island_b", "x"]
    assert (back.prep.missing, back.prep.unknown_category, back.prep.na_values) == (
        "median",
        "ignore",
        ("NA", "?"),
    )
    assert back.prep.fill_categories == [1] and back.prep.fill.tolist() == [3.0]
    for k in ("feature_low", "feature_high", "feature_mean", "feature_std", "scaler_mean", "scaler_scale"):
        assert getattr(back.prep, k).tobytes() == getattr(prep, k).tobytes()
    assert back.prep.transform(table).tobytes() == prep.transform(table).tobytes()


def old_file(**meta_changes):
    """The bytes of a model file of format version 1 (numeric features, before schemas)."""
    drift = ("feature_low", "feature_high", "feature_mean", "feature_std")
    arrays = {k: v for k, v in members().items() if k != "metadata" and k not in drift}
    meta = {
        "format": "trainer.model.network",
        "format_version": 1,
        "trainer_version": __version__,
        "classes": ["no", "yes"],
        "feature_names": ["x0", "x1"],
        "config": {"data": {"dataset": "csv", "target": "kind", "missing": "mean", "delimiter": ";"}},
        "metrics": {},
        "sha256": json.loads(members()["metadata"].tobytes())["sha256"],
    }
    from trainer.storage.archive import digest

    meta.update(meta_changes)
    meta["sha256"] = digest(arrays)
    return npz(**arrays, metadata=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))


def test_a_file_of_format_version_1_loads_with_its_numeric_features():
    old = model_from_bytes(old_file())
    assert (old.target, old.positional, old.prep.fill, old.prep.missing) == ("kind", True, None, "mean")
    assert old.feature_names == ["x0", "x1"] and old.prep.feature_mean is None  # no drift reference
    assert old.config["data"]["sep"] == ";" and "delimiter" not in old.config["data"]  # the key's name now
    named = model_from_bytes(
        old_file(feature_names=["width", "height"], target=None, positional_features=False)
    )
    assert not named.positional and named.target is None


def test_non_finite_weights_with_a_matching_checksum():
    model = small_model()
    model.params["b2"][0] = np.inf
    assert "member b2 contains NaN or inf" in message(model_bytes(model))


def test_metadata_over_the_bound_is_refused_before_it_is_read():
    arrays = {**members(), "metadata": np.zeros(32 << 20, dtype=np.uint8)}
    assert "metadata is 33554560 bytes, more than the 16777216 allowed" in message(npz(**arrays))


def test_a_compressed_member_is_refused_before_it_is_expanded():
    # a 40 MB W1 of zeros deflates to ~40 kB: the loader must refuse it without inflating it
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in {**members(), "W1": np.zeros((5000, 1000))}.items():
            zf.writestr(f"{k}.npy", _npy(v), zipfile.ZIP_DEFLATED if k == "W1" else zipfile.ZIP_STORED)
    assert len(buf.getvalue()) < 100_000
    assert "member W1 is compressed; a trainer model file stores its arrays uncompressed" in message(
        buf.getvalue()
    )


def test_a_huge_declared_shape_is_refused_before_allocating():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**9)}
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in members().items():
            with zf.open(f"{k}.npy", "w") as f:
                f.write(header.getvalue() + b"\0" * 64 if k == "W1" else _npy(v))
    assert (
        "member W1 declares shape (1000000000, 1000000000) (8000000000000000000 bytes) but holds 64 bytes"
        in message(buf.getvalue())
    )


def _npy(a):
    f = io.BytesIO()
    np.lib.format.write_array(f, a)
    return f.getvalue()


def test_a_single_npy_file_and_a_missing_file(tmp_path):
    assert "is a single .npy array" in message(_npy(np.zeros(3)))
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(ModelFileError, match="no model.npz in this directory"):
        load_model(tmp_path)


def test_a_directory_of_runs_names_its_newest_run(tmp_path):
    """`trainer evaluate runs/iris` when the runs are runs/iris/<timestamp>/: the newest is named."""
    for i, stamp in enumerate(("20261206-090000", "20261206-100000")):
        (tmp_path / stamp).mkdir()
        save_model(tmp_path / stamp / "model.npz", small_model())
        os.utime(tmp_path / stamp / "model.npz", (1e9 + i, 1e9 + i))
    with pytest.raises(ModelFileError, match=f"the newest run in it: {tmp_path / '20261206-100000'}$"):
        load_model(tmp_path)


def test_another_trainer_version_loads_with_a_warning():
    model = small_model()
    model.trainer_version = "0.0.1"
    with pytest.warns(UserWarning, match=f"saved by trainer 0.0.1, loading with {__version__}"):
        assert same_model(model_from_bytes(model_bytes(model)), model)


def load_or_refuse(data):
    """The fuzz oracle: the identical model, or ModelFileError; anything else fails the test."""
    try:
        loaded = model_from_bytes(data)
    except ModelFileError as e:
        assert "\n" not in str(e)
        return
    assert same_model(loaded, small_model())


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)), min_size=1, max_size=8))
def test_fuzz_flipped_bytes(flips):
    data = bytearray(VALID)
    for i, x in flips:
        data[i] ^= x
    load_or_refuse(bytes(data))


@FUZZ
@given(st.integers(0, len(VALID)), st.binary(max_size=64))
def test_fuzz_truncated_and_extended(length, tail):
    load_or_refuse(VALID[:length] + tail)


def test_the_parent_checksum_round_trips_and_is_absent_without_a_parent():
    from trainer.storage.archive import unpack
    from trainer.storage.modelfile import MEMBERS, checksum

    parent = small_model()
    child = small_model()
    child.parent_sha256 = checksum(parent)
    assert checksum(parent) == unpack(model_bytes(parent), "p", MEMBERS, "model file", 1 << 20)[1]["sha256"]
    assert model_from_bytes(model_bytes(child)).parent_sha256 == checksum(parent)
    _, meta = unpack(model_bytes(parent), "p", MEMBERS, "model file", 1 << 20)
    assert "parent_sha256" not in meta and model_from_bytes(model_bytes(parent)).parent_sha256 is None


def test_a_parent_checksum_that_is_not_text_is_refused():
    from trainer.storage.archive import pack, unpack
    from trainer.storage.modelfile import MEMBERS

    arrays, meta = unpack(model_bytes(small_model()), "m", MEMBERS, "model file", 1 << 20)
    meta["parent_sha256"] = 7
    with pytest.raises(ModelFileError, match="metadata field 'parent_sha256' is missing or not a str"):
        model_from_bytes(pack(arrays, meta), "m.npz")


def test_a_runs_summary_and_an_estimators_history_keep_their_own_keys():
    run = small_model()
    estimator = numeric_model(
        run.params, ["no", "yes"], ["x0", "x1"], history={"n_iter": 3, "loss_curve": [1, 0.5, 0.2]}
    )
    meta = {
        name: json.loads(members(model_bytes(m))["metadata"].tobytes())
        for name, m in (("run", run), ("est", estimator))
    }
    assert "summary" in meta["run"] and "history" not in meta["run"] and "metrics" not in meta["run"]
    assert "history" in meta["est"] and "summary" not in meta["est"]
    assert model_from_bytes(model_bytes(estimator)).history == {"n_iter": 3, "loss_curve": [1, 0.5, 0.2]}
    old = model_from_bytes(old_file(metrics={"n_iter": 2, "best_epoch": 2}))  # format 1: one key for both
    assert (old.history, old.summary) == ({"n_iter": 2, "best_epoch": 2}, {})
