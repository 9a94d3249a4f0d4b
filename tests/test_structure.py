"""The shape of the code: layers, import cycles, packaging (API issue).

* ``catalog/`` is the store and its readers: no module in it imports ``generators`` or ``cli``.
* No import cycles between modules (module-level imports; imports inside functions are the lazy
  loading that keeps ``synthcat --help`` instant and do not form cycles at import time).
* The packages pyproject.toml lists are exactly the packages in the tree, plus the demo data.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tomllib

from tests.conftest import PROJECT_ROOT

PACKAGES = ("catalog", "generators")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    for single in ("cli", "synthcat_demo"):
        found[single] = PROJECT_ROOT / f"{single}.py"
    return found


def _imports(path: Path, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.If) and top_level_only:  # `if TYPE_CHECKING:` blocks import nothing at run time
            continue
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_catalog_never_imports_generators_or_the_cli():
    offenders = []
    for name, path in _modules().items():
        if name.split(".")[0] != "catalog":
            continue
        for target in _imports(path, top_level_only=False):
            if target.split(".")[0] in ("generators", "cli", "synthcat_demo"):
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def test_no_import_cycles():
    modules = _modules()
    graph = {name: {t for t in _imports(path, top_level_only=True) if t in modules and t != name}
             for name, path in modules.items()}
    # importing a submodule first imports its package
    for name in list(graph):
        parent = name.rpartition(".")[0]
        if parent in graph:
            graph[name].add(parent)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    # a package importing its own submodules (catalog/__init__ -> catalog.api -> ... -> catalog) is
    # Python's normal package layout, not a cycle between modules: keep only cycles among non-packages
    packages = {n for n, p in modules.items() if p.name == "__init__.py"}
    real = [c for c in cycles if not any(m in packages for m in c)]
    assert real == [], real


def test_pyproject_lists_every_package():
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {".".join(p.parent.relative_to(PROJECT_ROOT).parts) for package in PACKAGES
               for p in (PROJECT_ROOT / package).rglob("__init__.py")}
    assert listed == on_disk | {"synthcat_demo_data"}
    assert config["package-dir"]["synthcat_demo_data"] == "data"
    assert set(config["py-modules"]) == {"cli", "synthcat_demo"}
