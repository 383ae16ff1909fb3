"""The manual holds together: README.md and docs/*.md link to files and headings that exist, every
page is on the README's map, every command in a bash block is one the `trainer` parser takes (and
the README's train, evaluate and curve commands run), and every Python block compiles."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
from conftest import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
FILES = [ROOT / "README.md", *PAGES]
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
COMMAND = re.compile(r"^(?:trainer|python -m trainer|\.venv/bin/trainer) (.*)$")


def name(path):
    return str(path.relative_to(ROOT))


def prose(text):
    """The text outside fenced code blocks."""
    return FENCE.sub("", text)


def blocks(text, language):
    return [body for lang, body in FENCE.findall(text) if lang == language]


def section(text, heading):
    return text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def slug(heading):
    """GitHub's anchor of a heading: its text lower-cased, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path):
    """Every heading's anchor in a Markdown file; a repeated one gets -1, -2, ... as on GitHub."""
    seen, found = {}, set()
    for m in re.finditer(r"^#{1,6} (.+)$", prose(path.read_text()), re.M):
        base = slug(m[1])
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def links(path):
    """The relative link targets of a Markdown file (web addresses left out)."""
    text = re.sub(r"`[^`\n]*`", "", prose(path.read_text()))  # inline code holds no links
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t for t in targets if not re.match(r"[a-z]+:", t)]


def commands():
    """(file, argv) for each `trainer ...` line of every bash block; continued lines joined."""
    found = []
    for path in FILES:
        for body in blocks(path.read_text(), "bash"):
            for line in body.replace("\\\n", " ").splitlines():
                m = COMMAND.match(line.strip())
                if m:
                    found.append((name(path), shlex.split(m[1], comments=True)))
    return found


def test_every_relative_link_resolves_to_a_file_and_heading():
    broken = []
    for path in FILES:
        for target in links(path):
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                broken.append(f"{name(path)}: {target} (no such file)")
            elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
                broken.append(f"{name(path)}: {target} (no such heading)")
    assert broken == []


def test_the_readme_maps_every_docs_page_and_no_other():
    mapped = {(ROOT / t).resolve() for t in re.findall(r"\]\(([^)#]+)\)", section(README, "The manual"))}
    assert mapped == {p.resolve() for p in PAGES} and len(PAGES) >= 10


def test_each_page_starts_with_its_title_and_a_summary():
    for path in PAGES:
        title, blank, summary = path.read_text().splitlines()[:3]
        assert title.startswith("# ") and blank == "", name(path)
        assert summary.strip() and not summary.startswith(("#", "|", "```", "- ")), name(path)


def test_the_readme_names_its_three_jobs_on_the_first_screen():
    first_screen = "\n".join(README.splitlines()[:50])
    for job in ("**Train**", "**Evaluate and predict**", "**Regression-test loss curves**", "## Quick start"):
        assert job in first_screen


def test_every_trainer_command_in_a_bash_block_is_parsed_by_the_cli():
    from trainer.cli import build_parser
    from trainer.errors import ConfigError

    parser, rejected, found = build_parser(), [], commands()
    for where, argv in found:
        try:
            _, extras = parser.parse_known_args(argv)
        except ConfigError as e:
            extras = [str(e)]
        if extras:
            rejected.append(f"{where}: trainer {shlex.join(argv)}: {extras}")
    assert rejected == [] and len(found) >= 40


def test_every_config_data_file_and_script_a_command_names_exists():
    named = [a for _, argv in commands() for a in argv if re.match(r"(configs|data)/", a)]
    for body in (b for path in FILES for b in blocks(path.read_text(), "bash")):
        named += re.findall(r"^(?:python3? )?(scripts/\S+)", body, re.M)
    missing = [f for f in named if not list(ROOT.glob(f))]  # a glob such as configs/*.yaml matches some
    assert missing == [] and "configs/moons.yaml" in named and "scripts/bench.py" in named


def test_every_module_test_and_script_path_in_the_text_exists():
    paths = {
        p
        for path in FILES
        for p in re.findall(r"`((?:trainer|tests|scripts)/[\w/]+\.(?:py|sh))`", path.read_text())
    }
    assert [p for p in sorted(paths) if not (ROOT / p).exists()] == [] and len(paths) >= 20


FILE_NAMES = {"trainer.lock"}  # a run directory's lock file, not a module


def test_every_dotted_trainer_name_in_the_text_imports():
    names = {n for path in FILES for n in re.findall(r"`(trainer(?:\.\w+)+)", path.read_text())} - FILE_NAMES
    unknown = []
    for dotted in sorted(names):
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
                break
            except ModuleNotFoundError:
                continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        if obj is None:
            unknown.append(dotted)
    assert unknown == [] and len(names) >= 10


def test_every_python_block_compiles():
    for path in FILES:
        for body in blocks(path.read_text(), "python"):
            compile(body, name(path), "exec")


@pytest.fixture
def checkout(tmp_path):
    """A scratch directory with the checkout's configs/ and data/, as the README's commands expect."""
    for sub in ("configs", "data"):
        (tmp_path / sub).symlink_to(ROOT / sub, target_is_directory=True)
    return tmp_path


def readme_commands(heading):
    """The `trainer` lines of a README section's bash blocks, as argument lists."""
    lines = (line.strip() for body in blocks(section(README, heading), "bash") for line in body.splitlines())
    return [shlex.split(m[1], comments=True) for m in map(COMMAND.match, lines) if m]


def test_the_readme_train_and_evaluate_commands_run_in_order(checkout):
    trains = readme_commands("Train")
    assert len(trains) >= 3
    for argv in trains:  # two epochs and no pictures: what is tested is that each command runs
        result = cli(*argv, "--set", "train.epochs=2", "--no-plots", "-q", cwd=checkout)
        assert result.returncode == 0, (argv, result.stderr)
    run = checkout / trains[0][trains[0].index("--out") + 1]
    named = re.findall(r"`(\w+\.(?:yaml|jsonl|npz|json))`", section(README, "Train"))  # its files
    assert len(named) >= 4 and [f for f in named if not (run / f).is_file()] == []
    uses = readme_commands("Evaluate and predict")
    assert {argv[0] for argv in uses} == {"evaluate", "predict", "inspect"}
    for argv in uses:
        result = cli(*argv, cwd=checkout)
        assert result.returncode == 0 and (result.stdout or "-o" in argv), (argv, result.stderr)
    rows = len((ROOT / "data/example.csv").read_text().splitlines())
    assert len((checkout / "preds.csv").read_text().splitlines()) == rows  # a header and a row per row


def test_the_readme_curve_commands_check_the_shipped_golden_and_write_one(checkout):
    """check against a copy of the checkout's golden, then update rewrites it with the same curve."""
    (checkout / "tests/golden").mkdir(parents=True)
    shipped = (ROOT / "tests/golden/moons.json").read_bytes()
    (checkout / "tests/golden/moons.json").write_bytes(shipped)
    lines = readme_commands("Regression-test loss curves")
    exact = [argv for argv in lines if "--seeds" not in argv and "--band" not in argv]
    assert [argv[1] for argv in exact] == ["check", "update"]  # the band lines retrain ten seeds
    for argv in exact:  # (tests/curves/test_band.py checks those)
        result = cli(*argv, cwd=checkout)
        assert result.returncode == 0, (argv, result.stdout, result.stderr)
    assert (checkout / "tests/golden/moons.json").is_file()
