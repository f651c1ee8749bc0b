"""Quoting for the DuckDB SQL aiready writes itself: identifiers and literals, quoted by sqlglot.

A low module on purpose: engines, governed queries and retrieval all build SQL text, and none of
them should import another's internals to quote a name.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp


def ident(name: str) -> str:
    """A quoted DuckDB identifier.

    >>> ident("order id")
    '"order id"'
    """
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def lit(value: Any) -> str:
    """A DuckDB literal for a Python scalar.

    >>> [lit(None), lit(True), lit(3), lit("it's")]
    ['NULL', 'TRUE', '3', "'it''s'"]
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return exp.Literal.number(value).sql("duckdb")
    return exp.Literal.string(str(value)).sql("duckdb")
