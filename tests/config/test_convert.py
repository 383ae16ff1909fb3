"""config.convert.build on a config of its own: conversion, nested sections, unknown keys, type errors."""

import re
from dataclasses import dataclass, field

import pytest

from trainer.config.convert import as_number, build, dotted_keys, nearest_keys
from trainer.errors import ConfigError


@dataclass
class Inner:
    rate: float = 0.1
    size: int | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class Outer:
    name: str = "x"
    on: bool = True
    inner: Inner = field(default_factory=Inner)


class Where:
    def error(self, key, problem, named=True):
        return ConfigError(problem, key if named else None, f"<here {key}>")


def test_values_are_converted_and_sections_filled_with_defaults():
    cfg = build(Outer, {"inner": {"rate": "1e-3", "size": 4, "extra": {"a": [1, None]}}}, Where())
    assert cfg == Outer(inner=Inner(rate=0.001, size=4, extra={"a": [1, None]}))
    assert type(cfg.inner.rate) is float and build(Outer, {"inner": None}, Where()) == Outer()
    assert dotted_keys(Outer) == ["name", "on", "inner.rate", "inner.size", "inner.extra"]


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"inner": {"rat": 1.0}}, "<here inner.rat>: unknown key 'inner.rat' — did you mean 'inner.rate'?"),
        (
            {"inner": {"size": 2.5}},
            "<here inner.size>: inner.size: expected an integer or null, got float 2.5",
        ),
        ({"on": 1}, "<here on>: on: expected true/false, got int 1"),
        ({"inner": {"rate": True}}, "<here inner.rate>: inner.rate: expected a number, got bool True"),
        ({"inner": {"rate": float("nan")}}, "inner.rate: expected a number, got float nan"),
        ({"inner": {"extra": {"a": {1, 2}}}}, "inner.extra: expected a mapping of plain values"),
        ({"inner": [1]}, "<here inner>: inner: expected a mapping, got list [1]"),
    ],
)
def test_each_problem_names_its_dotted_key(raw, message):
    with pytest.raises(ConfigError) as e:
        build(Outer, raw, Where())
    assert message in str(e.value)


@pytest.mark.parametrize(
    "value, as_int, as_float",
    [
        (10, 10, 10.0),
        (10.0, 10, 10.0),
        ("10", 10, 10.0),
        ("1e3", 1000, 1000.0),  # PyYAML 1.1 reads 1e3 (no dot) as a string
        (" 2 ", 2, 2.0),
        ("9007199254740993", 9007199254740993, 9007199254740992.0),  # beyond 2**53: exact as an int
        (10.5, None, 10.5),
        ("1e-3", None, 0.001),
        (True, None, None),  # a bool is not a number
        ("ten", None, None),
        ("nan", None, None),
        (float("inf"), None, None),
        ("1e400", None, None),
        (10**400, 10**400, None),
        (None, None, None),
        ([1], None, None),
    ],
)
def test_one_rule_for_numbers(value, as_int, as_float):
    got_int, got_float = as_number(value, int), as_number(value, float)
    assert (got_int, got_float) == (as_int, as_float)
    assert as_int is None or type(got_int) is int
    assert as_float is None or type(got_float) is float


def test_ints_and_floats_refuse_with_the_same_message():
    for raw, message in (
        ({"inner": {"size": "2.5"}}, "inner.size: expected an integer or null, got str '2.5'"),
        ({"inner": {"rate": "fast"}}, "inner.rate: expected a number, got str 'fast'"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            build(Outer, raw, Where())
    assert build(Outer, {"inner": {"size": "1e1"}}, Where()).inner.size == 10


@pytest.mark.parametrize(
    "name, expected",
    [
        ("lr", ["train.lr"]),
        ("hidden-size", ["model.hidden_size"]),
        ("data.epochs", ["train.epochs"]),  # the right key in the wrong section
        ("train.epohcs", ["train.epochs"]),
        ("hiden_size", ["model.hidden_size"]),
        ("learning_rate", []),
    ],
)
def test_the_nearest_keys_of_a_misspelt_or_undotted_key(name, expected):
    from trainer.config.load import known_keys

    assert nearest_keys(name, known_keys()) == expected
