"""Bronze: raw, immutable, traceable. Append-only; each new source file is one batch, once.

Every value is kept as read (text), with ``_batch_id``, ``_source_file``, ``_source_row``,
``_source_sha256``, ``_ingested_at`` and ``_record_hash``. A file whose sha256 is already in bronze
is skipped, so re-running ``ingest`` is idempotent; a file seen before under the same name with
other content is refused, superseded or appended as ``on_changed_file`` says (``batches.py``).
"""

from __future__ import annotations

import glob
import hashlib
import itertools
import json
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.models import DatasetConfig
from aiready.config.paths import Paths
from aiready.errors import AireadyError, SourceError
from aiready.layers import batches, ledger
from aiready.layers.results import FileIngest, IngestResult
from aiready.sources.headers import bronze_names
from aiready.sources.readers import MALFORMED, RESERVED, SourceStream, open_source
from aiready.storage import dataset_lock, delta

Progress = Callable[[str], None]


def new_batch_id(now: datetime) -> str:
    """Time-ordered batch id: sorting ids gives ingest order."""
    return f"{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}"


def source_files(root: Path, ds: DatasetConfig) -> list[Path]:
    """Files matching the dataset's source; an empty match is an error naming the pattern."""
    pattern = ds.source if Path(ds.source).is_absolute() else str(root / ds.source)
    if glob.has_magic(pattern):
        files = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        if not files:
            raise SourceError("source glob matches no file", dataset=ds.name, file=pattern)
        return files
    if not Path(pattern).is_file():
        raise SourceError("source file does not exist", dataset=ds.name, file=pattern)
    return [Path(pattern)]


def check_source_path(root: Path, ds: DatasetConfig, path: Path) -> None:
    """A relative ``source`` reads only files inside the workspace, and never aiready's state.

    ``..`` or a symlink in a landing folder must not turn ingest into a way of copying any file
    the process can read (keys, other workspaces) into bronze. A landing zone elsewhere is named
    with an absolute path in aiready.yaml, where a reviewer sees it.
    """
    resolved = path.resolve()
    if resolved.is_relative_to((root / ".aiready").resolve()):
        raise SourceError(
            "source file is inside .aiready/ (aiready's own state), which is never a source",
            dataset=ds.name,
            file=str(path),
        )
    if not Path(ds.source).is_absolute() and not resolved.is_relative_to(root.resolve()):
        raise SourceError(
            "source file resolves outside the workspace (through `..` or a symlink); "
            "give an absolute path in aiready.yaml to read a landing zone elsewhere",
            dataset=ds.name,
            file=str(path),
        )


def _relative(root: Path, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path.resolve())


def _in_bronze(table_path: Path, sha: str) -> str | None:
    """The batch id under which a file with this sha256 is already in bronze, if any."""
    hit = delta.read(table_path, ["_batch_id"], pc.field("_source_sha256") == sha)
    return None if hit is None or hit.num_rows == 0 else str(hit.column(0)[0])


def ingest(
    paths: Paths,
    ds: DatasetConfig,
    progress: Progress | None = None,
    files: list[Path] | None = None,
    contract_columns: Sequence[str] = (),
) -> IngestResult:
    """Ingest every new file of ``ds`` (or the given ``files``) into bronze, one batch per file.

    Header names differing from ``contract_columns`` only in case or spaces are stored under the
    contract's names (see sources/headers.py); the header as read goes into the commit metadata.
    """
    result = IngestResult(ds.name)
    from_source = files is None  # given files are aiready's own (accepted corrections)
    files = source_files(paths.root, ds) if files is None else files
    table_path = paths.table("bronze", ds.name)
    with dataset_lock(paths.locks, ds.name):
        records = ledger.ingested(paths.ingested_ledger, ds.name)
        known = {b.source_sha256: b for b in records}
        changed = batches.ChangedFiles(paths, ds, records)  # on_changed_file
        for path in files:
            rel = _relative(paths.root, path)
            if progress:
                progress(rel)
            try:
                if from_source:
                    check_source_path(paths.root, ds, path)
                supersedes = changed.check(rel, path)
                done = _ingest_file(paths, ds, path, rel, known, table_path, contract_columns)
                done.supersedes = supersedes
                result.files.append(done)
            except AireadyError as exc:
                result.files.append(FileIngest(rel, "failed", message=exc.message))
                result.errors.append({**exc.attrs(), "file": rel})
        result.bronze_version = delta.version(table_path)
    return result


