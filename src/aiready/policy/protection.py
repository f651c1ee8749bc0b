"""Masks and row filters that hold across tables: gold inherits what protects its inputs.

A gold column computed from a masked (or PII) column is masked the same way, found through the
model's column lineage (sqlglot), unless ``access.yaml`` names its own mask for it (``none``
included). A gold model reading a row-filtered input must declare its own row filter or a
waiver saying why none is needed; otherwise its certificate fails with that reason, because
its rows would show every principal what the input's filter hides.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aiready.contracts import compile_contract, load_contract
from aiready.layers import gold
from aiready.lineage.columns import Schema, column_lineage
from aiready.lineage.steps import table_fields
from aiready.policy.access import ACCESS_FILE
from aiready.policy.errors import PolicyError

if TYPE_CHECKING:
    from aiready.config.models import WorkspaceConfig
    from aiready.policy.context import PolicyContext

STRENGTH = {"partial": 1, "hash": 2, "redact": 3}
"""When a column derives from several masked ones, the strongest mask wins."""


def strongest(masks: list[str | None]) -> str | None:
    found = [m for m in masks if m in STRENGTH]
    return max(found, key=STRENGTH.__getitem__) if found else None


def model_lineage(ctx: PolicyContext, model: str) -> dict[str, list[tuple[str, str]]]:
    """Output column → ``(layer.table, column)`` sources of gold ``model`` (cached per SQL)."""
    config = ctx.config.models[model]
    sql = gold.read_sql(ctx.root, config)
    inputs = gold.model_inputs(ctx.config, model, sql)
    schema: Schema = {}
    for layer, names in (("silver", inputs.silver), ("gold", inputs.gold)):
        for name in names:
            fields = table_fields(ctx.paths.table(layer, name))  # type: ignore[arg-type]
            schema.setdefault(layer, {})[name] = {n: "TEXT" for n, _ in fields}
    contract = compile_contract(load_contract(ctx.root / config.contract), model)
    columns = tuple(c.name for c in contract.columns)
    frozen = tuple(
        (layer, name, tuple(cols)) for layer, t in schema.items() for name, cols in t.items()
    )
    return _lineage(sql, columns, frozen)


@lru_cache(maxsize=64)
def _lineage(
    sql: str, columns: tuple[str, ...], frozen: tuple[tuple[str, str, tuple[str, ...]], ...]
) -> dict[str, list[tuple[str, str]]]:
    schema: Schema = {}
    for layer, name, cols in frozen:
        schema.setdefault(layer, {})[name] = {c: "TEXT" for c in cols}
    return column_lineage(sql, list(columns), schema)


def inherited_mask(
    ctx: PolicyContext, access: dict[str, Any], model: str, column: str, seen: frozenset[str]
) -> str | None:
    """The strongest mask among the columns gold ``model.column`` is computed from."""
    if model in seen:  # a cycle is refused by model_order; never recurse forever
        return None
    sources = model_lineage(ctx, model).get(column, [])
    masks = []
    for table, source_column in sources:
        _, name = table.split(".", 1)
        masks.append(mask_for(ctx, access, name, source_column, seen | {model}))
    return strongest(masks)


def mask_for(
    ctx: PolicyContext,
    access: dict[str, Any],
    dataset: str,
    column: str,
    seen: frozenset[str] = frozenset(),
) -> str | None:
    """The mask of ``dataset.column``: declared (``none``: unmasked), inherited by a gold column
    from the columns it is computed from, or ``redact`` for PII without one."""
    declared = (access.get("masks") or {}).get(f"{dataset}.{column}")
    if declared:
        if declared not in ("redact", "hash", "partial", "none"):
            raise PolicyError(
                f"mask must be redact, hash, partial or none, found {declared!r}",
                file=ACCESS_FILE,
                column=f"{dataset}.{column}",
            )
        return None if declared == "none" else str(declared)
    entity = next(
        (e for e in ctx.engine.resource_list if e["uid"]["id"] == f"{dataset}.{column}"), None
    )
    pii = "redact" if entity and entity["attrs"].get("pii") else None
    if dataset in ctx.config.models:
        return strongest([pii, inherited_mask(ctx, access, dataset, column, seen)])
    return pii


def row_filter_gaps(
    config: WorkspaceConfig, access: dict[str, Any], model: str, sql: str
) -> list[str]:
    """Why gold ``model`` may not be certified under ``access``'s row filters (empty: it may)."""
    filters = access.get("row_filters") or {}
    waivers = access.get("row_filter_waivers") or {}
    if model in filters or str(waivers.get(model) or "").strip():
        return []
    inputs = gold.model_inputs(config, model, sql)
    filtered = [f"silver.{n}" for n in inputs.silver if n in filters]
    filtered += [f"gold.{n}" for n in inputs.gold if n in filters]
    if not filtered:
        return []
    return [
        f"reads row-filtered {', '.join(filtered)} but declares no row filter of its own: add "
        f"row_filters.{model} (or row_filter_waivers.{model} with the reason none is needed) "
        "to policies/access.yaml"
    ]
