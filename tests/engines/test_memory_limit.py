"""DuckDB's memory for a gate is bounded by aiready.yaml and spills inside .aiready, not CWD."""

from __future__ import annotations

from pathlib import Path

import pytest

import aiready
from aiready import ConfigError


def _workspace(root: Path, extra: str = "") -> Path:
    (root / "aiready.yaml").write_text(f"name: mem\ndatasets: {{}}\n{extra}")
    return root


def test_default_limit_and_spill_directory(tmp_path: Path) -> None:
    ws = aiready.Workspace.load(_workspace(tmp_path))
    con = ws.engine.runner.con  # type: ignore[attr-defined]
    limit, spill = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    assert limit == "953.6 MiB"  # 1GB (10^9 bytes), as DuckDB renders it
    assert Path(spill) == tmp_path / ".aiready" / "tmp"


def test_declared_limit_is_used(tmp_path: Path) -> None:
    ws = aiready.Workspace.load(_workspace(tmp_path, "duckdb: {memory_limit: 256MB}\n"))
    con = ws.engine.runner.con  # type: ignore[attr-defined]
    (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    assert limit == "244.1 MiB"  # 256MB


@pytest.mark.parametrize(
    "value", ["{memory_limit: lots}", "{memory_limit: 2}", "{memroy_limit: 2GB}", "2GB"]
)
def test_bad_limit_names_the_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        aiready.Workspace.load(_workspace(tmp_path, f"duckdb: {value}\n"))
    assert info.value.attrs()["key"] == "duckdb"
    assert "memory_limit" in info.value.message
