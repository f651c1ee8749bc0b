"""The catalog: datasets and gold models, their columns, owners, terms, quality and certification.

Examples:
  aiready catalog list
  aiready catalog show customers --json
  aiready catalog search ltv
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aiready.catalog import catalog as build_catalog
from aiready.catalog import entry
from aiready.catalog import search as search_catalog
from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.command("list")
def list_(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Every dataset and model, one line each."""
    rows = build_catalog(load(workspace))
    if as_json:
        emit_json(rows)
        return 0
    table = Table(title="catalog")
    for col in ("name", "layer", "kind", "domain", "rows", "owners", "description"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            r.get("layer", ""),
            r.get("kind", ""),
            str(r.get("domain") or ""),
            str(r.get("rows", "")),
            ", ".join(r.get("owners", [])),
            r.get("description", r.get("error", "")),
        )
    console.print(table)
    return 0


@app.command()
def show(
    name: Annotated[str, typer.Argument()], workspace: WorkspaceOpt = None, as_json: JsonOpt = False
) -> int:
    """One entry with its columns, terms, quality and certification."""
    e = entry(load(workspace), name)
    if as_json:
        emit_json(e)
        return 0
    console.print(f"[bold]{e['layer']}.{e['name']}[/] ({e['kind']}) — {e['description']}")
    table = Table()
    for col in ("column", "type", "description", "classification", "terms"):
        table.add_column(col)
    for c in e["columns"]:
        table.add_row(
            c["name"],
            str(c["physical_type"] or c["logical_type"]),
            c["description"],
            str(c["classification"] or ""),
            ", ".join(t["term"] for t in c["terms"]),
        )
    console.print(table)
    for gap in e["gaps"]:
        console.print(f"[yellow]! {gap}[/]")
    return 0


@app.command()
def search(
    text: Annotated[str, typer.Argument()], workspace: WorkspaceOpt = None, as_json: JsonOpt = False
) -> int:
    """Entries mentioning TEXT in names, descriptions, columns, tags or glossary terms."""
    hits = search_catalog(load(workspace), text)
    if as_json:
        emit_json(hits)
    else:
        for hit in hits:
            console.print(f"{hit['layer']}.{hit['name']}: {', '.join(hit['matched'])}")
    return 0
