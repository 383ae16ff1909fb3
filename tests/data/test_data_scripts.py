"""The scripts behind the data tables of docs/data.md run and print what they claim: the drift guard's
false-alarm table (one config, one seed), and trainer beside scikit-learn on the penguins."""

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_script(name, args, monkeypatch, capsys):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", [name, *args])
    code = (module.main_ if hasattr(module, "main_") else module.main)()
    return code, capsys.readouterr().out


def test_the_drift_table_finds_honest_rows_quiet_and_rotated_columns(monkeypatch, capsys):
    code, out = run_script(
        "drift_table", ["--seeds", "1", str(ROOT / "configs/wine.yaml")], monkeypatch, capsys
    )
    header, _, row = out.strip().splitlines()
    cells = dict(zip(header.strip("| ").split(" | "), row.strip("| ").split(" | "), strict=True))
    assert code == 0 and cells["config"] == "wine"
    assert [cells[k] for k in ("whole test split", "1 rows", "5 rows", "20 rows", "50 rows")] == ["0.000"] * 5
    assert cells["columns rotated"] == "1.000"


def test_the_mixed_table_comparison_holds_trainer_within_its_tolerance(monkeypatch, capsys):
    code, out = run_script("compare_mixed", [], monkeypatch, capsys)
    seeds = [line for line in out.splitlines() if line[:4] in {f"| {s} " for s in range(5)}]
    means = next(line for line in out.splitlines() if line.startswith("| mean"))
    ours, theirs = (float(cell.split(" ± ")[0]) for cell in means.strip("| ").split(" | ")[1:])
    assert code == 0 and len(seeds) == 5 and ours >= theirs - 0.01 and ours > 0.9
