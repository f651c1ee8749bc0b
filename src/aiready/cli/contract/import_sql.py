"""Import SQL DDL as a draft ODCS v3 contract: one schema object per CREATE TABLE.

Names, types, NOT NULL, primary key, UNIQUE, comments and CHECK constraints (as SQL rules) are
read with sqlglot in the DDL's dialect. The draft loads with aiready; review it before use.

Examples:
  aiready contract import --format sql schema.sql -o contracts/orders.odcs.yaml
  aiready contract import --format sql bq_tables.sql --dialect bigquery
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aiready.cli._common import JsonOpt, emit_json
from aiready.contracts.export import SQL_DIALECTS
from aiready.contracts.importer import import_sql_file, to_yaml
from aiready.errors import ContractError


def import_sql(
    file: Annotated[Path, typer.Argument(help="The .sql file with CREATE TABLE statements.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="Only sql for now.")] = "sql",
    dialect: Annotated[
        str, typer.Option(help=f"Dialect of the DDL: {', '.join(SQL_DIALECTS)}.")
    ] = "duckdb",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the contract here.")
    ] = None,
    as_json: JsonOpt = False,
) -> int:
    if fmt != "sql":
        raise ContractError(f"unknown import format {fmt!r}; choose sql", file=str(file))
    contract = import_sql_file(file, dialect=dialect)
    text = to_yaml(contract)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    if as_json:
        emit_json({"ok": True, "output": output, "contract": contract})
    elif output is None:
        typer.echo(text, nl=False)
    return 0
