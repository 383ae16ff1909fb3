"""The package's arrows point one way: each subpackage imports only those below it."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "trainer"

# lowest first; a module may import its own layer and those before it, never one after it
LAYERS = [
    {"errors"},
    {"model", "stats"},
    {"training"},
    {"data"},
    {"config"},
    {"storage"},
    {"runs", "evaluate", "predict"},
    {"estimator", "curves"},
    {"sweeps"},
    {"groups"},
    {"pictures"},
    {"testing", "pytest_plugin", "cli", "__init__", "__main__"},
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def unit(module):
    """trainer.model.network -> 'model'; trainer -> '__init__'."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path):
    """Every trainer module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "trainer":
            if node.module == "trainer":  # from trainer import x: the module or name x
                found.update(f"trainer.{a.name}" for a in node.names)
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "trainer")
    return found


def test_every_module_belongs_to_a_layer():
    units = {
        p.stem if p.parent == PACKAGE else p.relative_to(PACKAGE).parts[0] for p in PACKAGE.rglob("*.py")
    }
    assert units - RANK.keys() == set()


def test_imports_point_down_the_layers():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        here = path.stem if path.parent == PACKAGE else path.relative_to(PACKAGE).parts[0]
        for module in imports(path):
            there = unit(module)
            if there != "__version__" and RANK[there] > RANK[here]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert upward == []


def test_the_math_imports_nothing_of_ours_but_itself_and_the_error_types():
    for path in (PACKAGE / "model").rglob("*.py"):
        assert {unit(m) for m in imports(path)} <= {"model", "errors"}, path


def test_the_network_and_the_loop_import_nothing_of_the_data_path():
    for sub in ("model", "training"):
        for path in (PACKAGE / sub).rglob("*.py"):
            assert "data" not in {unit(m) for m in imports(path)}, path
