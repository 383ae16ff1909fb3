"""The README's promises: the two quick-start commands, CI running the test one, the derivation block
that is the code, the layout table that is the tree; and the manual's config reference and install hints."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MANUAL = {p.name: p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))}


def quick_start_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_quick_start_is_two_commands_train_and_test():
    train, test = quick_start_commands()
    assert "pip install" in train and "trainer train configs/moons.yaml" in train
    assert "pip install" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci/run").read_text()
    assert quick_start_commands()[1] in ci.splitlines()


def test_config_reference_matches_the_code():
    spec = importlib.util.spec_from_file_location("config_reference", ROOT / "scripts/config_reference.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    page = MANUAL["configs.md"]
    assert ref.with_table(page) == page, "run: python scripts/config_reference.py --write"


def test_every_config_key_is_commented_in_some_config():
    from trainer.config.load import known_keys

    commented = set()
    for path in (ROOT / "configs").glob("*.yaml"):
        stack = []
        for line in path.read_text().splitlines():
            m = re.match(r"^(\s*)(\w+):.*#", line)
            if m:
                depth = len(m[1]) // 2
                stack[depth:] = [m[2]]
                commented.add(".".join(stack))
            elif re.match(r"^(\s*)(\w+):", line):
                m = re.match(r"^(\s*)(\w+):", line)
                stack[len(m[1]) // 2 :] = [m[2]]
    assert set(known_keys()) - commented == set()


def _derivation_source():
    """forward, softmax_loss and backward of the reference network, as written."""
    import inspect

    from trainer.model import network

    functions = (network.forward, network.softmax_loss, network.backward)
    return "\n\n\n".join(inspect.getsource(f).rstrip() for f in functions)  # as ruff formats the block


def test_the_derivation_block_is_the_reference_code():
    section = README.split("## The idea", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert block.rstrip() == _derivation_source(), (
        "paste network.forward, softmax_loss and backward into the README"
    )


def _layout_rows():
    section = README.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `trainer/")]
    return {
        entry.strip().strip("`"): set(re.findall(r"`([\w.]+\.py)`", modules)) for entry, modules, _ in rows
    }


def test_the_layout_table_is_the_tree():
    package = ROOT / "trainer"
    tree = {}
    for p in package.iterdir():
        if p.is_dir() and (p / "__init__.py").exists():
            tree[f"trainer/{p.name}/"] = {q.name for q in p.glob("*.py") if q.name != "__init__.py"}
        elif p.suffix == ".py":
            tree[f"trainer/{p.name}"] = set()
    assert _layout_rows() == tree


def _extras():
    """pyproject.toml's optional dependencies: extra -> [requirement]."""
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    lists = re.finditer(r"^(\w+) = \[(.*?)\]$", section, re.S | re.M)  # a list ends its line
    return {m[1]: re.findall(r'"([^"]+)"', m[2]) for m in lists}


def test_every_install_hint_works_from_this_checkout():
    from trainer.pictures.plots import PLOT_REQUIREMENT
    from trainer.sweeps.jobs import DASK_REQUIREMENT

    extras = _extras()
    assert extras["plot"] == [PLOT_REQUIREMENT] and extras["dask"] == [DASK_REQUIREMENT]
    # pip install 'trainer[...]' would fetch another project of that name from PyPI
    texts = [README, *MANUAL.values()]
    for text in (*texts, (ROOT / ".ci/run").read_text()):
        assert not re.search(r"pip install[^\n`]*\btrainer\[", text)
    hints = [hint for text in texts for hint in re.findall(r"pip install[^\n`]*", text)]
    from_checkout = [h for h in hints if re.match(r"pip install -e ['\"]?\.", h)]
    of_the_plot_extra = [h for h in hints if h == f"pip install '{PLOT_REQUIREMENT}'"]
    assert len(from_checkout) >= 3 and sorted(from_checkout + of_the_plot_extra) == sorted(hints), hints


def test_the_distribution_name_is_not_the_import_name():
    name = re.search(r'^name = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]
    assert name == "twolayer-trainer"  # "trainer" on PyPI is someone else's project
    assert 'trainer = "trainer.cli:main"' in (ROOT / "pyproject.toml").read_text()  # the command stays
