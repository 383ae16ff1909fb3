"""The one config hash and the one config diff (config/diff.py)."""

import hashlib

from trainer.config.diff import config_hash, diff_keys, flatten, show_diff
from trainer.config.load import config_from_dict, config_to_dict


def test_config_hash_is_the_sha256_of_compact_sorted_json():
    text = '{"a":[1,2.5],"b":{"c":"x","d":null}}'
    assert (
        config_hash({"b": {"d": None, "c": "x"}, "a": (1, 2.5)}) == hashlib.sha256(text.encode()).hexdigest()
    )
    cfg = config_from_dict({"train": {"lr": 0.01}})
    assert config_hash(config_to_dict(cfg)) != config_hash(
        config_to_dict(config_from_dict({"train": {"lr": 0.0100001}}))
    )


def test_diff_keys_names_each_changed_dotted_key():
    old, new = {"a": 1, "b": {"c": 2, "d": 3}, "s": {}}, {"a": 1, "b": {"c": 4}, "e": 5, "s": {}}
    assert flatten(old) == {"a": 1, "b.c": 2, "b.d": 3, "s": {}}
    assert diff_keys(old, new) == [("b.c", 2, 4), ("e", "<absent>", 5), ("b.d", 3, "<absent>")]
    assert diff_keys(old, new, fallback={"e": 5}) == [("b.c", 2, 4), ("b.d", 3, "<absent>")]
    assert show_diff(diff_keys({"x": "1", "y": 1}, {"x": 1, "y": 1.5})) == 'x: "1" -> 1; y: 1 -> 1.5'
    assert diff_keys(config_to_dict(config_from_dict({})), config_to_dict(config_from_dict({}))) == []
