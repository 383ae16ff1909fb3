"""A group's seeds from the text of `--seeds`: a count from the config's seed, a list, or a range."""

import re

from trainer.errors import ConfigError

MAX_SEEDS = 1000  # seeds in one group: far more than a spread needs, few enough to finish


def parse_seeds(spec, base=0):
    """`--seeds` text -> a list of distinct seeds >= 0, in the order given.

    `N`: the N seeds base, base+1, ..., base+N-1 (base: the config's seed); `0,3,7`: those seeds;
    `0-9`: 0 to 9 inclusive; ranges and seeds mix: `0-4,10`. A one-line ConfigError otherwise.
    """
    text = str(spec).strip()

    def bad(why):
        return ConfigError(
            f"--seeds {spec}: {why}; e.g. --seeds 5 (5 seeds from the config's seed), 0,3,7 or 0-9"
        )

    if not text:
        raise bad("empty")
    if text.startswith("-") or re.search(r"(^|,)\s*-", text):
        raise bad("seeds are integers >= 0")
    if re.fullmatch(r"\d+", text):
        count = int(text)
        if count < 1:
            raise bad("a count of seeds must be at least 1")
        _check_size(spec, count)
        return list(range(base, base + count))
    seeds = []
    for item in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item)
        if not m:
            raise bad(f"'{item.strip()}' is not a seed or a range a-b")
        low, high = int(m[1]), int(m[2] if m[2] is not None else m[1])
        if high < low:
            raise bad(f"the range {low}-{high} runs backwards")
        _check_size(spec, len(seeds) + high - low + 1)
        seeds.extend(range(low, high + 1))
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise bad(f"seed {', '.join(map(str, repeated))} given twice")
    return seeds


def _check_size(spec, n):
    if n > MAX_SEEDS:
        raise ConfigError(f"--seeds {spec}: {n} seeds; at most {MAX_SEEDS} in one group")


def seeds_text(seeds):
    """Seeds as --seeds takes them back: runs of consecutive seeds as ranges, `0-4,7`; one seed
    alone as `k-k` (a lone number is a count)."""
    parts, i = [], 0
    while i < len(seeds):
        j = i
        while j + 1 < len(seeds) and seeds[j + 1] == seeds[j] + 1:
            j += 1
        parts.append(str(seeds[i]) if i == j else f"{seeds[i]}-{seeds[j]}")
        i = j + 1
    return f"{seeds[0]}-{seeds[0]}" if len(seeds) == 1 else ",".join(parts)
