"""Masks and row filters from ``policies/access.yaml``, shared by governed queries and retrieval.

Cedar decides *whether* a principal may use a column or a dataset; this file says *how* it is
shown to those not permitted ``read``: which mask hides a column, which rows a filter keeps.
"""

from __future__ import annotations

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
    from aiready.workspace.workspace import Workspace

ACCESS_FILE = "policies/access.yaml"


def access_rules(ws: Workspace) -> dict[str, Any]:
    """``policies/access.yaml``: masks and row filters (empty when there is none)."""
    path = ws.root / ACCESS_FILE
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    rules = _parse(path, stat.st_mtime_ns, stat.st_size)
    _check(ws.root, stat.st_mtime_ns, stat.st_size, ws.policy)
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


def mask_sql(expr: str, kind: str) -> str:
    """The SQL that shows ``expr`` masked the ``kind`` way."""
    if kind == "hash":
        return f"sha256(CAST({expr} AS VARCHAR))"
    if kind == "partial":  # keep the first and the last character
        text = f"CAST({expr} AS VARCHAR)"
        kept = f"left({text}, 1) || '***' || right({text}, 1)"
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE {kept} END"
    return "'[REDACTED]'"


def mask_for(ws: Workspace, access: dict[str, Any], dataset: str, column: str) -> str | None:
    """The mask of ``dataset.column``: declared, or ``redact`` for PII without one."""
    declared = (access.get("masks") or {}).get(f"{dataset}.{column}")
    if declared:
        if declared not in ("redact", "hash", "partial"):
            raise PolicyError(
                f"mask must be redact, hash or partial, found {declared!r}",
                file=ACCESS_FILE,
                column=f"{dataset}.{column}",
            )
        return str(declared)
    entity = next(
        (e for e in ws.policy_resources() if e["uid"]["id"] == f"{dataset}.{column}"), None
    )
    return "redact" if entity and entity["attrs"].get("pii") else None


def bind_principal(condition: str, attrs: dict[str, Any]) -> str:
    """Replace ``principal.<attr>`` with the principal's value (NULL when absent: no rows)."""
    tree = sqlglot.parse_one(condition, dialect="duckdb")
    for column in list(tree.find_all(exp.Column)):
        if column.table == "principal":
            value = attrs.get(column.name)
            column.replace(exp.null() if value is None else exp.Literal.string(str(value)))
    return str(tree.sql("duckdb"))
