"""Masks and row filters from ``policies/access.yaml``, shared by governed queries and retrieval.

Cedar decides *whether* a principal may use a column or a dataset; this file says *how* it is
shown to those not permitted ``read``: which mask hides a column, which rows a filter keeps.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlglot
import yaml
from sqlglot import exp

from aiready.policy.errors import PolicyError
from aiready.policy.lint import check_access, raise_first

if TYPE_CHECKING:
    from aiready.policy.engine import PolicyEngine

ACCESS_FILE = "policies/access.yaml"


def access_rules(root: Path, engine: PolicyEngine) -> dict[str, Any]:
    """``policies/access.yaml`` under ``root``: masks and row filters (empty when there is none),
    checked against ``engine``'s principals and resources."""
    path = root / ACCESS_FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    rules = _parse(path, stat.st_mtime_ns, stat.st_size)
    _check(root, stat.st_mtime_ns, stat.st_size, engine)
    return rules


@lru_cache(maxsize=16)
def _check(root: Path, mtime_ns: int, size: int, engine: PolicyEngine) -> bool:
    """Checked once per version of the file and of the engine (principals, contracts)."""
    raise_first(check_access(root, engine.principal_list, engine.resource_list))
    return True


@lru_cache(maxsize=16)
def _parse(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """Parsed once per version of the file: an edit takes effect at the next request."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"access file is not valid YAML: {exc}", file=str(path)) from exc
    return dict(data)


def _hmac_sql(expr: str, key: bytes) -> str:
    """HMAC-SHA256 of ``expr``'s text under ``key`` (RFC 2104), in DuckDB SQL, as hex.

    Keyed, so a caller who guesses a value cannot confirm it with ``sha256('guess')``; equal
    values still hash equal, so joins and counts on the masked column keep working.
    """
    block = key.ljust(64, b"\0") if len(key) <= 64 else hashlib.sha256(key).digest().ljust(64)
    inner = bytes(b ^ 0x36 for b in block).hex()
    outer = bytes(b ^ 0x5C for b in block).hex()
    text = f"encode(CAST({expr} AS VARCHAR))"
    return f"sha256(from_hex('{outer}') || unhex(sha256(from_hex('{inner}') || {text})))"


def mask_sql(expr: str, kind: str, key: bytes) -> str:
    """The SQL that shows ``expr`` masked the ``kind`` way (``key``: the workspace secret)."""
    if kind == "hash":
        if len(key) < 32:
            raise PolicyError("a hash mask needs the workspace secret (32 bytes or more)")
        return _hmac_sql(expr, key)
    if kind == "partial":  # keep the first and the last character
        text = f"CAST({expr} AS VARCHAR)"
        kept = f"left({text}, 1) || '***' || right({text}, 1)"
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE {kept} END"
    return "'[REDACTED]'"


def bind_principal(condition: str, attrs: dict[str, Any]) -> str:
    """Replace ``principal.<attr>`` with the principal's value (NULL when absent: no rows)."""
    tree = sqlglot.parse_one(condition, dialect="duckdb")
    for column in list(tree.find_all(exp.Column)):
        if column.table == "principal":
            value = attrs.get(column.name)
            column.replace(exp.null() if value is None else exp.Literal.string(str(value)))
    return str(tree.sql("duckdb"))
