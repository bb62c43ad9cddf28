"""The package's layout: no import cycle among its modules, sub-package files that import
nothing, and docs/modules.md naming every module (and none that does not exist)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "autograder"
MODULES_DOC = ROOT / "docs" / "modules.md"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = PACKAGE) -> dict:
    """{dotted name: path} of every module of the package."""
    return {module_name(path, package): path for path in sorted(package.rglob("*.py"))
            if "__pycache__" not in path.parts}


def imports(path: Path, known: dict, package: Path = PACKAGE) -> set:
    """The package's modules that ``path`` imports, at module level or inside a function:
    ``from a.b import c`` names the module ``a.b.c`` when there is one, else ``a.b``."""
    name = module_name(path, package)
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return {module for module in found if module in known and module != name}


def import_graph(package: Path = PACKAGE) -> dict:
    known = modules(package)
    return {name: imports(path, known, package) for name, path in known.items()}


def find_cycle(graph: dict) -> list:
    """One import cycle (its modules, the first repeated at the end), or []."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert not cycle, "an import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_names_a_cycle(tmp_path):
    package = tmp_path / "autograder"
    (package / "one").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "one" / "__init__.py").write_text("")
    (package / "one" / "a.py").write_text("from autograder.one import b\n")
    (package / "one" / "b.py").write_text("def f():\n    from .c import g\n")
    (package / "one" / "c.py").write_text("import autograder.one.a\n")
    assert find_cycle(import_graph(package)) == ["autograder.one.a", "autograder.one.b",
                                                 "autograder.one.c", "autograder.one.a"]


def test_the_boundary_imports_no_exercise():
    graph = import_graph()
    for name in graph:
        if name.startswith("autograder.boundary"):
            assert not {m for m in graph[name] if m.startswith("autograder.exercises")}, name


def test_sub_package_files_import_nothing():
    """A sub-package's ``__init__.py`` is its docstring: importing one module of it (the
    forkserver preloads ``sandbox.harness``) imports nothing else. The registry
    (``exercises``) is the one package file with a job."""
    for name, path in modules().items():
        if path.name == "__init__.py" and name not in ("autograder", "autograder.exercises"):
            body = ast.parse(path.read_text(encoding="utf-8")).body
            assert all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                       for node in body), f"{path.relative_to(ROOT)} holds code"


def documented_paths() -> set:
    return set(re.findall(r"`(autograder/[\w/]+\.py)`", MODULES_DOC.read_text(encoding="utf-8")))


def test_modules_md_names_every_module():
    """Every module, and every package file with code, is in docs/modules.md by its path."""
    wanted = set()
    for path in modules().values():
        body = ast.parse(path.read_text(encoding="utf-8")).body
        if path.name != "__init__.py" or any(not isinstance(node, ast.Expr) for node in body):
            wanted.add(path.relative_to(ROOT).as_posix())
    missing = sorted(wanted - documented_paths())
    assert not missing, f"docs/modules.md does not name {', '.join(missing)}"


def test_modules_md_names_no_module_that_does_not_exist():
    stale = sorted(path for path in documented_paths() if not (ROOT / path).is_file())
    assert not stale, f"docs/modules.md names modules that do not exist: {', '.join(stale)}"


def test_the_suites_longest_first_list_names_its_modules():
    """conftest.LONGEST_FIRST orders `make test`'s modules; a renamed module would drop
    out of it silently and run last."""
    from conftest import LONGEST_FIRST
    tests = {path.stem for path in (ROOT / "tests").glob("test_*.py")}
    assert set(LONGEST_FIRST) <= tests, set(LONGEST_FIRST) - tests
    assert len(set(LONGEST_FIRST)) == len(LONGEST_FIRST)
