"""The import graph of ``src/aiready`` and simple size figures, read with ``ast`` (nothing runs).

Used by ``test_imports.py`` and by ``python -m tests.architecture.graph`` (prints cycles, the
largest module, the longest function and the p90 function length: the figures issue 14 asks for).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "aiready"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run: everything but the body of ``if TYPE_CHECKING:``."""
    out: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                out.append(child)
            visit(child)

    visit(tree)
    return out


def edges(type_checking: bool = True) -> dict[str, set[str]]:
    """Module → the aiready modules it imports (also under TYPE_CHECKING unless told not to)."""
    mods = modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        tree = ast.parse(path.read_text())
        nodes = (
            [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
            if type_checking
            else _runtime_imports(tree)
        )
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in nodes:
            for target in _targets(node, package, mods):
                while target and target not in mods:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def _targets(node: ast.Import | ast.ImportFrom, package: str, mods: dict[str, Path]) -> list[str]:
    """What an import depends on: ``from pkg import sub`` is an edge to ``pkg.sub`` only."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("aiready")]
    base = node.module or ""
    if node.level:
        parts = package.split(".")
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    if not base.startswith("aiready"):
        return []
    subs = [f"{base}.{a.name}" for a in node.names]
    return [s for s in subs if s in mods] + ([base] if any(s not in mods for s in subs) else [])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            strong(v)
    return out


def functions() -> list[tuple[int, str]]:
    """(lines, 'module:function') for every function and method."""
    out = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((node.end_lineno - node.lineno + 1, f"{name}:{node.name}"))  # type: ignore[operator]
    return sorted(out)


def main() -> None:
    graph = edges()
    found = cycles(graph)
    print(f"import cycles (TYPE_CHECKING included): {len(found)}, modules in them: "
          f"{sum(map(len, found))}")  # fmt: skip
    for comp in found:
        print("  ", len(comp), ", ".join(comp[:8]), "…" if len(comp) > 8 else "")
    sizes = sorted((len(p.read_text().splitlines()), m) for m, p in modules().items())
    print("largest module:", sizes[-1])
    funcs = functions()
    print("longest function:", funcs[-1])
    print("function length p90:", funcs[int(0.9 * (len(funcs) - 1))][0], f"of {len(funcs)}")


if __name__ == "__main__":
    main()
