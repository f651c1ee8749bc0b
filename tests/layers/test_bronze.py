"""Bronze: append-only, idempotent per file, every record traceable to its file and row."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from deltalake import DeltaTable

from aiready import SourceError, Workspace
from tests.conftest import WorkspaceFactory


def bronze(ws: Workspace) -> list[dict[str, object]]:
    return list(
        DeltaTable(str(ws.paths.table("bronze", "payments"))).to_pyarrow_table().to_pylist()
    )


def test_ingest_records_provenance(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2.50,EUR\n2,3,USD\n"})
    [result] = ws.ingest()
    assert [f.status for f in result.files] == ["ingested"] and result.rows == 2
    rows = bronze(ws)
    assert {r["_source_file"] for r in rows} == {"data/a.csv"}
    assert [r["_source_row"] for r in sorted(rows, key=lambda r: r["_source_row"])] == [1, 2]
    assert all(
        len(r["_record_hash"]) == 64 and r["_batch_id"] == result.files[0].batch_id for r in rows
    )
    assert {r["amount"] for r in rows} == {"2.50", "3"}  # kept as read


def test_reingest_skips_same_file_and_changed_file_is_new_batch(
    make_workspace: WorkspaceFactory,
) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    ws.ingest()
    [again] = ws.ingest()
    assert again.files[0].status == "skipped" and "already ingested" in again.files[0].message
    (ws.root / "data/a.csv").write_text("id,amount,currency\n1,2,EUR\n2,5,USD\n")
    [refused] = ws.ingest()  # a changed file is refused until the user says what it means
    assert refused.files[0].status == "failed" and "--supersede" in refused.files[0].message
    [changed] = ws.ingest(supersede=True)
    assert changed.files[0].status == "ingested" and changed.rows == 2
    assert len(bronze(ws)) == 3
    history = DeltaTable(str(ws.paths.table("bronze", "payments"))).history()
    assert {h["operation"] for h in history} <= {"WRITE", "CREATE TABLE"}
    assert all(h.get("operationParameters", {}).get("mode", "Append") == "Append" for h in history)


def test_missing_source_and_empty_glob(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={}, source="data/*.csv")
    with pytest.raises(SourceError, match="matches no file"):
        ws.ingest()
    ws = make_workspace(files={}, source="data/one.csv")
    with pytest.raises(SourceError, match="does not exist") as info:
        ws.ingest()
    assert info.value.attrs()["file"].endswith("data/one.csv")


def test_bad_file_is_reported_and_good_files_still_land(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n", "data/b.csv": ""})
    [result] = ws.ingest()
    status = {f.file: f.status for f in result.files}
    assert status == {"data/a.csv": "ingested", "data/b.csv": "failed"}
    assert result.errors[0]["file"] == "data/b.csv"
    with pytest.raises(SourceError, match="no header"):
        result.raise_on_failure()
    assert len(bronze(ws)) == 1


def test_new_source_column_is_kept_in_bronze(make_workspace: WorkspaceFactory) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n1,2,EUR\n"})
    ws.ingest()
    (ws.root / "data/b.csv").write_text("id,amount,currency,channel\n2,3,USD,web\n")
    ws.ingest()
    rows = {r["id"]: r for r in bronze(ws)}
    assert rows["2"]["channel"] == "web" and rows["1"]["channel"] is None


def _ingest(root: str) -> int:
    return Workspace.load(root).ingest()[0].rows


def test_concurrent_ingest_from_two_processes_loses_nothing(
    make_workspace: WorkspaceFactory,
) -> None:
    files = {f"data/f{i:02d}.csv": f"id,amount,currency\n{i},1,EUR\n" for i in range(12)}
    ws = make_workspace(files=files)
    ctx = multiprocessing.get_context("spawn")  # delta-rs panics after fork
    with ctx.Pool(2) as pool:
        counts = pool.map(_ingest, [str(ws.root), str(ws.root)])
    assert sum(counts) == 12  # each file ingested by exactly one of them
    assert sorted(int(r["id"]) for r in bronze(ws)) == list(range(12))


def test_header_only_file_is_a_batch_with_no_rows(
    make_workspace: WorkspaceFactory, tmp_path: Path
) -> None:
    ws = make_workspace(files={"data/a.csv": "id,amount,currency\n"})
    [result] = ws.ingest()
    assert result.files[0].status == "ingested" and result.rows == 0
    assert "header only" in result.files[0].message
    [again] = ws.ingest()
    assert again.files[0].status == "skipped"
    [refined] = ws.refine()
    assert refined.passed and refined.reports[0].rows_in == 0
