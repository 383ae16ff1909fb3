"""The pytest plugin as a user's suite sees it: a missing golden fails naming --curves-update; the flag
writes missing goldens, rewrites only failing ones, deletes none and lists what it wrote."""

import json
from pathlib import Path

import pytest
from conftest import png_size

pytest_plugins = ["pytester"]

CONFIG = "data: {dataset: moons, params: {n_samples: 200}, val_size: 0.2}\ntrain: {epochs: 3}\n"
TESTS = """
def test_a(loss_curve):
    loss_curve.check("a.yaml")

def test_b(loss_curve):
    loss_curve.check("b.yaml")

def test_band(loss_curve):
    loss_curve.check("a.yaml", golden="tests/golden/a_band.json", band=True)
"""


@pytest.fixture
def suite(pytester):
    pytester.makefile(".yaml", a=CONFIG, b=CONFIG.replace("epochs: 3", "epochs: 4"))
    pytester.makepyfile(test_curves=TESTS)
    (pytester.path / "tests" / "golden").mkdir(parents=True)
    (pytester.path / "tests" / "golden" / "unrelated.json").write_text("{}")
    return pytester


def goldens(pytester):
    return {p.name: p.read_bytes() for p in (pytester.path / "tests" / "golden").glob("*.json")}


def test_a_missing_golden_fails_and_names_the_flag(suite):
    result = suite.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(["*no golden curve*a.json (*); write it with: pytest --curves-update*"])
    assert set(goldens(suite)) == {"unrelated.json"}


def test_the_flag_writes_missing_rewrites_failing_and_deletes_none(suite):
    first = suite.runpytest_subprocess("-p", "no:cacheprovider", "--curves-update")
    first.assert_outcomes(passed=3)
    first.stdout.fnmatch_lines(["*trainer: golden curves written*", "*a.json (new)", "*b.json (new)"])
    written = goldens(suite)
    assert set(written) == {"a.json", "b.json", "a_band.json", "unrelated.json"}
    assert json.loads(written["a_band.json"])["band"]["seeds"] == [0, 1, 2, 3, 4]
    suite.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    # b's golden moves: only it fails, and only it is rewritten
    b = json.loads(written["b.json"])
    b["metrics"]["train_loss"][1] *= 1.01
    (suite.path / "tests/golden/b.json").write_text(json.dumps(b))
    failing = suite.runpytest_subprocess("-p", "no:cacheprovider")
    failing.assert_outcomes(passed=2, failed=1)
    failing.stdout.fnmatch_lines(
        [
            "*FAILED: *b.yaml departs from*",
            "*  picture: *b.failed.png",
            "*rewrite it with: pytest --curves-update*",
        ]
    )
    # the picture is the failing test's own, under its tmp_path; nothing lands beside the golden
    picture = Path(next(w for w in failing.stdout.str().split() if w.endswith("b.failed.png")))
    assert picture.parent.name.startswith("test_b") and png_size(picture) == (2304, 768)
    assert not (suite.path / "tests/golden/b.failed.png").exists()
    again = suite.runpytest_subprocess("-p", "no:cacheprovider", "--curves-update")
    again.assert_outcomes(passed=3)
    # rewritten, with the picture of the golden it replaced vs now beside it
    again.stdout.fnmatch_lines(["*b.json (rewritten: it failed; picture: *tests/golden/b.failed.png)"])
    assert png_size(suite.path / "tests/golden/b.failed.png") == (2304, 768)
    assert "a.json (" not in again.stdout.str()
    after = goldens(suite)
    assert after["b.json"] == written["b.json"] and after["a.json"] == written["a.json"]
    assert after["unrelated.json"] == b"{}" and set(after) == set(written)


SUBDIR_TESTS = """
def test_default(loss_curve):
    loss_curve.check("configs/a.yaml")

def test_named(loss_curve):
    loss_curve.check("configs/a.yaml", golden="tests/golden/named.json")

def test_typo(loss_curve):
    loss_curve.check("configs/b.yaml")
"""


def test_paths_are_taken_from_the_rootdir_when_pytest_runs_in_a_subdirectory(pytester, monkeypatch):
    """myproj/pytest.ini, myproj/configs/a.yaml, myproj/tests/test_curves.py, pytest run in myproj/tests."""
    pytester.makeini("[pytest]\n")
    (pytester.path / "configs").mkdir()
    (pytester.path / "configs" / "a.yaml").write_text(CONFIG)
    tests = pytester.mkpydir("tests")
    (tests / "test_curves.py").write_text(SUBDIR_TESTS)
    monkeypatch.chdir(tests)
    golden = pytester.path / "tests" / "golden"
    missing = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    missing.assert_outcomes(failed=3)
    base = f"loss_curve takes a relative path from pytest's rootdir, {pytester.path}"
    config = pytester.path / "configs"
    missing.stdout.fnmatch_lines([f"*no golden curve {golden / 'a.json'} ({base}); write it with*"])
    missing.stdout.fnmatch_lines([f"*no golden curve {golden / 'named.json'} ({base}); write it with*"])
    missing.stdout.fnmatch_lines(
        [f"*no config file {config / 'b.yaml'} — did you mean '{config / 'a.yaml'}'? ({base})"]
    )
    written = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--curves-update")
    written.assert_outcomes(passed=2, failed=1)
    assert sorted(p.name for p in golden.iterdir()) == ["a.json", "named.json"]
    assert not (tests / "tests").exists()


def test_a_foreign_suite_runs_untouched(pytester):
    pytester.makepyfile(test_x="def test_x():\n    assert 1\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "golden" not in result.stdout.str() and "warning" not in result.stdout.str().lower()
