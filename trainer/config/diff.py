"""Configs compared as plain data (config_to_dict, curvefile.canonical_config): one hash, one key-by-key diff.

Checkpoints, --resume and golden curves all use these, so "the same config" means one thing.
"""

import hashlib
import json


def config_hash(config):
    """SHA-256 of a config as plain data (config_to_dict, curvefile.canonical_config): compact JSON,
    keys sorted, so equal configs hash alike on any machine."""
    return hashlib.sha256(
        json.dumps(config, sort_keys=True, separators=(",", ":")).encode("utf-8")
    ).hexdigest()


def diff_keys(old, new, fallback=None):
    """[(dotted key, old value, new value)] where two nested dicts differ; "<absent>" marks a missing key.

    A key `old` lacks takes its value from `fallback` (a flat dict of dotted keys) when that has it.
    """
    a, b, fallback = flatten(old), flatten(new), fallback or {}
    keys = list(dict.fromkeys([*b, *a]))
    pairs = [(k, a.get(k, fallback.get(k, "<absent>")), b.get(k, "<absent>")) for k in keys]
    return [(k, x, y) for k, x, y in pairs if x != y]


def flatten(tree, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1}."""
    if not isinstance(tree, dict) or not tree:
        return {prefix.rstrip("."): tree}
    out = {}
    for k, v in tree.items():
        out.update(flatten(v, f"{prefix}{k}."))
    return out


def show_diff(diff):
    """'key: old -> new; ...' for diff_keys' list, values as JSON (so 1 and "1" look different)."""
    return "; ".join(f"{k}: {_json(a)} -> {_json(b)}" for k, a, b in diff)


def _json(value):
    return value if value == "<absent>" else json.dumps(value)
