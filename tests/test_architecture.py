"""The package's import structure, read from the source (ast): layers and no circles.

Layers, lowest first; a module may import its own layer and the ones below, never one
above. Every import counts, also one inside a function or under ``TYPE_CHECKING``: a
deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "src" / "spa2v"

#: Lowest first. A module belongs to the first prefix it matches, longest prefix first.
LAYERS: tuple[tuple[str, ...], ...] = (
    # shared knowledge every layer uses; imports nothing from the package but itself
    ("spa2v.errors", "spa2v.camera", "spa2v.nouns", "spa2v.ranges"),
    ("spa2v.io",),
    ("spa2v.hearing",),
    ("spa2v.planning",),
    ("spa2v.rendering",),
    # the simulator builds scenes, their ground-truth layouts and example banks with the
    # product layers; the product never imports it
    ("spa2v.sim",),
    # runs items through stages on a process pool or a Ray cluster (knows no stage)
    ("spa2v.batch.engine",),
    # scores the product against the simulator's ground truth
    ("spa2v.evaluation",),
    # the Python API, batches of its runs, and the bundled examples (made with the
    # simulator)
    ("spa2v.api", "spa2v.batch", "spa2v.examples", "spa2v"),
    ("spa2v.interfaces", "spa2v.__main__"),
)

#: Known upward imports, each with the reason it is still there. Keep this empty.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _sources() -> dict[str, tuple[Path, ast.Module]]:
    return {
        _module_name(p): (p, ast.parse(p.read_text(encoding="utf-8"), filename=str(p)))
        for p in sorted(PACKAGE_DIR.rglob("*.py"))
    }


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a submodule when one is named)."""
    sources = _sources()
    graph: dict[str, set[str]] = {}
    for name, (path, tree) in sources.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                targets = [
                    f"{module}.{alias.name}" if f"{module}.{alias.name}" in sources else module
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                # "import spa2v.a.b" names spa2v.a.b; keep the longest known module
                while target and target not in sources:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    deps.add(target)
        graph[name] = deps
    return graph


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            inside = module == prefix or module.startswith(prefix + ".")
            if inside and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[1]


def test_every_module_has_a_layer():
    for module in import_graph():
        layer_of(module)


def test_no_import_from_a_lower_layer_to_a_higher_one():
    upward = {
        (module, dep)
        for module, deps in import_graph().items()
        for dep in deps
        if layer_of(dep) > layer_of(module)
    }
    assert upward - KNOWN_EXCEPTIONS == set(), "imports that run up the layers"
    assert upward >= KNOWN_EXCEPTIONS, "a known exception is gone: remove it from the list"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in graph.get(node, ()):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_between_modules():
    assert _cycles(import_graph()) == []


def test_the_reader_sees_what_it_should():
    """The import reader itself: relative, deferred and submodule imports are found."""
    graph = import_graph()
    assert "spa2v.errors" in graph["spa2v.io.atomic"]
    assert "spa2v.planning.vsl" in graph["spa2v.planning.physics"]


def test_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
