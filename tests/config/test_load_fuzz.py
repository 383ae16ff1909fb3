"""Config fuzzing: whatever YAML text, YAML structure or --set overrides come in, load_config
returns a valid Config (one that writes out and reads back equal) or raises ConfigError."""

import tempfile
from datetime import timedelta
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.config.load import Config, config_from_dict, config_to_dict, dump_config, known_keys, load_config
from trainer.errors import ConfigError
from trainer.storage.files import dumps

FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
KEYS = known_keys()
PARTS = sorted({p for k in KEYS for p in k.split(".")} | {"params", "n_samples", "noise", "centers"})
WORDS = [
    "moons",
    "iris",
    "csv",
    "adam",
    "sgd",
    "cosine",
    "he",
    "float32",
    "val_loss",
    "null",
    "true",
    "~",
    "1e-3",
    ".nan",
    "-.inf",
    "0x10",
    "1_000",
    "2020-01-01",
    "!!binary aGk=",
    "!!set {a}",
    "!!python/object/apply:os.system ['true']",
    "&a [1, *a]",
    "*b",
    "[1, [2, [3]]]",
    "{a: 1}",
    "'",
    '"x',
    "|\n  x",
]


def load_or_refuse(text, overrides=()):
    """The fuzz oracle: a Config that survives the round trips training relies on, or ConfigError."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        try:
            cfg = load_config(path, overrides)
        except ConfigError:
            return None
        assert isinstance(cfg, Config)
        assert config_from_dict(config_to_dict(cfg)) == cfg  # every RULE holds
        dumps(config_to_dict(cfg))  # the model's JSON metadata and the checkpoint's config digest
        (Path(tmp) / "again.yaml").write_text(dump_config(cfg))
        again = load_config(Path(tmp) / "again.yaml")
        again.name = cfg.name
        assert again == cfg
        return cfg


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),
    st.text(max_size=12),
    st.sampled_from(WORDS),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(PARTS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
dotted = st.sampled_from(KEYS) | st.sampled_from(PARTS) | st.text(max_size=15)


SANE = [
    0,
    1,
    2,
    3,
    10,
    -1,
    0.0,
    0.1,
    0.5,
    0.99,
    1.0,
    1e-3,
    None,
    True,
    False,
    "moons",
    "iris",
    "adam",
    "sgd",
    "momentum",
    "cosine",
    "step",
    "he",
    "normal",
    "float32",
    "val_accuracy",
    "train_loss",
    {},
    {"noise": 0.3},
]


def _default(key):
    node = config_to_dict(Config())
    for part in key.split("."):
        node = node[part]
    return node


# per known key: its default and the SANE values of the same type
SANE_FOR = {k: [_default(k)] + [v for v in SANE if type(v) is type(_default(k))] for k in KEYS}


@st.composite
def structured(draw):
    """The default config as a mapping, with a few keys set to sane, wild or unknown values."""
    doc = config_to_dict(Config())
    for key in draw(st.lists(st.sampled_from(KEYS) | dotted, min_size=1, max_size=3)):
        node, parts = doc, key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        sane = st.sampled_from(SANE_FOR.get(key, SANE))
        node[parts[-1]] = draw(st.one_of(sane, sane, values))
    return doc


@st.composite
def yamlish(draw):
    """Lines of `key: value` at random indents, from config words and YAML's odd corners."""
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        indent = "  " * draw(st.integers(0, 3))
        key = draw(st.sampled_from(PARTS) | st.text(max_size=5))
        value = draw(st.sampled_from(WORDS) | st.text(max_size=8) | st.just(""))
        lines.append(f"{indent}{key}: {value}")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n---\n", "\n...\n"]))


@FUZZ
@given(st.text(max_size=200))
def test_fuzz_any_text(text):
    load_or_refuse(text)


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_any_bytes(data):
    load_or_refuse(data)


@FUZZ
@given(yamlish())
def test_fuzz_yaml_lines(text):
    load_or_refuse(text)


@FUZZ
@given(structured())
def test_fuzz_structured_documents(doc):
    load_or_refuse(yaml.safe_dump(doc, allow_unicode=True))


@FUZZ
@given(
    st.lists(
        st.builds("{}={}".format, dotted, st.sampled_from(WORDS) | st.text(max_size=10))
        | st.text(max_size=20),
        max_size=4,
    )
)
def test_fuzz_overrides(overrides):
    load_or_refuse("data: {dataset: moons}\ntrain: {epochs: 3}\n", overrides)


def test_the_fuzzers_also_reach_valid_configs():
    """Not only refusals: a structured document of known keys with sane values loads."""
    doc = {"data": {"dataset": "iris", "params": {}}, "train": {"epochs": 3, "lr": 0.5, "batch_size": None}}
    assert load_or_refuse(yaml.safe_dump(doc)).train.lr == 0.5
    assert load_or_refuse("train: {epochs: 2}\n", ["data.params.noise=0.3", "seed=7"]).seed == 7


def test_corners_the_fuzzers_found_or_might_miss():
    deep = "a: " + "[" * 1000 + "]" * 1000 + "\n"  # PyYAML's composer recurses once per level
    cases = [
        "train: {lr: 1" + "0" * 400 + "}\n",  # an int too large for a float
        "a: &a {x: *a}\n",  # a mapping that contains itself
        "data: {params: {n_samples: &a [*a]}}\n",  # a list that contains itself
        "data: {params: {noise: !!set {a}}}\n",
        "data: {params: {noise: 2020-01-01}}\n",
        'data: {dataset: csv, path: "a\\0b"}\n',
        deep,
        "x: " + "&a [" * 50 + "]" * 50 + "\n",
    ]
    for text in cases:
        assert load_or_refuse(text) is None, text[:40]
    assert load_or_refuse("{}\n", ["train.lr=" + "[" * 1000 + "]" * 1000]) is None
