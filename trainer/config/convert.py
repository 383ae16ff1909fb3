"""Raw mappings (YAML, --set, dicts) -> typed config dataclasses, each value checked against its annotation.

Annotations understood: int, float, bool, str, dict and list (of plain JSON-like values), nested dataclasses
(sections), and unions of these with None. Every int and float goes through as_number, the one
rule for numbers. A mapping's keys are text, as in JSON: YAML's integer key `0` becomes the key '0'.
Errors go through `where.error(key, message)`, which
says where the dotted key came from (load.py's file:line or --set).
"""

import dataclasses
import difflib
import math
import types
import typing

from trainer.errors import suggestion

TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    bool: "true/false",
    str: "a string",
    dict: "a mapping of plain values (numbers, strings, lists)",
    list: "a list",
}


def build(cls, raw, where, prefix="", keys=None):
    """Instantiate dataclass `cls` from a mapping, converting and type-checking each field.

    keys: every dotted key of the whole config, for 'did you mean' (default: those of cls).
    """
    keys = dotted_keys(cls) if keys is None else keys
    if not isinstance(raw, dict):
        key = prefix.rstrip(".")
        raise where.error(key, f"expected a mapping, got {_show(raw)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for name in raw:
        if name not in fields:
            key = f"{prefix}{name}"
            hint = key_hint(key, keys) or f" (known keys: {', '.join(fields)})"
            raise where.error(key, f"unknown key '{key}'{hint}", named=False)
    values = {}
    for name, value in raw.items():
        key, hint = f"{prefix}{name}", hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = build(hint, {} if value is None else value, where, f"{key}.", keys)
        else:
            values[name] = convert(value, hint, key, where)
    return cls(**values)


def nearest_keys(name, keys):
    """The dotted keys a misspelt or undotted key most likely means: those whose last part it is
    (`lr` -> train.lr, `hidden-size` -> model.hidden_size), else the closest by spelling, of the
    whole key or of its last part."""
    leaf = name.rsplit(".", 1)[-1].replace("-", "_")
    same_leaf = [k for k in keys if k.rsplit(".", 1)[-1] == leaf and k != name]
    if same_leaf:
        return same_leaf
    close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
    if close:
        return close
    leaves = {k.rsplit(".", 1)[-1]: k for k in keys}
    return [leaves[c] for c in difflib.get_close_matches(leaf, list(leaves), n=1, cutoff=0.6)]


def key_hint(name, keys):
    """' — did you mean 'train.lr'?' for nearest_keys(name, keys), else ''."""
    return suggestion(nearest_keys(name, keys))


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
    raise where.error(key, f"expected {names}, got {_show(value)}")


def _as_type(value, t):
    """(True, value as t) when value is acceptable for type t, else (False, None)."""
    if t is type(None):
        return value is None, None
    if t in (int, float):
        converted = as_number(value, t)
        return converted is not None, converted
    if t is bool or isinstance(value, bool):
        return (t is bool and isinstance(value, bool)), value
    if t is dict:
        ok = isinstance(value, dict) and _plain(value)
        return ok, _text_keys(value) if ok else None
    if t is list:
        ok = isinstance(value, list) and _plain(value)
        return ok, list(value) if ok else None
    return isinstance(value, t), value


def as_number(value, t):
    """value as an int or a float (t), or None when it is not one: the one rule for numbers.

    Accepted for both: ints, floats and numeric strings (PyYAML reads `1e3` and `1e-3`, with no
    dot, as strings, so users write numbers that way), finite. An int also takes a float or
    string with an integral value (10.0, "1e3"), and refuses any other (10.5). A bool is not a number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    if isinstance(value, int):
        if t is int:
            return value
        return float(value) if abs(value) < 1e308 else None  # float(10**400) would raise
    try:
        f = float(value)
    except ValueError:
        return None
    if not math.isfinite(f):
        return None
    if t is float:
        return f
    if isinstance(value, str):  # "10" stays exact beyond 2**53, where float() would round it
        try:
            return int(value)
        except ValueError:
            pass
    return int(f) if f.is_integer() else None


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
