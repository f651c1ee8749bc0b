"""The one Delta reader/writer: every write in aiready goes through here.

Writes retry a lost commit race (``CommitFailedError``) with backoff; reads always go through the
table's snapshot (``DeltaTable.to_pyarrow_dataset``), never a directory glob, so files that are no
longer part of the table are never read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from aiready.errors import CommitConflictError, StorageError

T = TypeVar("T")
_WRITER = WriterProperties(max_row_group_size=131_072)
"""Row groups of 128 Ki rows (DuckDB's own size is 120 Ki): delta-rs buffers a whole row group
before it writes one, so its default of 1 Mi rows held ~0.4 GB more at 5M rows and was slower."""
_ATTEMPTS = 8
Data: TypeAlias = pa.Table | Callable[[], Any]
"""An Arrow table, or a factory returning a fresh Arrow stream per attempt (retries re-read it)."""


def _fresh(data: Data) -> Any:
    return data() if callable(data) else data


def exists(path: Path) -> bool:
    """True when ``path`` holds a Delta table."""
    return (path / "_delta_log").is_dir()


def table(path: Path, version: int | None = None) -> DeltaTable | None:
    """The Delta table at ``path`` (optionally at ``version``), or None if there is none."""
    if not exists(path):
        return None
    try:
        return DeltaTable(str(path), version=version)
    except TableNotFoundError:
        return None


def dataset(path: Path) -> pads.Dataset | None:
    """A pyarrow dataset over the current snapshot, or None when the table does not exist."""
    dt = table(path)
    return None if dt is None else dt.to_pyarrow_dataset()


@dataclass(frozen=True)
class Snapshot:
    """One version of a Delta table: exactly the Parquet files that make it up."""

    path: Path
    version: int
    files: tuple[str, ...]
    columns: tuple[str, ...]


def snapshot(path: Path) -> Snapshot | None:
    """The current snapshot, or None when there is no table or it holds no file."""
    dt = table(path)
    if dt is None:
        return None
    files = tuple(dt.file_uris())
    if not files:
        return None
    columns = tuple(f.name for f in dt.schema().fields)
    return Snapshot(path, dt.version(), files, columns)


def version(path: Path) -> int | None:
    """Current Delta version of the table, or None."""
    dt = table(path)
    return None if dt is None else dt.version()


def read(path: Path, columns: list[str] | None = None, filter: Any = None) -> pa.Table | None:
    """Read the current snapshot (optionally projected and filtered)."""
    ds = dataset(path)
    if ds is None:
        return None
    if filter is None:
        return ds.to_table(columns=columns)
    try:
        return ds.to_table(columns=columns, filter=filter)
    except pa.ArrowNotImplementedError:
        # delta-rs MERGE writes Parquet whose Arrow schema says string_view; pyarrow cannot push a
        # string filter into such files, so scan (which casts to the table schema), then filter.
        table = ds.to_table().filter(filter)
        return table.select(columns) if columns else table


def count(path: Path, filter: Any = None) -> int:
    """Rows in the current snapshot (optionally matching ``filter``); 0 when there is no table."""
    ds = dataset(path)
    if ds is None:
        return 0
    try:
        return int(ds.count_rows(filter=filter))
    except pa.ArrowNotImplementedError:  # see read(): string_view files written by MERGE
        return int(ds.to_table().filter(filter).num_rows)


def _props(metadata: Mapping[str, str] | None) -> CommitProperties | None:
    return CommitProperties(custom_metadata=dict(metadata)) if metadata else None


def _retry(what: str, path: Path, op: Callable[[], T]) -> T:
    """Run ``op``, retrying a lost Delta commit race with jittered exponential backoff."""
    for attempt in range(_ATTEMPTS):
        try:
            return op()
        except CommitFailedError as exc:
            if attempt == _ATTEMPTS - 1:
                raise CommitConflictError(
                    f"{what} kept losing commit races", table=str(path)
                ) from exc
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
        except DeltaError as exc:
            raise StorageError(f"{what} failed: {exc}", table=str(path)) from exc
    raise AssertionError("unreachable")


def _write(
    what: str,
    path: Path,
    data: Data,
    metadata: Mapping[str, str] | None,
    options: Callable[[], dict[str, Any]],
) -> int:
    """One retried ``write_deltalake`` commit; ``options`` is re-evaluated on every attempt."""
    path.mkdir(parents=True, exist_ok=True)

    def op() -> int:
        write_deltalake(
            str(path),
            _fresh(data),
            commit_properties=_props(metadata),
            writer_properties=_WRITER,
            **options(),
        )
        return DeltaTable(str(path)).version()

    return _retry(what, path, op)


def append(path: Path, data: Data, metadata: Mapping[str, str] | None = None) -> int:
    """Append ``data`` (new columns merge into the schema); returns the new version."""
    return _write(
        "append", path, data, metadata, lambda: {"mode": "append", "schema_mode": "merge"}
    )


def append_to(dt: DeltaTable, path: Path, data: Data) -> int:
    """Append through an open table whose log state is kept up to date in place.

    For a hot append-only log (the audit): each commit costs the write and reading the commits
    since the last one, not a replay of the whole log; the table is caught up before a retry.
    """
    attempts = 0

    def op() -> int:
        nonlocal attempts
        if attempts:
            dt.update_incremental()
        attempts += 1
        write_deltalake(dt, _fresh(data), mode="append", schema_mode="merge")
        return int(dt.version())

    return _retry("append", path, op)


def replace_where(
    path: Path, data: Data, predicate: str, metadata: Mapping[str, str] | None = None
) -> int:
    """Atomically replace the rows matching ``predicate`` with ``data`` (one commit).

    This is what makes a re-run of a crashed step idempotent: it overwrites its own earlier,
    uncommitted-to-the-ledger output instead of adding to it. The first write creates the table.
    """

    def options() -> dict[str, Any]:
        if not exists(path):
            return {"mode": "append"}
        return {"mode": "overwrite", "predicate": predicate, "schema_mode": "merge"}

    return _write("replace", path, data, metadata, options)


def overwrite(path: Path, data: Data, metadata: Mapping[str, str] | None = None) -> int:
    """Replace the whole table with ``data`` in one commit (earlier versions stay readable)."""
    return _write(
        "overwrite", path, data, metadata, lambda: {"mode": "overwrite", "schema_mode": "overwrite"}
    )


def merge_by_key(
    path: Path,
    data: Data,
    keys: list[str],
    metadata: Mapping[str, str] | None = None,
    delete_missing: bool = False,
    update_if: str | None = None,
) -> int:
    """Upsert ``data`` by ``keys``: one current row per key, history keeps the earlier ones.

    ``update_if`` (a predicate over ``s``/``t``) limits which matched rows are replaced.
    """
    if not exists(path):
        return append(path, data, metadata)
    predicate = " AND ".join(f't."{k}" = s."{k}"' for k in keys)

    def op() -> int:
        dt = DeltaTable(str(path))
        merger = (
            dt.merge(
                _fresh(data),
                predicate,
                source_alias="s",
                target_alias="t",
                merge_schema=True,
                commit_properties=_props(metadata),
            )
            .when_matched_update_all(predicate=update_if)
            .when_not_matched_insert_all()
        )
        if delete_missing:  # a full result: keys no longer produced are removed
            merger = merger.when_not_matched_by_source_delete()
        merger.execute()
        return DeltaTable(str(path)).version()

    return _retry("merge", path, op)


def update_by_key(path: Path, data: pa.Table, keys: list[str], columns: list[str]) -> int | None:
    """Set ``columns`` on the rows whose ``keys`` match a row of ``data``."""
    dt = table(path)
    if dt is None or data.num_rows == 0:
        return None
    predicate = " AND ".join(f't."{k}" = s."{k}"' for k in keys)
    updates = {f'"{c}"': f's."{c}"' for c in columns}

    def op() -> int:
        current = DeltaTable(str(path))
        current.merge(data, predicate, source_alias="s", target_alias="t").when_matched_update(
            updates
        ).execute()
        return current.version()

    return _retry("update", path, op)


def history(path: Path) -> list[dict[str, Any]]:
    """Commit history, newest first (empty when there is no table)."""
    dt = table(path)
    return [] if dt is None else list(dt.history())


def delete_where(path: Path, predicate: str, metadata: Mapping[str, str] | None = None) -> int:
    """Delete the rows matching ``predicate`` in one commit; returns how many (0: no table)."""
    if not exists(path):
        return 0

    def op() -> int:
        metrics = DeltaTable(str(path)).delete(predicate, commit_properties=_props(metadata))
        return int(metrics.get("num_deleted_rows", 0) or 0)

    return _retry("delete", path, op)


def restore_by_key(
    path: Path,
    data: pa.Table,
    keys: list[str],
    only: str,
    flag: str,
    metadata: Mapping[str, str] | None = None,
) -> int:
    """One MERGE over the target rows matching ``only``: a source row whose ``flag`` is true
    replaces its key's row, one whose ``flag`` is false deletes it (both in the same commit)."""
    if not exists(path) or data.num_rows == 0:
        return 0
    predicate = " AND ".join([*(f't."{k}" = s."{k}"' for k in keys), f"({only})"])
    columns = [f.name for f in DeltaTable(str(path)).schema().fields]
    updates = {f'"{c}"': f's."{c}"' for c in columns}

    def op() -> int:
        dt = DeltaTable(str(path))
        dt.merge(
            data,
            predicate,
            source_alias="s",
            target_alias="t",
            commit_properties=_props(metadata),
        ).when_matched_update(updates, predicate=f's."{flag}"').when_matched_delete(
            predicate=f'NOT s."{flag}"'
        ).execute()
        return DeltaTable(str(path)).version()

    return _retry("restore", path, op)
