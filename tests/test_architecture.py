"""The layout: hpsearch's import graph, read from the source, has no cycle, no import that runs
up a layer, no import of another folder's private name, and the code exported scripts carry
imports only what a script has (docs/architecture.md draws the same layers)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SOURCE = REPO / "search"  # the import name is hpsearch (pyproject.toml maps the folder)

LAYERS = [
    {"errors", "records"},
    {"portable"},
    {"knobs"},
    {"config"},
    {"store", "data"},
    {"engine"},
    {"pick"},
    {"output", "integrations"},
    {"commands"},
    {"api", "cli"},
    {"__main__", "legacy", ""},
]
"""Bottom first. A module may import its own unit (folder or root module) and any unit of a lower
layer; units of one layer are independent of each other. "" is the package's own __init__."""

PORTABLE_MAY_IMPORT = {"keras", "numpy", "tensorflow", "hpsearch.errors"}
"""Besides the standard library: what an exported script has (it defines its own DataError)."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["hpsearch", *parts])


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def imports(path: Path, known: set[str], tree: ast.Module | None = None) -> list[tuple[str, str]]:
    """Every import in the file, at any depth (inside functions and TYPE_CHECKING blocks too),
    as (module, name or ""): ``from a.b import c`` gives (a.b.c, "") when a.b.c is a module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    tree = tree or ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for a in node.names:
                full = f"{base}.{a.name}"
                found.append((full, "") if full in known else (base, a.name))
    return found


def graph() -> dict[str, set[str]]:
    """hpsearch module -> the hpsearch modules it imports."""
    known = set(modules())
    edges: dict[str, set[str]] = {}
    for name, path in modules().items():
        targets = set()
        for module, _ in imports(path, known):
            while module and module not in known:  # hpsearch.x.Name -> hpsearch.x
                module = module.rpartition(".")[0]
            if module.startswith("hpsearch") and module != name:
                targets.add(module)
        edges[name] = targets
    return edges


def unit(module: str) -> str:
    """The folder or root module a module belongs to: hpsearch.store.tags -> store."""
    return module.split(".")[1] if "." in module else ""


def layer(module: str) -> int:
    return next(i for i, units in enumerate(LAYERS) if unit(module) in units)


def test_every_module_has_a_layer_and_a_docstring() -> None:
    for name, path in modules().items():
        assert any(unit(name) in units for units in LAYERS), f"{name}: add its folder to LAYERS"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{name} has no docstring saying what lives there"


