"""The package's shape: its import graph, read with ``ast``, keeps the pipeline's rules.

Every ``import`` of every module counts, at any depth (inside functions and ``if
TYPE_CHECKING:`` blocks too): a lazy import is still a dependency. A package's ``__init__`` is a
module of its own; importing ``symconv.a.b`` depends on ``symconv.a.b`` (and, as Python runs it,
on the ``__init__`` of ``symconv.a``), while the top-level ``symconv/__init__.py``, the public
facade, sits above everything and is left out of the graph.

The rules (README, "How the code is organised"):

=====================  ===================================================================
rule                   why
=====================  ===================================================================
no cycle               every module can be read, and tested, after the modules it imports
layers ↛ derive,       a layer is a description; costs, execution, networks and formats sit
execute, networks,     above it
render
derive ↛ NumPy,        the derivation is pure SymPy and knows no output format
execute, render
execute ↛ derive,      counts must come from running: not even through another module
render (transitively)
render ↛ execute       a renderer formats results it is given
=====================  ===================================================================

Each rule is also run on a copy of the graph with one forbidden import added, to show that it
would fail.
"""

from __future__ import annotations

import ast
import importlib
import pathlib
from collections.abc import Iterable, Mapping

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "symconv"

Graph = dict[str, set[str]]


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: pathlib.Path, name: str) -> set[str]:
    """Every module ``path`` imports, absolute or relative, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from symconv.render import notebook` imports the module symconv.render.notebook
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def import_graph() -> tuple[Graph, Graph]:
    """``(internal, external)``: per module, the symconv modules and the other top-level
    packages it imports."""
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    internal: Graph = {}
    external: Graph = {}
    for name, path in paths.items():
        targets = imported_names(path, name)
        internal[name] = {t for t in targets if t in paths and t != name and t != "symconv"}
        external[name] = {t.split(".")[0] for t in targets if not t.startswith("symconv")}
    internal.pop("symconv", None)
    return internal, external


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or ``None``."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)) is not None:
            return cycle
    return None


def reachable(graph: Mapping[str, Iterable[str]], start: str) -> dict[str, list[str]]:
    """Every module ``start`` imports, directly or not, with one import path to it."""
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        node = frontier.pop()
        for nxt in graph.get(node, ()):
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                frontier.append(nxt)
    del paths[start]
    return paths


def in_part(module: str, part: str) -> bool:
    return module == part or module.startswith(part + ".")


def violations(internal: Graph, external: Graph) -> list[str]:
    """Every broken rule, as a sentence naming the import path that breaks it."""
    found = []
    if (cycle := find_cycle(internal)) is not None:
        found.append("import cycle: " + " -> ".join(cycle))
    direct_rules = {
        "symconv.layers": ("symconv.derive", "symconv.execute", "symconv.networks", "symconv.render"),
        "symconv.derive": ("symconv.execute", "symconv.render"),
        "symconv.render": ("symconv.execute",),
    }
    for module, targets in internal.items():
        for part, forbidden in direct_rules.items():
            if in_part(module, part):
                found += [f"{module} imports {target}" for target in targets
                          if any(in_part(target, bad) for bad in forbidden)]
        if in_part(module, "symconv.derive") and "numpy" in external.get(module, ()):
            found.append(f"{module} imports numpy")
        if in_part(module, "symconv.execute"):
            for target, path in reachable(internal, module).items():
                if in_part(target, "symconv.derive") or in_part(target, "symconv.render"):
                    found.append(f"{module} reaches {target}: " + " -> ".join(path))
    return found


def test_the_graph_is_read_from_every_module() -> None:
    internal, external = import_graph()
    assert {"symconv.layers.conv", "symconv.derive.derivation", "symconv.execute.run",
            "symconv.networks.conventions", "symconv.render.text", "symconv.cli"} <= set(internal)
    assert "symconv.layers.base" in internal["symconv.layers.conv"]
    assert "numpy" in external["symconv.execute.counter"]
    # function-level imports count: the CLI loads its commands lazily
    assert "symconv.report.compare" in internal["symconv.cli"]


def test_the_rules_hold() -> None:
    internal, external = import_graph()
    assert violations(internal, external) == []


@pytest.mark.parametrize(
    ("module", "added", "expected"),
    [
        ("symconv.layers.base", "symconv.layers.conv", "import cycle"),  # conv imports base
        ("symconv.sizes", "symconv.layers.base", "import cycle"),
        ("symconv.layers.conv", "symconv.derive.cost", "imports symconv.derive.cost"),
        ("symconv.layers.pooling", "symconv.networks.rows", "imports symconv.networks.rows"),
        ("symconv.derive.ratio", "symconv.render.notebook", "imports symconv.render.notebook"),
        ("symconv.derive.cost", "symconv.execute.counter", "imports symconv.execute.counter"),
        ("symconv.render.text", "symconv.execute.run", "imports symconv.execute.run"),
        # transitively: execute -> layers.pooling -> (new) networks.rows -> derive
        ("symconv.layers.pooling", "symconv.networks.rows", "symconv.execute.pooling reaches symconv.derive"),
    ],
)
def test_each_rule_catches_a_forbidden_import(module: str, added: str, expected: str) -> None:
    internal, external = import_graph()
    internal = {name: set(targets) for name, targets in internal.items()}
    internal[module].add(added)
    assert any(expected in line for line in violations(internal, external))


def test_numpy_in_derive_is_caught() -> None:
    internal, external = import_graph()
    external = {name: set(packages) for name, packages in external.items()}
    external["symconv.derive.cost"].add("numpy")
    assert violations(internal, external) == ["symconv.derive.cost imports numpy"]


def test_imports_inside_functions_and_type_checking_blocks_count(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from symconv.derive import Cost\n"
        "def f():\n    import symconv.execute.run\n    from . import sibling\n",
        encoding="utf-8",
    )
    found = imported_names(source, "symconv.render.mod")
    assert {"symconv.derive", "symconv.execute.run", "symconv.render.sibling"} <= found


def test_find_cycle_reports_the_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# Names the README and docs/ import, where they document them.
DOCUMENTED = [
    ("symconv", "Conv2d"), ("symconv", "DepthwiseSeparableConv2d"), ("symconv", "cost"),
    ("symconv", "ratio"), ("symconv", "execute"), ("symconv", "verify"), ("symconv", "count"),
    ("symconv", "from_torch"), ("symconv", "SymconvError"), ("symconv", "Sequential"),
    ("symconv.symbols", "H"), ("symconv.symbols", "alpha"), ("symconv.zoo", "mobilenet_v1"),
    ("symconv.zoo", "mobilenet_v2"), ("symconv.conventions", "count"),
    ("symconv.conventions", "rules"), ("symconv.network", "rows"),
    ("symconv.strategies", "conv_cases"), ("symconv.strategies", "network_cases"),
    ("symconv.execute", "execute"), ("symconv.verify", "verify"),
    ("symconv.render.diagram", "draw_separable_stages"), ("symconv.cli", "main"),
]


@pytest.mark.parametrize(("module", "name"), DOCUMENTED)
def test_documented_names_stay_importable(module: str, name: str) -> None:
    assert callable(getattr(importlib.import_module(module), name)) or name in ("H", "alpha")


def test_execute_and_verify_stay_functions_on_the_package() -> None:
    import symconv

    importlib.import_module("symconv.execute.run")
    importlib.import_module("symconv.verify")
    assert callable(symconv.execute) and callable(symconv.verify)


def test_modules_stay_small_unless_cohesive() -> None:
    """About 600 lines at most, unless the module's docstring says why it is one thing."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > 650 and "one cohesive" not in docstring:
            long.append(f"{module_name(path)}: {lines} lines")
    assert long == []
