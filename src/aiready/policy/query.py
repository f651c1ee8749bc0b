"""Governed SQL: every table and column a query touches is authorised, then served through views
that apply row filters and column masks before any value reaches the query.

* One read-only SELECT (UNIONs, CTEs and subqueries allowed); anything that writes is refused.
* Only ``silver.<dataset>`` and ``gold.<model>`` (or their bare names); table functions, files and
  functions that read the environment or settings are refused.
* ``SELECT *`` is expanded and every column is resolved in every scope (sqlglot ``qualify``); each
  table needs a ``query`` permit, and so does each column used anywhere in the query.
* Masks and row filters come from ``policies/access.yaml``::

      masks:            # redact | hash | partial; PII columns without an entry are redacted
        customers.email: partial
      row_filters:      # DuckDB SQL; principal.<attr> is the principal's attribute
        payments: "card_country = principal.region"

  A principal permitted ``read`` on a column sees it unmasked, and one permitted ``read`` on a
  dataset sees all of its rows; everyone else gets the masked, filtered view. The user's tables are
  replaced by those views, so no predicate, join or function can see the raw values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from aiready.engines.duckdb.sql import ident, lit
from aiready.engines.runner import connect
from aiready.policy import audit
from aiready.policy.access import access_rules, bind_principal, mask_for, mask_sql
from aiready.policy.engine import Decision
from aiready.policy.errors import AccessDenied, PolicyError
from aiready.storage import delta

if TYPE_CHECKING:
    from aiready.workspace.workspace import Workspace

DENIED_FUNCTIONS = {
    "getenv",
    "current_setting",
    "getvariable",
    "which_secret",
    "read_text",
    "read_blob",
    "load_extension",
}


@dataclass
class QueryResult:
    """Rows that left the engine after policy, and how they were governed."""

    table: pa.Table
    decisions: list[Decision]
    masked: dict[str, str] = field(default_factory=dict)
    """``dataset.column`` → mask applied."""
    filtered: dict[str, str] = field(default_factory=dict)
    """dataset → row filter applied."""

    def asdict(self) -> dict[str, Any]:
        return {
            "rows": self.table.to_pylist(),
            "masked": self.masked,
            "filtered": self.filtered,
            "decisions": [d.asdict() for d in self.decisions],
        }


def _parse(sql: str) -> exp.Query:
    try:
        statements = sqlglot.parse(sql, dialect="duckdb")
    except ParseError as exc:
        raise PolicyError(f"query does not parse: {exc.errors[0]['description']}") from exc
    except SqlglotError as exc:  # e.g. a TokenError on an unterminated comment or string
        raise PolicyError(f"query does not parse: {exc}") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise PolicyError("only one read-only SELECT query is allowed; writes are refused")
    tree = statements[0]
    for node in tree.walk():
        if (
            isinstance(node, exp.Anonymous | exp.Func)
            and node.sql_name().lower() in DENIED_FUNCTIONS
        ):
            raise PolicyError(f"function {node.sql_name().lower()} is not allowed in queries")
        if isinstance(node, exp.Anonymous) and str(node.name).lower() in DENIED_FUNCTIONS:
            raise PolicyError(f"function {str(node.name).lower()} is not allowed in queries")
    return tree


def _resolve(ws: Workspace, table: exp.Table) -> tuple[str, str]:
    """(layer, name) for a table reference; anything else is refused."""
    if not isinstance(table.this, exp.Identifier):
        raise PolicyError(
            f"{table.sql('duckdb')} is not a table: queries read only "
            "silver.<dataset> and gold.<model>"
        )
    layer, name = table.db, table.name
    if not layer:
        layer = "silver" if name in ws.config.datasets else "gold"
    known = ws.config.datasets if layer == "silver" else ws.config.models if layer == "gold" else {}
    if name not in known or table.catalog:
        raise PolicyError(
            f"unknown table {table.sql('duckdb')}: queries read only "
            "silver.<dataset> and gold.<model>"
        )
    return layer, name


def _snapshot_files(ws: Workspace, layer: str, name: str) -> tuple[list[str], list[str]]:
    if layer == "gold":
        from aiready.certification.certify import certified_version

        dt = delta.table(ws.paths.table("gold", name), certified_version(ws.paths, name))
    else:
        dt = delta.table(ws.paths.table("silver", name))
    if dt is None:
        raise PolicyError(f"{layer}.{name} has no data yet", table=f"{layer}.{name}")
    return list(dt.file_uris()), list(pa.schema(dt.schema().to_arrow()).names)


def governed_query(
    ws: Workspace, sql: str, principal: str, purpose: str, limit: int | None = None
) -> QueryResult:
    """Run ``sql`` for ``principal`` and ``purpose`` under policy; refuse with a clear error."""
    engine = ws.policy
    engine.principal_uid(principal)  # unknown principal: error before anything is read
    if not purpose or not purpose.strip():
        raise PolicyError("a purpose is required for every query", principal=principal)
    tree = _parse(sql)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    sources: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for table in tree.find_all(exp.Table):
        if not table.db and table.name in ctes:
            continue
        layer, name = _resolve(ws, table)
        sources.setdefault((layer, name), _snapshot_files(ws, layer, name))
        table.set("db", exp.to_identifier(layer))
    schema: dict[str, object] = {}
    for (layer, name), (_, columns) in sources.items():
        tables = schema.setdefault(layer, {})
        assert isinstance(tables, dict)
        tables[name] = {c: "UNKNOWN" for c in columns if not c.startswith("_")}
    try:
        tree = qualify(
            tree, schema=schema, dialect="duckdb", expand_stars=True, validate_qualify_columns=True
        )
    except (OptimizeError, SqlglotError) as exc:
        raise PolicyError(f"query cannot be resolved against the catalog: {exc}") from exc
    used = _columns_used(tree)
    decisions = [engine.decide(principal, "query", name, purpose) for _, name in sources]
    decisions += [
        engine.decide(principal, "query", f"{name}.{col}", purpose)
        for (_, name), cols in used.items()
        for col in sorted(cols)
    ]
    audit.append(ws.audit_path, ws.paths.locks, decisions)
    denied = [d for d in decisions if not d.allowed]
    if denied:
        first = denied[0]
        raise AccessDenied(
            f"{principal} may not query {first.resource} for {purpose!r}: {first.reason}",
            principal=principal,
            resource=first.resource,
            purpose=purpose,
            policies=",".join(first.policies) or None,
        )
    return _run(ws, tree, sources, used, principal, purpose, decisions, limit)


def _columns_used(tree: exp.Expr) -> dict[tuple[str, str], set[str]]:
    """(layer, dataset) → every column the query reads from it, in any scope."""
    used: dict[tuple[str, str], set[str]] = {}
    for scope in traverse_scope(tree):
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table) and source.db in ("silver", "gold"):
                used.setdefault((source.db, source.name), set()).add(column.name)
    return used


def _run(
    ws: Workspace,
    tree: exp.Expr,
    sources: dict[tuple[str, str], Any],
    used: dict[tuple[str, str], set[str]],
    principal: str,
    purpose: str,
    decisions: list[Decision],
    limit: int | None,
) -> QueryResult:
    engine = ws.policy
    access = access_rules(ws)
    attrs: dict[str, Any] = next(
        (e["attrs"] for e in engine.principal_list if e["uid"]["id"] == principal), {}
    )
    con = connect()
    result = QueryResult(pa.table({}), decisions)
    extra: list[Decision] = []  # the `read` decisions behind masks and filters, audited too
    for (layer, name), (files, _) in sources.items():
        cols = sorted(used.get((layer, name), set()))
        projections = []
        for col in cols:
            expr = ident(col)
            mask = mask_for(ws, access, name, col)
            if mask and not _read(engine, principal, f"{name}.{col}", purpose, extra).allowed:
                expr = mask_sql(expr, mask)
                result.masked[f"{name}.{col}"] = mask
            projections.append(f"{expr} AS {ident(col)}")
        where = "TRUE"
        row_filter = (access.get("row_filters") or {}).get(name)
        if row_filter and not _read(engine, principal, name, purpose, extra).allowed:
            where = bind_principal(str(row_filter), attrs)
            result.filtered[name] = where
        listed = ", ".join(lit(f) for f in files)
        body = ", ".join(projections) or "1 AS __none"
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {layer}")
        con.execute(
            f"CREATE VIEW {layer}.{ident(name)} AS SELECT {body} FROM "
            f"read_parquet([{listed}], union_by_name = true) WHERE {where}"
        )
    audit.append(ws.audit_path, ws.paths.locks, extra)
    result.decisions = decisions + extra
    query = tree.sql("duckdb")
    if limit is not None:
        query = f"SELECT * FROM ({query}) LIMIT {int(limit)}"
    try:
        result.table = con.sql(query).to_arrow_table()
    except duckdb.Error as exc:  # valid for sqlglot, refused by DuckDB: a clear error, not a crash
        first = str(exc).splitlines()[0]
        raise PolicyError(f"query failed: {first}") from exc
    return result


def _read(
    engine: Any, principal: str, resource: str, purpose: str, decisions: list[Decision]
) -> Decision:
    decision: Decision = engine.decide(principal, "read", resource, purpose)
    decisions.append(decision)
    return decision
