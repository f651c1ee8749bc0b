"""DuckDB-dialect SQL → Spark SQL with sqlglot, plus the rewrites that keep the *meaning*.

sqlglot maps names and syntax; a few DuckDB functions have no Spark twin with the same semantics,
so they are rewritten here:

- ``regexp_full_match(s, p)`` → ``s RLIKE '^(?:p)\\z'`` (RLIKE alone is a partial match, and
  Java's ``$`` also matches before a final line break);
- ``isfinite(x)`` → ``NOT isnan(x) AND abs(x) <> 'Infinity'``;
- ``json_valid(s)`` → ``try_parse_json(s) IS NOT NULL``;
- ``AS MATERIALIZED`` CTE hints are dropped (Spark decides; the gate materialises explicitly).
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp


def to_spark(sql: str) -> str:
    """Spark SQL for one DuckDB-dialect statement."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(_rewrite).sql("spark")


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.CTE) and node.args.get("materialized") is not None:
        node.set("materialized", None)
        return node
    if isinstance(node, exp.RegexpFullMatch):
        return exp.RegexpLike(this=node.this, expression=_anchored(node.expression))
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        args = node.expressions
        if name == "isfinite" and len(args) == 1:
            x = args[0]
            infinite = exp.cast(exp.Literal.string("Infinity"), exp.DataType.Type.DOUBLE)
            return exp.paren(
                exp.and_(
                    exp.not_(exp.func("isnan", x.copy())),
                    exp.NEQ(this=exp.func("abs", x.copy()), expression=infinite),
                )
            )
        if name == "json_valid" and len(args) == 1:
            return exp.paren(exp.not_(exp.func("try_parse_json", args[0].copy()).is_(exp.null())))
    return node


def _anchored(pattern: exp.Expression) -> exp.Expression:
    if isinstance(pattern, exp.Literal) and pattern.is_string:
        return exp.Literal.string(f"^(?:{pattern.this})\\z")
    return exp.Concat(
        expressions=[exp.Literal.string("^(?:"), pattern.copy(), exp.Literal.string(")\\z")]
    )
