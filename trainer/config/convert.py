"""Raw mappings (YAML, --set, dicts) -> typed config dataclasses, each value checked against its annotation.

Annotations understood: int, float, bool, str, dict (of plain JSON-like values), nested dataclasses
(sections), and unions of these with None. A mapping's keys are text, as in JSON: YAML's integer
key `0` becomes the key '0'. Errors go through `where.error(key, message)`, which
says where the dotted key came from (load.py's file:line or --set).
"""

import dataclasses
import math
import types
import typing

from trainer.errors import did_you_mean

TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    bool: "true/false",
    str: "a string",
    dict: "a mapping of plain values (numbers, strings, lists)",
}


def build(cls, raw, where, prefix="", keys=None):
    """Instantiate dataclass `cls` from a mapping, converting and type-checking each field.

    keys: every dotted key of the whole config, for 'did you mean' (default: those of cls).
    """
    keys = dotted_keys(cls) if keys is None else keys
    if not isinstance(raw, dict):
        key = prefix.rstrip(".")
        raise where.error(key, f"{key}: expected a mapping, got {_show(raw)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for name in raw:
        if name not in fields:
            key = f"{prefix}{name}"
            hint = did_you_mean(key, keys) or f" (known keys: {', '.join(fields)})"
            raise where.error(key, f"unknown key '{key}'{hint}")
    values = {}
    for name, value in raw.items():
        key, hint = f"{prefix}{name}", hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = build(hint, {} if value is None else value, where, f"{key}.", keys)
        else:
            values[name] = convert(value, hint, key, where)
    return cls(**values)


def dotted_keys(cls, prefix=""):
    """Every dotted key of dataclass `cls`, sections walked: ["name", ..., "train.lr", ...]."""
    keys = []
    for f in dataclasses.fields(cls):
        t = typing.get_type_hints(cls)[f.name]
        keys += dotted_keys(t, f"{prefix}{f.name}.") if dataclasses.is_dataclass(t) else [f"{prefix}{f.name}"]
    return keys


def convert(value, hint, key, where):
    """Check one scalar against its annotation (int, float, bool, str, dict, unions with None)."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    allowed = typing.get_args(hint) if union else (hint,)
    for t in allowed:
        ok, converted = _as_type(value, t)
        if ok:
            return converted
    names = " or ".join("null" if t is type(None) else TYPE_NAMES[t] for t in allowed)
    raise where.error(key, f"{key}: expected {names}, got {_show(value)}")


def _as_type(value, t):
    """(True, value as t) when value is acceptable for type t, else (False, None)."""
    if t is type(None):
        return value is None, None
    if t is bool or isinstance(value, bool):
        return (t is bool and isinstance(value, bool)), value
    if t is float and isinstance(value, str):
        try:  # PyYAML reads `1e-3` (no dot) as a string: accept numbers written that way
            f = float(value)
            return (f == f and abs(f) != float("inf")), f
        except ValueError:
            return False, None
    if t is float and isinstance(value, (int, float)):
        f = float(value) if abs(value) < 1e308 else float("inf")  # float(10**400) would raise
        return f == f and abs(f) != float("inf"), f
    if t is dict:
        ok = isinstance(value, dict) and _plain(value)
        return ok, _text_keys(value) if ok else None
    return isinstance(value, t), value


def _plain(value, depth=0):
    """JSON-like data (None, bool, int, float, str, lists, str-keyed dicts) nested at most 10 deep.

    YAML can also build sets, dates, bytes and, with anchors, self-containing lists; a
    data.params value must be written out to config.yaml and the model's JSON metadata."""
    if depth > 10:
        return False
    if isinstance(value, dict):
        keys_ok = all(isinstance(k, str) or _is_int(k) for k in value)
        distinct = len({str(k) for k in value}) == len(value)  # not both 1 and '1'
        return keys_ok and distinct and all(_plain(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_plain(v, depth + 1) for v in value)
    return (
        value is None
        or isinstance(value, (bool, int, str))
        or (isinstance(value, float) and math.isfinite(value))
    )


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _text_keys(value):
    """value with every mapping key, at any depth, as text: {0: 2.0} -> {'0': 2.0}."""
    if isinstance(value, dict):
        return {str(k): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_keys(v) for v in value]
    return value


def _show(value):
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"
