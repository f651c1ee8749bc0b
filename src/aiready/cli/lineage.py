"""Where data came from and where it went: source files, bronze batches, versions, columns.

Examples:
  aiready lineage customer_value --version 7 --column total_spent
  aiready lineage silver.payments --downstream
  aiready lineage data/payments_2026-01.csv          (a source file: what it reached)
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.tree import Tree

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def lineage(
    name: Annotated[str, typer.Argument(help="Dataset, model, layer.table or source file.")],
    version: Annotated[int | None, typer.Option("--version", help="Delta version.")] = None,
    column: Annotated[str | None, typer.Option("--column", help="Follow one column.")] = None,
    upstream: Annotated[
        bool, typer.Option("--upstream/--downstream", help="Walk towards sources or consumers.")
    ] = True,
    as_json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> int:
    graph = load(workspace).lineage_of(name, version, column, downstream=not upstream)
    if as_json:
        emit_json(graph)
    else:
        tree = Tree(_label(graph))
        _grow(tree, graph)
        console.print(tree)
    return 0


def _label(node: dict[str, Any]) -> str:
    text = f"[bold]{node['dataset']}[/bold]"
    if node.get("version") is not None:
        text += f" v{node['version']}"
    if node.get("sha256"):
        text += f" sha256:{node['sha256'][:12]}"
    if node.get("column"):
        text += f" [cyan].{node['column']}[/cyan]"
    if node.get("shown_above"):
        text += " [dim](shown above)[/dim]"
    if node.get("batches"):
        shown = ", ".join(node["batches"][:3]) + (" …" if len(node["batches"]) > 3 else "")
        text += f" [dim]batches {shown}[/dim]"
    return text


def _grow(tree: Tree, node: dict[str, Any]) -> None:
    for run in node.get("produced_by", []) + node.get("consumed_by", []):
        branch = tree.add(f"[magenta]{run['job']}[/magenta] [dim]{run['time'][:19]}[/dim]")
        for child in run.get("inputs", []) + run.get("outputs", []):
            _grow(branch.add(_label(child)), child)
