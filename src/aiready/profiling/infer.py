"""Infer a draft contract from a source file or from a dataset's bronze table.

Files are read by aiready's own readers (the strings ingest stores), bronze through its Delta
snapshot; both are profiled the way refine's gate will judge them.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from aiready.config.models import _FORMATS, DatasetConfig, SourceFormat
from aiready.contracts import compile_contract, load_contract
from aiready.errors import ContractError, SourceError
from aiready.profiling.draft import Draft, Kind, build, choose_key
from aiready.profiling.profile import profile_table
from aiready.sources.headers import bronze_names
from aiready.sources.readers import MALFORMED, RESERVED, read_source
from aiready.storage import delta

_META = (*RESERVED, "_ingested_at", "_batch_id", "_source_file", "_source_sha256")


def infer_file(
    path: Path,
    kind: Kind = "operational",
    name: str | None = None,
    fmt: SourceFormat | None = None,
    delimiter: str | None = None,
) -> Draft:
    """A draft contract for one CSV, JSONL or Parquet file; SourceError names the file."""
    suffix = path.suffix.lower()
    fmt = fmt or _FORMATS.get(suffix)
    if fmt is None:
        raise SourceError(
            f"cannot tell the format of {path.name!r}: give --format csv|jsonl|parquet",
            file=str(path),
        )
    if not path.is_file():
        raise SourceError(
            "a folder, not a file" if path.is_dir() else "no such file", file=str(path)
        )
    parsed = read_source(path, fmt, delimiter or ("\t" if suffix == ".tsv" else ","))
    bronze_names(path, parsed.columns, (), ())  # columns ingest would refuse (case twins)
    return _infer(parsed.table, parsed.columns, str(path), kind, name or _name(path.stem))


def infer_bronze(table_path: Path, ds: DatasetConfig, kind: Kind | None = None,
                 name: str | None = None) -> Draft:  # fmt: skip
    """A draft contract for dataset ``ds`` from its bronze table (the current snapshot)."""
    dataset = delta.dataset(table_path)
    if dataset is None:
        raise SourceError(
            f"dataset {ds.name!r} has no bronze table yet: run `aiready ingest {ds.name}`",
            file=str(table_path),
        )
    table = dataset.to_table()
    columns = [c for c in table.column_names if c not in _META]
    return _infer(
        table,
        columns,
        f"bronze.{ds.name}",
        kind or ds.kind,
        name or ds.name,
        ds.null_values,
        ds.integral_floats,
    )


def _name(stem: str) -> str:
    """A dataset name from a file name (letters, digits, underscore)."""
    cleaned = re.sub(r"\W+", "_", stem, flags=re.ASCII).strip("_") or "dataset"
    return f"_{cleaned}" if cleaned[0].isdigit() else cleaned


def _infer(
    table: pa.Table,
    columns: list[str],
    source: str,
    kind: Kind,
    name: str,
    null_values: tuple[str, ...] = (),
    integral_floats: bool = True,
) -> Draft:
    malformed = table.num_rows - table.column(MALFORMED).null_count
    good = table.filter(pc.is_null(table.column(MALFORMED)))
    if good.num_rows == 0:
        what = f"none of its {malformed} records could be parsed" if malformed else "no rows"
        raise SourceError(f"nothing to infer a contract from: {what}", file=source)
    if not columns:
        raise SourceError("no columns to profile", file=source)
    profiles = profile_table(good, columns, null_values, integral_floats)
    key, reason = choose_key(profiles)
    if kind == "strategic" and key is None:
        raise SourceError(
            "a strategic dataset needs a primary key, and no integer or text column is "
            "unique and non-null in every row",
            file=source,
        )
    draft = Draft(name, source, good.num_rows, malformed, kind, profiles, key.name if key else None)
    draft = build(draft, reason)
    check(draft)
    return draft


def check(draft: Draft) -> None:
    """The draft loads and compiles as aiready will load it (a bug here is ours, not the data's)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{draft.name}.odcs.yaml"
        path.write_text(draft.text, encoding="utf-8")
        try:
            compile_contract(load_contract(path), draft.name)
        except ContractError as exc:
            raise ContractError(
                f"the inferred draft does not load: {exc.message}", file=draft.source
            ) from exc
