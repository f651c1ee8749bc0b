"""The one Delta writer: conflicting commits from other processes are retried, nothing is lost."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable

from aiready.storage import delta


def _appender(path: str, worker: int) -> int:
    for i in range(15):
        delta.append(Path(path), pa.table({"k": [f"a{worker}-{i}"], "v": [i]}))
    return 15


def _replacer(path: str, worker: int) -> int:
    for i in range(15):
        delta.replace_where(Path(path), pa.table({"k": ["r"], "v": [i]}), "k = 'r'")
    return 0


def _run(fn_path: tuple[str, str, int]) -> int:
    fn, path, worker = fn_path
    return {"append": _appender, "replace": _replacer}[fn](path, worker)


def test_appends_racing_replaces_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t"
    delta.append(path, pa.table({"k": ["r"], "v": [-1]}))
    ctx = multiprocessing.get_context("spawn")
    jobs = [("append", str(path), 1), ("replace", str(path), 2), ("append", str(path), 3)]
    with ctx.Pool(3) as pool:
        pool.map(_run, jobs)
    rows = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
    keys = sorted(r["k"] for r in rows)
    assert keys.count("r") == 1  # replace_where kept exactly one current row
    assert len([k for k in keys if k != "r"]) == 30  # every append landed once


def test_read_filters_files_written_by_merge(tmp_path: Path) -> None:
    """delta-rs MERGE writes string_view Parquet; filtered reads must still work."""
    import pyarrow.compute as pc

    path = tmp_path / "t"
    delta.append(path, pa.table({"k": ["a", "b"], "s": ["open", "open"]}))
    delta.update_by_key(path, pa.table({"k": ["a"], "s": ["closed"]}), ["k"], ["s"])
    table = delta.read(path, ["k"], pc.field("s") == "open")
    assert table is not None and table.column("k").to_pylist() == ["b"]
    assert delta.count(path, pc.field("s") == "open") == 1
