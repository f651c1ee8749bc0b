"""No function in the service is longer than ``LIMIT`` lines: routes stay small and composed."""

from __future__ import annotations

import ast
from pathlib import Path

import aiready

LIMIT = 40
SERVICE = Path(aiready.__file__).parent / "service"


def long_functions(root: Path, limit: int = LIMIT) -> list[str]:
    """``path:line name (n lines)`` of every function or method under ``root`` past ``limit``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({length})")
    return found


def test_no_service_function_is_longer_than_the_limit() -> None:
    assert long_functions(SERVICE) == []


def test_the_check_sees_nested_functions(tmp_path: Path) -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "m.py").write_text(f"def outer():\n    def inner():\n{body}\n    return inner\n")
    assert long_functions(tmp_path) == [
        f"m.py:1 outer ({LIMIT + 3})",
        f"m.py:2 inner ({LIMIT + 1})",
    ]
