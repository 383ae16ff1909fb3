"""config.convert.build on a config of its own: conversion, nested sections, unknown keys, type errors."""

from dataclasses import dataclass, field

import pytest

from trainer.config.convert import build, dotted_keys
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
    def error(self, key, message):
        return ConfigError(f"<here {key}>: {message}")


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
