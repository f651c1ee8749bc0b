"""Export a contract as SQL DDL, a dbt schema.yml, a JSON Schema of a row or a pydantic model.

Each export is derived from the compiled contract, so it states what aiready enforces; a rule a
format cannot state is listed as a note (a SQL comment, dbt `meta`, `x-aiready-notes`).

Examples:
  aiready contract export contracts/orders.odcs.yaml --format sql --dialect postgres
  aiready contract export contracts/orders.odcs.yaml --format dbt -o models/schema.yml
  aiready contract export contracts/orders.odcs.yaml --format jsonschema --dataset orders
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aiready.cli._common import JsonOpt, emit_json
from aiready.contracts import load_contract
from aiready.contracts.export import EXPORT_FORMATS, SQL_DIALECTS, export_contract


def export(
    contract: Annotated[Path, typer.Argument(help="The ODCS v3 contract file.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of {', '.join(EXPORT_FORMATS)}.")
    ],
    dialect: Annotated[
        str,
        typer.Option(help=f"SQL dialect for sql and dbt: {', '.join(SQL_DIALECTS)}."),
    ] = "duckdb",
    dataset: Annotated[
        str | None, typer.Option(help="Only this schema object (default: every one).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    as_json: JsonOpt = False,
) -> int:
    text = export_contract(load_contract(contract), fmt, dialect=dialect, dataset=dataset)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    if as_json:
        emit_json({"ok": True, "format": fmt, "dialect": dialect, "output": output, "text": text})
    elif output is None:
        typer.echo(text, nl=False)
    return 0
