"""File sources cannot be steered outside the workspace by `..`, symlinks or aiready's own state.

A relative `source:` reads only files that resolve inside the workspace and outside `.aiready/`
(keys, audit, lake). Reading a landing zone elsewhere takes an explicit absolute path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

import aiready
from aiready import SourceError
from tests.conftest import WorkspaceFactory

ROWS = "id,amount,currency\n1,10.00,EUR\n"


@pytest.mark.parametrize("source", ["../outside/*.csv", "contracts/../../outside/a.csv"])
def test_relative_source_escaping_the_workspace_is_refused(
    make_workspace: WorkspaceFactory, tmp_path: Path, source: str
) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/a.csv").write_text(ROWS)
    ws = make_workspace(source=source)
    [result] = ws.ingest()
    assert result.errors and "outside the workspace" in result.errors[0]["message"]
    assert result.errors[0]["file"].endswith("a.csv")
    assert not (ws.paths.table("bronze", "payments") / "_delta_log").exists()


def test_symlink_out_of_the_workspace_is_refused(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text(ROWS)
    ws = make_workspace(files={"data/ok.csv": ROWS.replace("1,", "2,")})
    (ws.root / "data/link.csv").symlink_to(secret)
    [result] = ws.ingest()
    assert len(result.errors) == 1 and "outside the workspace" in result.errors[0]["message"]
    assert [f.status for f in result.files if Path(f.file).name == "ok.csv"] == ["ingested"]


def test_aiready_state_is_never_a_source(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": ROWS})
    ws.ingest()
    keys = ws.paths.root / ".aiready/keys.json"
    keys.write_text('{"k": "secret"}')
    ws2 = make_workspace(source=".aiready/*.json", root=ws.root)
    [result] = ws2.ingest()
    assert result.errors and ".aiready" in result.errors[0]["message"]


def test_absolute_landing_zone_is_allowed(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(ROWS)
    ws = make_workspace(source=str(landing / "*.csv"))
    [result] = ws.ingest()
    assert not result.errors and result.rows == 1
    assert DeltaTable(str(ws.paths.table("bronze", "payments"))).count() == 1


def test_refused_source_error_is_typed(make_workspace: WorkspaceFactory, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/a.csv").write_text(ROWS)
    ws = make_workspace(source="../outside/a.csv")
    with pytest.raises(SourceError, match="outside the workspace"):
        ws.ingest()[0].raise_on_failure()
    assert isinstance(ws, aiready.Workspace)
