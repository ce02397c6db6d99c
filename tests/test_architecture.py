"""The house's shape: imports go one way down the layers, with no cycle and no private name
crossing a module boundary, and no package module grows past ~400 lines.

Read from the source with ``ast``, so every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "optimiser"

#: a module may import modules of a lower layer, or of its own subpackage
LAYERS = {
    "version": 0, "errors": 0, "progress": 0, "highs": 0,
    "io": 1, "processes": 1,
    "problem": 2,
    "economics": 3,
    "rules": 4,
    "candidates": 5,
    "solve": 6,
    "plan": 7,
    "analysis": 8,
    "report": 9,
    "api": 10,
    "verify": 10,  # beside the engine: it may import only errors, highs, io and problem (below)
    "research": 11,  # many runs through api: scenario sweeps
    "cli": 12, "__init__": 12, "__main__": 13,
}
VERIFY_MAY_IMPORT = {"errors", "highs", "io", "problem", "verify"}
MAX_LINES = 420


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] == "data":
            continue
        if len(parts) > 1 and parts[-1] == "__init__":
            parts = parts[:-1]  # a subpackage goes by its own name
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """(imported module, imported names) for every import of a package module in ``path``."""
    if path.name == "__init__.py":
        package = [] if name == "__init__" else name.split(".")
    else:
        package = name.split(".")[:-1]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1] if node.level > 1 else package
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.split(".")[0] == "optimiser":
                target = ".".join(node.module.split(".")[1:])
            else:
                continue
            found.append((target, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "optimiser":
                    found.append((".".join(alias.name.split(".")[1:]), []))
    return found


def top(module: str) -> str:
    return module.split(".")[0] if module else "__init__"


def edges():
    known = modules()
    for name, path in known.items():
        for target, names in imports(name, path):
            for imported in names or [""]:
                joined = f"{target}.{imported}" if target else imported
                full = joined if imported and joined in known else target
                yield name, full, imported


def test_every_module_has_a_layer():
    assert {top(m) for m in modules()} <= set(LAYERS), "a new top-level module needs its place in LAYERS"


def test_imports_go_one_way_down_the_layers():
    wrong = []
    for source, target, _ in edges():
        s, t = top(source), top(target)
        if s == t or (s == "__init__" and source == "__init__"):
            continue
        if s == "verify":
            if t not in VERIFY_MAY_IMPORT:
                wrong.append(f"{source} imports {target}: the verifier may import only {sorted(VERIFY_MAY_IMPORT)}")
        elif LAYERS[t] >= LAYERS[s]:
            wrong.append(f"{source} (layer {LAYERS[s]}) imports {target} (layer {LAYERS[t]})")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    graph = nx.DiGraph()
    known = modules()
    for source, target, _ in edges():
        if target in known and target != source and not known[target].name == "__init__.py":
            graph.add_edge(source, target)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_no_private_name_crosses_a_module():
    wrong = [f"{source} imports {imported} from {target}" for source, target, imported in edges()
             if imported.startswith("_") and not imported.startswith("__")]
    assert not wrong, "\n".join(wrong)


def test_tests_use_no_private_names_of_the_package():
    wrong = []
    for path in sorted(Path(__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package_names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("optimiser"):
                for alias in node.names:
                    if alias.name.startswith("_"):
                        wrong.append(f"{path.name}: imports {alias.name} from {node.module}")
                    package_names.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                package_names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("optimiser")}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in package_names):
                wrong.append(f"{path.name}:{node.lineno}: uses {node.value.id}.{node.attr}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_stay_small(name):
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by what each piece computes"


def test_every_subpackage_installs():
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(("optimiser", *p.parent.relative_to(PACKAGE).parts)) for p in PACKAGE.rglob("__init__.py")}
    assert on_disk <= listed, f"add to pyproject.toml [tool.setuptools] packages: {sorted(on_disk - listed)}"
