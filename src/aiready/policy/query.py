"""Governed SQL: every table and column a query touches is authorised, then the query runs in a
sandbox that holds nothing but the permitted, masked and row-filtered data.

* One read-only SELECT (UNIONs, CTEs, subqueries and LATERAL subqueries allowed).
* Every FROM/JOIN item, in every scope, is a CTE visible in that scope or ``silver.<dataset>`` /
  ``gold.<model>`` (or their bare names); table functions, file paths, time travel and
  functions that read the environment or settings are refused before anything runs.
* ``SELECT *`` is expanded and every column is resolved in every scope (sqlglot ``qualify``); each
  table needs a ``query`` permit, and so does each column used anywhere in the query.
* Masks and row filters come from ``policies/access.yaml``::

      masks:            # redact | hash | partial; PII columns without an entry are redacted
        customers.email: partial
      row_filters:      # DuckDB SQL; principal.<attr> is the principal's attribute
        payments: "card_country = principal.region"

  A principal permitted ``read`` on a column sees it unmasked, and one permitted ``read`` on a
  dataset sees all of its rows; everyone else gets the masked, filtered relation.

The checks above give clear errors; they are not what keeps data safe. That is the sandbox
(``policy/sandbox.py``): the query runs in a DuckDB connection without file-system access whose
only relations are, per table, the used columns after masks and row filters were applied outside
it. A query shape the checks did not foresee can still only see those relations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlglot
from deltalake import DeltaTable
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from aiready.config.models import WorkspaceConfig
from aiready.config.paths import Paths
from aiready.jsonvalues import json_rows
from aiready.policy import audit, sandbox, views
from aiready.policy.access import access_rules, bind_principal
from aiready.policy.context import PolicyContext
from aiready.policy.engine import Decision
from aiready.policy.errors import AccessDenied, PolicyError
from aiready.policy.protection import mask_for
from aiready.storage import delta
from aiready.storage.secret import load_secret

# Defence in depth: the sandbox cannot reach files or settings anyway, but these name the
# environment, and a clear refusal is better than an engine error.
DENIED_FUNCTIONS = {
    "getenv",
    "current_setting",
    "getvariable",
    "which_secret",
    "read_text",
    "read_blob",
    "load_extension",
    "query",
    "query_table",
    "glob",
    "sql_auto_complete",
}
DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "parquet_", "iceberg_", "delta_")
TABLE_ARGS = {"this", "db", "alias", "sample"}
"""What a table reference may carry: no catalog, time travel (``AT``), hints or pivots."""


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
            "rows": json_rows(self.table.to_pylist()),
            "masked": self.masked,
            "filtered": self.filtered,
            "decisions": [d.asdict() for d in self.decisions],
        }


def _function_name(node: exp.Expr) -> str | None:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return None


def _parse(sql: str) -> exp.Query:
    try:
        statements = sqlglot.parse(sql, dialect="duckdb")
    except ParseError as exc:
        raise PolicyError(f"query does not parse: {exc.errors[0]['description']}") from None
    except SqlglotError as exc:  # e.g. a TokenError on an unterminated comment or string
        raise PolicyError(f"query does not parse: {exc}") from None
    except RecursionError:
        raise PolicyError("query nests too deeply to be checked; flatten it") from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise PolicyError("only one read-only SELECT query is allowed; writes are refused")
    tree = statements[0]
    for node in tree.walk():
        name = _function_name(node)
        if name and (name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES)):
            raise PolicyError(f"function {name} is not allowed in queries")
        if isinstance(node, exp.Lateral) and not isinstance(node.this, exp.Subquery):
            raise PolicyError(
                f"LATERAL {node.this.sql('duckdb')} is not allowed: LATERAL takes a subquery"
            )
    return tree


def _table_refs(tree: exp.Query) -> list[exp.Table]:
    """Every table reference that is not a CTE visible in its scope; anything else is refused.

    sqlglot's scopes resolve a name to a CTE only where that CTE is visible, so a reference named
    like a CTE of another scope is a table reference here, and must be a governed table.
    """
    try:
        scopes = traverse_scope(tree)
    except (OptimizeError, SqlglotError) as exc:
        raise PolicyError(f"query cannot be resolved: {exc}") from None
    real: dict[int, exp.Table] = {}
    ctes: set[int] = set()
    for scope in scopes:
        for table in scope.tables:
            if not table.db and isinstance(scope.cte_sources.get(table.name), Scope):
                ctes.add(id(table))
            else:
                real[id(table)] = table
    for table in tree.find_all(exp.Table):
        if id(table) not in real and id(table) not in ctes:
            raise PolicyError(f"{table.sql('duckdb')} cannot be resolved to a table or CTE")
    return [t for t in real.values() if id(t) not in ctes]


def _resolve(config: WorkspaceConfig, table: exp.Table) -> tuple[str, str]:
    """(layer, name) for a table reference; anything else is refused."""
    refused = sorted(k for k, v in table.args.items() if v and k not in TABLE_ARGS)
    if not isinstance(table.this, exp.Identifier) or refused:
        raise PolicyError(
            f"{table.sql('duckdb')} is not a plain table reference: queries read only "
            "silver.<dataset> and gold.<model>"
        )
    layer, name = table.db, table.name
    if not layer:
        layer = "silver" if name in config.datasets else "gold"
    known = config.datasets if layer == "silver" else config.models if layer == "gold" else {}
    if name not in known:
        raise PolicyError(
            f"unknown table {table.sql('duckdb')}: queries read only "
            "silver.<dataset> and gold.<model>"
        )
    return layer, name


def _snapshot(paths: Paths, layer: str, name: str) -> tuple[DeltaTable, list[str]]:
    if layer == "gold":
        from aiready.certification.certify import certified_version

        dt = delta.table(paths.table("gold", name), certified_version(paths, name))
    else:
        dt = delta.table(paths.table("silver", name))
    if dt is None:
        raise PolicyError(f"{layer}.{name} has no data yet", table=f"{layer}.{name}")
    return dt, list(pa.schema(dt.schema().to_arrow()).names)


def _parse_and_check(ctx: PolicyContext, sql: str) -> tuple[exp.Expr, dict[tuple[str, str], Any]]:
    tree = _parse(sql)
    sources: dict[tuple[str, str], tuple[DeltaTable, list[str]]] = {}
    for table in _table_refs(tree):
        layer, name = _resolve(ctx.config, table)
        if (layer, name) not in sources:
            sources[(layer, name)] = _snapshot(ctx.paths, layer, name)
        table.set("db", exp.to_identifier(layer))
    schema: dict[str, Any] = {}
    for (layer, name), (_, columns) in sources.items():
        visible = {c: "UNKNOWN" for c in columns if not c.startswith("_")}
        schema.setdefault(layer, {})[name] = visible
    try:
        qualified = qualify(
            tree,
            schema=dict(schema),
            dialect="duckdb",
            expand_stars=True,
            validate_qualify_columns=True,
        )
    except (OptimizeError, SqlglotError) as exc:
        raise PolicyError(f"query cannot be resolved against the catalog: {exc}") from None
    except RecursionError:
        raise PolicyError("query nests too deeply to be checked; flatten it") from None
    return qualified, sources


def governed_query(
    ctx: PolicyContext,
    sql: str,
    principal: str,
    purpose: str,
    limit: int | None = None,
    timeout_s: float | None = None,
) -> QueryResult:
    """Run ``sql`` for ``principal`` and ``purpose`` under policy; refuse with a clear error."""
    engine = ctx.engine
    engine.principal_uid(principal)  # unknown principal: error before anything is read
    if not purpose or not purpose.strip():
        raise PolicyError("a purpose is required for every query", principal=principal)
    tree, sources = _parse_and_check(ctx, sql)
    used = _columns_used(tree)
    decisions = [engine.decide(principal, "query", name, purpose) for _, name in sources]
    decisions += [
        engine.decide(principal, "query", f"{name}.{col}", purpose)
        for (_, name), cols in used.items()
        for col in sorted(cols)
    ]
    audit.append(ctx.audit_path, ctx.paths.locks, decisions)
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
    result = QueryResult(pa.table({}), decisions)
    relations = _relations(ctx, sources, used, principal, purpose, result)
    for table in tree.find_all(exp.Table):
        if table.db in ("silver", "gold") and (table.db, table.name) in sources:
            table.set("this", exp.to_identifier(_relation_name(table.db, table.name)))
            table.set("db", None)
    query = tree.sql("duckdb")
    if limit is not None:
        query = f"SELECT * FROM ({query}) LIMIT {int(limit)}"
    con = sandbox.open_sandbox(relations)
    result.table = sandbox.run(con, query, timeout_s or ctx.config.query_timeout_s)
    return result


def _relation_name(layer: str, name: str) -> str:
    return f"{layer}__{name}"


def _columns_used(tree: exp.Expr) -> dict[tuple[str, str], set[str]]:
    """(layer, dataset) → every column the query reads from it, in any scope."""
    used: dict[tuple[str, str], set[str]] = {}
    for scope in traverse_scope(tree):
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table) and source.db in ("silver", "gold"):
                used.setdefault((source.db, source.name), set()).add(column.name)
    return used


def _relations(
    ctx: PolicyContext,
    sources: dict[tuple[str, str], tuple[DeltaTable, list[str]]],
    used: dict[tuple[str, str], set[str]],
    principal: str,
    purpose: str,
    result: QueryResult,
) -> dict[str, Any]:
    """Per table, what the principal may see of the used columns: masked, filtered, nothing else."""
    engine = ctx.engine
    access = access_rules(ctx.root, engine)
    attrs: dict[str, Any] = next(
        (e["attrs"] for e in engine.principal_list if e["uid"]["id"] == principal), {}
    )
    extra: list[Decision] = []  # the `read` decisions behind masks and filters, audited too
    ring = load_secret(ctx.paths.state)
    relations: dict[str, Any] = {}
    for (layer, name), (dt, _) in sources.items():
        cols = sorted(used.get((layer, name), set()))
        masks: dict[str, str] = {}
        for col in cols:
            mask = mask_for(ctx, access, name, col)
            if mask and not _read(engine, principal, f"{name}.{col}", purpose, extra).allowed:
                masks[col] = mask
                result.masked[f"{name}.{col}"] = mask
        where = None
        row_filter = (access.get("row_filters") or {}).get(name)
        if row_filter and not _read(engine, principal, name, purpose, extra).allowed:
            where = bind_principal(str(row_filter), attrs)
            result.filtered[name] = where
        relations[_relation_name(layer, name)] = views.relation(dt, cols, masks, where, ring)
    audit.append(ctx.audit_path, ctx.paths.locks, extra)
    result.decisions = result.decisions + extra
    return relations


def _read(
    engine: Any, principal: str, resource: str, purpose: str, decisions: list[Decision]
) -> Decision:
    decision: Decision = engine.decide(principal, "read", resource, purpose)
    decisions.append(decision)
    return decision
