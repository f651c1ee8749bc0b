"""Column lineage of a gold model, from its SQL with sqlglot's lineage (through CTEs and joins)."""

from __future__ import annotations

import logging

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.lineage import lineage

log = logging.getLogger(__name__)

Schema = dict[str, dict[str, dict[str, str]]]
"""``{"silver": {"payments": {"amount": "DOUBLE", …}}, "gold": {…}}``."""


def column_lineage(
    sql: str, columns: list[str], schema: Schema
) -> dict[str, list[tuple[str, str]]]:
    """Output column → the ``(layer.table, column)`` pairs its value is computed from.

    Columns used only to filter or join are included where sqlglot ties them to the column
    (e.g. ``sum(x) FILTER (WHERE status = …)`` depends on ``status``). A column sqlglot cannot
    trace is left out rather than guessed.
    """
    out: dict[str, list[tuple[str, str]]] = {}
    for column in columns:
        try:
            node = lineage(column, sql, schema=schema, dialect="duckdb")
        except (SqlglotError, KeyError, ValueError) as exc:
            log.info("no column lineage for %s: %s", column, exc)
            continue
        sources: set[tuple[str, str]] = set()
        for leaf in node.walk():
            if leaf.downstream or not isinstance(leaf.expression, exp.Table):
                continue
            table = leaf.expression
            if table.db:
                sources.add((f"{table.db}.{table.name}", leaf.name.rsplit(".", 1)[-1]))
        out[column] = sorted(sources)
    return out


def direct_source(sql: str, column: str, schema: Schema) -> tuple[str, str] | None:
    """The ``(layer.table, column)`` that output ``column`` copies unchanged, else None
    (a function, an expression or more than one source on the way)."""
    try:
        node = lineage(column, sql, schema=schema, dialect="duckdb")
    except (SqlglotError, KeyError, ValueError):
        return None
    while node.downstream:
        expr = node.expression
        expr = expr.this if isinstance(expr, exp.Alias) else expr
        if len(node.downstream) != 1 or not isinstance(expr, exp.Column):
            return None
        node = node.downstream[0]
    table = node.expression
    if isinstance(table, exp.Table) and table.db:
        return f"{table.db}.{table.name}", node.name.rsplit(".", 1)[-1]
    return None
