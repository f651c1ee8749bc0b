"""Infer a draft ODCS contract from data: a CSV, JSONL or Parquet file, or a dataset's bronze.

Types are the narrowest the gate converts exactly for every non-null value; nullability,
a primary-key candidate, small value sets, ranges, lengths, common formats, missing-value tokens
(NA, N/A, NULL …) and PII tags follow, each with a comment saying what it rests on. Applied to
the data it came from, the draft quarantines nothing. Prints the YAML unless -o is given.

Examples:
  aiready contract infer data/orders.csv -o contracts/orders.odcs.yaml
  aiready contract infer customers --kind strategic     # a dataset's bronze table
  aiready contract infer events.jsonl --dataset events --json
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.config.models import SourceFormat
from aiready.errors import ConfigError, SourceError
from aiready.profiling import Draft, infer_bronze, infer_file
from aiready.profiling.draft import Kind

_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def infer(
    source: Annotated[str, typer.Argument(help="A CSV/JSONL/Parquet file, or a dataset name.")],
    kind: Annotated[
        Kind | None,
        typer.Option(
            "--kind",
            help="operational or strategic (default: the dataset's, else "
            "operational); strategic needs a primary key and adds an owner.",
        ),
    ] = None,  # fmt: skip
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the draft here.")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Schema object name (default: from SOURCE).")
    ] = None,
    fmt: Annotated[
        SourceFormat | None,
        typer.Option("--format", help="csv, jsonl or parquet (default: from the extension)."),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="CSV delimiter (default , or tab for .tsv).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing -o file.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    if output is not None and output.exists() and not force:
        raise SourceError("output file exists: pass --force to replace it", file=str(output))
    draft = _draft(source, kind, dataset, fmt, delimiter, workspace)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(draft.text, encoding="utf-8")
    if as_json:
        emit_json({"ok": True, "file": str(output) if output else None, **draft.asdict()})
    elif output is None:
        sys.stdout.write(draft.text)
    else:
        key = f"primary key {draft.primary_key}" if draft.primary_key else "no primary key"
        console.print(
            f"wrote {output}: {len(draft.profiles)} columns from {draft.rows} rows, {key}",
            markup=False,
        )
    return 0


def _draft(
    source: str,
    kind: Kind | None,
    name: str | None,
    fmt: SourceFormat | None,
    delimiter: str | None,
    workspace: Path | None,
) -> Draft:
    """A file when SOURCE is one (or names one by its extension), else a workspace dataset."""
    path = Path(source)
    if path.exists() or fmt is not None or path.suffix.lower() in _SUFFIXES:
        return infer_file(path, kind or "operational", name, fmt, delimiter)
    try:
        ws = load(workspace)
    except ConfigError as exc:
        raise SourceError(
            f"{source!r} is neither a file nor a dataset of a workspace ({exc.message})",
            file=source,
        ) from exc
    ds = ws.dataset(source)
    return infer_bronze(ws.paths.table("bronze", ds.name), ds, kind, name)
