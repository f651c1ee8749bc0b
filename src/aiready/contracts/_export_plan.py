"""What every export reads: each schema object compiled, and which rules a format may state.

A rule enters a format as a hard constraint only when aiready rejects every row that breaks it
(action quarantine, drop or fail, and no batch limit); a ``warn`` rule or one with a limit is
listed as a note instead, so an export never claims more than aiready enforces, and never drops
a rule silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiready.contracts.loader import LoadedContract
from aiready.contracts.rules import Column, CompiledContract, Rule, compile_contract
from aiready.errors import ContractError


@dataclass(frozen=True)
class ObjectPlan:
    """One schema object, compiled, with the raw parts the compiled form leaves out."""

    table: str
    """The physical table name (``physicalName``, else ``name``)."""
    description: str | None
    compiled: CompiledContract
    logical: dict[str, str | None]
    """Column name → the property's ``logicalType`` as written (``object``/``array`` kept apart)."""

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.compiled.columns

    def rules(self) -> tuple[Rule, ...]:
        """Rules except the type checks (every format says the type by itself)."""
        return tuple(r for r in self.compiled.rules if r.kind != "type")

    def required(self, column: str) -> bool:
        """Every row aiready keeps has a value in ``column``."""
        return column in self.compiled.primary_key or any(
            r.kind == "not_null" and column in r.columns and strict(r) for r in self.rules()
        )


def strict(rule: Rule) -> bool:
    """aiready rejects each row breaking ``rule`` (not a warning, no batch limit)."""
    return rule.action != "warn" and rule.limit is None


def note(rule: Rule, why: str) -> dict[str, Any]:
    """A rule a format cannot state, as data: id, kind, what it checks and why it is a note."""
    out: dict[str, Any] = {"id": rule.id, "kind": rule.kind, "description": rule.description}
    if rule.columns:
        out["columns"] = list(rule.columns)
    out["action"] = rule.action
    if rule.limit is not None:
        out["limit"] = rule.limit.describe()
    out["note"] = why
    return out


def why_not(rule: Rule, fallback: str) -> str:
    """The reason a rule is a note: its action or limit first, else the format's own gap."""
    if rule.action == "warn":
        return "action warn: aiready reports these rows but keeps them"
    if rule.limit is not None and rule.row_level:
        return f"batch limit {rule.limit.describe()}: aiready tolerates rows up to the limit"
    return fallback


def plans(loaded: LoadedContract, dataset: str | None = None) -> list[ObjectPlan]:
    """Every schema object of the contract (or only ``dataset``), compiled by aiready's compiler."""
    objects = [o for o in loaded.raw.get("schema") or [] if isinstance(o, dict)]
    if not objects:
        raise ContractError("contract has no `schema` object", file=str(loaded.path), path="schema")
    if dataset is not None:
        chosen = [o for o in objects if dataset in (o.get("name"), o.get("physicalName"))]
        if not chosen:
            names = [str(o.get("name")) for o in objects]
            raise ContractError(
                f"no schema object named {dataset!r} (the contract has {names})",
                file=str(loaded.path),
                path="schema",
            )
        objects = chosen[:1]
    out = []
    for obj in objects:
        compiled = compile_contract(loaded, str(obj.get("name")))
        logical = {
            str(p.get("physicalName") or p.get("name")): p.get("logicalType")
            for p in obj.get("properties") or []
        }
        out.append(
            ObjectPlan(
                table=str(obj.get("physicalName") or obj.get("name")),
                description=_text(obj.get("description")),
                compiled=compiled,
                logical=logical,
            )
        )
    return out


def _text(value: Any) -> str | None:
    return str(value).strip() or None if value is not None else None