def upward(edges: dict[str, set[str]]) -> list[str]:
    """Imports that run up (or across) a layer. The package root is the lazy facade of the
    API (``hpsearch.run`` loads :mod:`hpsearch.api`), so it may name anything."""
    return sorted(
        f"{a} -> {b}"
        for a, targets in edges.items()
        for b in targets
        if unit(a) not in ("", unit(b)) and layer(b) >= layer(a)
    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return found


def test_imports_only_run_down_the_layers() -> None:
    wrong = upward(graph())
    assert not wrong, "imports that run up (or across) a layer:\n" + "\n".join(wrong)


def test_the_import_graph_has_no_cycle() -> None:
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_the_checks_can_fail() -> None:
    """An upward import, a cycle, and an import inside a function are all seen."""
    edges = graph()
    edges["hpsearch.store.budget"].add("hpsearch.engine.runner")
    assert upward(edges) == ["hpsearch.store.budget -> hpsearch.engine.runner"]
    edges["hpsearch.config.validate"].add("hpsearch.config.sections")  # the other way exists
    assert any(
        {"hpsearch.config.sections", "hpsearch.config.validate"} == set(c) for c in cycles(edges)
    )
    known = set(modules())
    nested = "def f() -> None:\n    if True:\n        from hpsearch.output import dashboard\n"
    path = SOURCE / "store" / "budget.py"
    found = imports(path, known, ast.parse(nested))
    assert ("hpsearch.output.dashboard", "") in found


def test_no_folder_imports_another_folders_private_names() -> None:
    known = set(modules())
    private = []
    for name, path in modules().items():
        for module, imported in imports(path, known):
            if not module.startswith("hpsearch") or unit(module) == unit(name):
                continue
            parts = [*module.split("."), imported]
            if any(p.startswith("_") and not p.startswith("__") for p in parts if p):
                private.append(f"{name} imports {module} {imported}".strip())
    assert not private, "\n".join(private)


def test_the_code_exported_scripts_carry_imports_only_what_a_script_has() -> None:
    allowed = sys.stdlib_module_names | {"__future__"}
    known = set(modules())
    for path in sorted((SOURCE / "portable").glob("*.py")):
        for module, _ in imports(path, known):
            top = module.split(".")[0]
            ok = top in allowed or top in PORTABLE_MAY_IMPORT or module in PORTABLE_MAY_IMPORT
            assert ok or module.startswith("hpsearch.portable."), (
                f"{module_name(path)} imports {module}: exported scripts carry its code, and "
                "they have only the standard library, NumPy, Keras and TensorFlow"
            )


def test_carried_code_is_portable_and_the_template_reads_it() -> None:
    from hpsearch import portable
    from hpsearch.output.export import TEMPLATE, template

    assert all(fn.__module__.startswith("hpsearch.portable.") for fn in portable.carried())
    before, after = template()
    assert (SOURCE / "output" / TEMPLATE).is_file()
    assert "THREADS: dict[str, str] = {}  # hpsearch-export: THREADS" in before
    assert after.startswith("\n\nclass DataError(Exception):")


def test_reading_a_store_starts_no_tensorflow() -> None:
    """The listing commands answer quickly: the CLI and the store's readers load no
    TensorFlow (the carried data steps import Keras only inside their functions)."""
    code = (
        "import sys, hpsearch.cli.main, hpsearch.pick.tradeoff, hpsearch.portable.data, "
        "hpsearch.knobs, hpsearch.data.text; print('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_flat_layouts_module_paths_still_import() -> None:
    import hpsearch.engine.runner
    import hpsearch.runner  # type: ignore[import-not-found]
    from hpsearch.legacy import MOVED

    assert hpsearch.runner is hpsearch.engine.runner
    assert set(MOVED.values()) <= set(modules())


def test_every_folder_is_a_package_the_wheel_ships() -> None:
    """A folder missing from pyproject.toml's package list is missing from the wheel (the
    installed hpsearch then fails on its first import of it)."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = set(config["tool"]["setuptools"]["packages"])
    folders = {module_name(p.parent / "__init__.py") for p in SOURCE.rglob("__init__.py")}
    assert folders <= shipped, f"add to [tool.setuptools] packages: {sorted(folders - shipped)}"


def dot() -> str:
    """The graph between folders (and root modules), one rank per layer, as Graphviz DOT:
    ``python -m tests.test_architecture | dot -Tsvg -o docs/import-graph.svg``."""
    counts: dict[tuple[str, str], int] = {}
    for a, targets in graph().items():
        for b in targets:
            if unit(a) != unit(b) and unit(a):
                key = (unit(a), unit(b))
                counts[key] = counts.get(key, 0) + 1
    label = {u: (f"{u}/" if (SOURCE / u).is_dir() else f"{u}.py") for u in set().union(*LAYERS)}
    lines = ["digraph hpsearch {", "  rankdir=TB; node [shape=box, fontname=Helvetica];"]
    for i, units in enumerate(LAYERS[:-1]):
        names = " ".join(f'"{label[u]}"' for u in sorted(units))
        lines.append(f"  {{ rank=same; {names} }}  // layer {i}")
    for (a, b), n in sorted(counts.items()):
        lines.append(f'  "{label[a]}" -> "{label[b]}" [label="{n}", fontsize=9];')
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(dot(), end="")
