"""--seeds text -> seeds: a count from the config's seed, a list, a range; bad specs in one line."""

import pytest

from trainer.config.seed_spec import MAX_SEEDS, parse_seeds, seeds_text
from trainer.errors import ConfigError


@pytest.mark.parametrize(
    "spec, base, seeds",
    [
        ("5", 0, [0, 1, 2, 3, 4]),
        ("3", 7, [7, 8, 9]),
        ("0,3,7", 7, [0, 3, 7]),
        ("0-4", 9, [0, 1, 2, 3, 4]),
        ("0-2, 10", 0, [0, 1, 2, 10]),
        ("4,2", 0, [4, 2]),
    ],
)
def test_specs(spec, base, seeds):
    assert parse_seeds(spec, base) == seeds


@pytest.mark.parametrize(
    "spec, says",
    [
        ("", "empty"),
        ("0", "at least 1"),
        ("-3", "integers >= 0"),
        ("1,-2", "integers >= 0"),
        ("1,1", "seed 1 given twice"),
        ("0-3,2", "seed 2 given twice"),
        ("5-2", "runs backwards"),
        ("a", "'a' is not a seed"),
        ("1.5", "'1.5' is not a seed"),
        ("0-99999999", f"100000000 seeds; at most {MAX_SEEDS}"),
        ("5000", f"at most {MAX_SEEDS}"),
    ],
)
def test_bad_specs(spec, says):
    with pytest.raises(ConfigError, match=f"--seeds {spec}: .*") as e:
        parse_seeds(spec)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_seeds_text_reads_back():
    for seeds in ([0, 1, 2, 3], [0, 3, 7], [5], [0, 1, 2, 9, 10, 4]):
        assert parse_seeds(seeds_text(seeds)) == seeds
    assert seeds_text([0, 1, 2, 9, 10, 4]) == "0-2,9-10,4"
