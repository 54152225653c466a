"""The package's import graph: circles, upward arrows between floors, and imports made inside functions.

Reads the source with ``ast`` (nothing is imported), counts every intra-package import, including those inside
functions, and prints:

- the strongly connected components of the module graph with more than one module (import circles);
- the folder-level arrows that run upward, against the floor order in ``FLOORS`` below;
- every intra-package import made inside a function, class body or ``if TYPE_CHECKING`` block is not counted.

``python tools/import_graph.py`` prints the report; ``--json`` prints it as one JSON object. The limits the
package keeps (tests/test_architecture.py checks them) are ``MAX_CIRCLE`` and ``MAX_LOCAL_IMPORTS``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "gated"
MAX_CIRCLE = 3
MAX_LOCAL_IMPORTS = 15

# The floors, lowest first. A module may import from its own floor or any floor below it, never above.
# Top-level modules (gated/losses.py, ...) and folders (gated/layers/, ...) are placed by their first dotted part.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("_version", "utils", "activations", "initializers", "regularizers", "constraints", "data", "datasets", "ops",
     "random", "applications"),
    ("saving",),
    ("kernels",),
    ("layers",),
    ("losses", "metrics", "optimizers"),
    ("callbacks",),
    ("training",),
    ("export", "deploy"),
    ("models",),
    ("interop", "seq2seq", "recipes", "plot", "preprocessing", "backend"),
    ("cli", "__init__", "__main__"),
)


def floor_of(unit: str) -> int:
    for level, units in enumerate(FLOORS):
        if unit in units:
            return level
    raise KeyError(f"{unit!r} has no floor in tools/import_graph.py FLOORS; add it to the floor it belongs on.")


@dataclass
class Import:
    source: str        # importing module, dotted
    target: str        # imported module, dotted
    line: int
    local: bool        # made inside a function (or method)


@dataclass
class Graph:
    modules: list[str]
    imports: list[Import] = field(default_factory=list)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def read_graph(root: Path) -> Graph:
    files = sorted(root.rglob("*.py"))
    modules = {module_name(f, root): f for f in files}
    graph = Graph(sorted(modules))

    def target_of(name: str) -> str | None:
        # the longest known module prefix of `name` ("gated.layers._core.Dense" -> "gated.layers._core")
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in modules:
                return candidate
        return None

    for module, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"

        def visit(node: ast.AST, local: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    continue
                inner = local or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                if isinstance(child, ast.Import):
                    for alias in child.names:
                        if alias.name.split(".")[0] == PACKAGE:
                            target = target_of(alias.name)
                            if target and target != module:
                                graph.imports.append(Import(module, target, child.lineno, local))
                elif isinstance(child, ast.ImportFrom):
                    base = _resolve(module, is_package, child)
                    if base.split(".")[0] != PACKAGE:
                        continue
                    for alias in child.names:
                        target = target_of(f"{base}.{alias.name}") or target_of(base)
                        if target and target != module:
                            graph.imports.append(Import(module, target, child.lineno, local))
                visit(child, inner)

        visit(tree, False)
    return graph


def circles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    edges: dict[str, set[str]] = {m: set() for m in graph.modules}
    for imp in graph.imports:
        edges[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in graph.modules:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return sorted(found, key=len, reverse=True)


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def upward_arrows(graph: Graph) -> list[tuple[str, str, list[Import]]]:
    """Folder-level arrows from a lower floor to a higher one, with the imports that make them."""
    arrows: dict[tuple[str, str], list[Import]] = {}
    for imp in graph.imports:
        source, target = unit_of(imp.source), unit_of(imp.target)
        if source == "__init__" and imp.source == PACKAGE:
            continue  # the package's own __init__ re-exports everything: it is the top floor
        if source != target and floor_of(target) > floor_of(source):
            arrows.setdefault((source, target), []).append(imp)
    return [(s, t, imps) for (s, t), imps in sorted(arrows.items())]


def report(root: Path) -> dict:
    graph = read_graph(root)
    local = list({(i.source, i.line): i for i in graph.imports if i.local}.values())  # one per statement
    return {
        "modules": len(graph.modules),
        "imports": len(graph.imports),
        "local_imports": [f"{i.source}:{i.line} -> {i.target}" for i in local],
        "circles": circles(graph),
        "upward_arrows": [
            {"from": s, "to": t, "imports": [f"{i.source}:{i.line} -> {i.target}" for i in imps]}
            for s, t, imps in upward_arrows(graph)
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent / PACKAGE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = report(args.root)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['modules']} modules, {result['imports']} intra-package imports, "
          f"{len(result['local_imports'])} of them inside functions (limit {MAX_LOCAL_IMPORTS})")
    for imp in result["local_imports"]:
        print(f"  local  {imp}")
    largest = max((len(c) for c in result["circles"]), default=0)
    print(f"{len(result['circles'])} import circles, the largest {largest} modules (limit {MAX_CIRCLE})")
    for circle in result["circles"]:
        print(f"  circle ({len(circle)}): {', '.join(circle)}")
    print(f"{len(result['upward_arrows'])} upward folder arrows")
    for arrow in result["upward_arrows"]:
        print(f"  {arrow['from']} -> {arrow['to']}:")
        for imp in arrow["imports"]:
            print(f"      {imp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
