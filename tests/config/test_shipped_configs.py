"""The shipped configs: each loads, validates and prepares its data; together they explain every key."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from trainer.config.load import known_keys, load_config
from trainer.data.prepare import prepare

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_there_is_a_config_per_built_in_and_the_case_study():
    names = {p.stem for p in CONFIGS}
    assert {
        "moons",
        "circles",
        "blobs",
        "spiral",
        "iris",
        "wine",
        "breast_cancer",
        "digits",
        "spiral_cs231n",
    } <= names
    assert any(load_config(p).data.dataset == "csv" for p in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads_validates_and_prepares_its_data(path):
    cfg = load_config(path)
    assert cfg.name == path.stem
    if cfg.data.path is not None:
        assert Path(cfg.data.path).is_file()  # resolved relative to the config file
    data = prepare(cfg.data, np.random.default_rng(cfg.seed), cfg.model.dtype)
    assert data.n_classes >= 2 and data.train[0].shape[0] > 0


def commented_keys(path):
    """Dotted keys of a YAML file whose line carries a comment, or whose comment continues below it."""
    lines = path.read_text().splitlines()
    found = set()

    def walk(node, prefix):
        if not isinstance(node, yaml.MappingNode):
            return
        for key, value in node.value:
            dotted, row = f"{prefix}{key.value}", key.start_mark.line
            following = lines[row + 1] if row + 1 < len(lines) else ""
            if "#" in lines[row] or following.lstrip().startswith("#"):
                found.add(dotted)
            walk(value, f"{dotted}.")

    walk(yaml.compose(path.read_text()), "")
    return found


def test_every_key_is_explained_in_a_comment_somewhere():
    explained = set().union(*(commented_keys(p) for p in CONFIGS))
    assert set(known_keys()) - explained == set()


def test_the_reference_config_names_and_explains_every_key():
    reference = CONFIGS[[p.name for p in CONFIGS].index("moons.yaml")]
    assert set(known_keys()) <= commented_keys(reference)