def _ingest_file(
    paths: Paths,
    ds: DatasetConfig,
    path: Path,
    rel: str,
    known: dict[str, ledger.BatchRecord],
    table_path: Path,
    contract_columns: Sequence[str],
) -> FileIngest:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read source file: {exc.strerror}", file=str(path)) from exc
    sha = hashlib.sha256(data).hexdigest()
    if sha in known:
        b = known[sha]
        return FileIngest(
            rel,
            "skipped",
            sha,
            b.batch_id,
            0,
            0,
            b.columns,
            f"already ingested as batch {b.batch_id}",
        )
    stream = open_source(path, ds.format, ds.delimiter, data)
    del data  # the stream keeps what it needs; the raw copy need not outlive the parse
    header = stream.columns
    names = _canonical(stream, contract_columns, table_path)
    columns = [names[c] for c in header]
    now = datetime.now(UTC)
    batch_id = _in_bronze(table_path, sha)  # set when a crash hit between bronze and ledger
    version = delta.version(table_path)
    rows = _Rows(stream, names)
    if batch_id is None:
        batch_id = new_batch_id(now)
        first = rows.reader(batch_id, rel, sha, now)
        if first is not None:  # a header-only file adds no commit
            pending, bid = [first], batch_id

            def fresh() -> pa.RecordBatchReader | None:
                return pending.pop() if pending else rows.reader(bid, rel, sha, now)

            version = delta.append(
                table_path,
                fresh,
                {
                    "aiready.batch_id": batch_id,
                    "aiready.source_file": rel,
                    "aiready.source_header": json.dumps(header, ensure_ascii=False),
                },
            )
    else:
        rows.count()
    record = ledger.BatchRecord(
        ds.name, batch_id, rel, sha, ds.format, columns, rows.n, rows.malformed, version or 0, now
    )
    ledger.record_ingested(paths.ingested_ledger, record)
    known[sha] = record
    note = "header only: no rows" if rows.n == 0 else ""
    renamed = [f"{a!r} as {b!r}" for a, b in zip(header, columns, strict=True) if a != b]
    if renamed:
        note = "; ".join(filter(None, [note, "read " + ", ".join(renamed)]))
    return FileIngest(rel, "ingested", sha, batch_id, rows.n, rows.malformed, columns, note)


class _Rows:
    """A file's bronze rows as a stream of chunks, counted as they are written.

    Each ``reader`` call parses the file again from its bytes (a retried commit re-reads it), so
    at most one chunk of parsed rows is in memory however large the file.
    """

    def __init__(self, stream: SourceStream, names: dict[str, str]) -> None:
        self.stream = stream
        self.names = names
        self.n = 0
        self.malformed = 0

    def _tables(self) -> Iterator[pa.Table]:
        self.n = self.malformed = 0
        for chunk in self.stream.chunks():
            self.n += chunk.num_rows
            self.malformed += chunk.num_rows - chunk.column(MALFORMED).null_count
            yield chunk.rename_columns([self.names.get(c, c) for c in chunk.column_names])

    def count(self) -> None:
        for _ in self._tables():
            pass

    def reader(
        self, batch_id: str, rel: str, sha: str, now: datetime
    ) -> pa.RecordBatchReader | None:
        """The rows with their provenance columns, or None when the file holds no record."""
        tables = (_bronze_rows(t, batch_id, rel, sha, now) for t in self._tables())
        first = next(tables, None)
        if first is None:
            return None
        schema = first.schema
        rest = (b for t in tables for b in t.cast(schema).to_batches())
        return pa.RecordBatchReader.from_batches(schema, itertools.chain(first.to_batches(), rest))


def _canonical(stream: SourceStream, contract: Sequence[str], table_path: Path) -> dict[str, str]:
    """Bronze's name for each column of the file (raises SourceError on an ambiguity)."""
    dt = delta.table(table_path)
    held = [] if dt is None else [f.name for f in dt.schema().fields if f.name not in RESERVED]
    return bronze_names(stream.path, stream.columns, contract, held)


def _bronze_rows(table: pa.Table, batch_id: str, rel: str, sha: str, now: datetime) -> pa.Table:
    n = table.num_rows
    for name, value, typ in (
        ("_batch_id", batch_id, pa.string()),
        ("_source_file", rel, pa.string()),
        ("_source_sha256", sha, pa.string()),
        ("_ingested_at", now, pa.timestamp("us", tz="UTC")),
    ):
        table = table.append_column(name, pa.repeat(pa.scalar(value, typ), n))
    return table
