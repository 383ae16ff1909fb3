"""Commands that only use a saved model start without what they do not need: `trainer inspect`
imports neither scikit-learn (nor the scipy under it) nor pandas, `trainer predict` not
scikit-learn (pandas reads its CSV). What a process imports is the point, so a fresh interpreter
runs them; and scripts/bench_startup.py, which times them, runs."""

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import ROOT, cli, trainer_env

HEAVY = ("sklearn", "scipy", "pandas")

# inspect, then predict, in one fresh interpreter: the heavy packages imported after each
IMPORTED_BY = """\
import contextlib, io, json, sys
from trainer.cli import main

model, csv = sys.argv[1:]
found = {}
for name, args in (("inspect", [model]), ("predict", [model, csv])):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main([name, *args])
    lines = out.getvalue().splitlines()
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
    found[name] = {"code": code, "lines": len(lines), "heavy": heavy}
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(model, csv): a short run on the fruit CSV, and a CSV of its first 20 rows."""
    tmp = tmp_path_factory.mktemp("startup")
    run = cli(
        "train",
        ROOT / "configs/csv_example.yaml",
        "--set",
        "train.epochs=2",
        "--out",
        "run",
        "-q",
        "--no-plots",
        cwd=tmp,
    )
    assert run.returncode == 0, run.stderr
    csv = tmp / "small.csv"
    csv.write_text("".join((ROOT / "data/example.csv").read_text().splitlines(keepends=True)[:21]))
    return tmp / "run" / "model.npz", csv


def test_inspect_imports_neither_sklearn_nor_pandas_and_predict_not_sklearn(tiny):
    model, csv = tiny
    proc = subprocess.run(
        [sys.executable, "-c", IMPORTED_BY % (HEAVY,), str(model), str(csv)],
        env=trainer_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert found["inspect"]["code"] == 0 and found["inspect"]["lines"] > 5
    assert found["inspect"]["heavy"] == []
    assert found["predict"]["code"] == 0 and found["predict"]["lines"] == 21  # a header and 20 rows
    assert found["predict"]["heavy"] == ["pandas"]


def test_the_startup_benchmark_times_inspect_against_its_baselines(tiny, capsys):
    model, csv = tiny
    spec = importlib.util.spec_from_file_location("bench_startup", ROOT / "scripts/bench_startup.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(
        ["--repeat", "1", "--warmup", "0", "--commands", "inspect", "--model", str(model), "--csv", str(csv)]
    )
    lines = capsys.readouterr().out.splitlines()
    table = [line.strip("| ").split(" | ") for line in lines if line.startswith("| ")][2:]  # after the header
    cells = {row[0]: row[1:] for row in table}
    assert list(cells) == ["import numpy", "import numpy, pandas", "trainer inspect MODEL"]
    assert cells["import numpy"][1] == "1.00x" and cells["import numpy, pandas"][2] == "1.00x"
    assert float(cells["trainer inspect MODEL"][0].split()[0]) > 0
    target = [line for line in lines if line.startswith("target: ")]
    assert len(target) == 1 and target[0].startswith(
        "target: trainer inspect MODEL within 3x `import numpy`: "
    )
    assert target[0].endswith((", holds", ", misses"))
