"""Profiles → a draft ODCS v3 contract, each inference with a comment saying what it rests on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from aiready.profiling.profile import VALUE_SET_MAX, ColumnProfile
from aiready.profiling.yamltext import Flow, Note, dump, plain

Kind = Literal["operational", "strategic"]
API_VERSION = "v3.1.0"
_LOGICAL = {
    "string": "string",
    "integer": "integer",
    "decimal": "number",
    "float": "number",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}
_KEY_FAMILIES = ("integer", "string")
_KEY_NAME = re.compile(r"(^|_)(id|key|code|uuid|guid)$|(?<=[a-z])(Id|ID|Key|Code)$", re.I)


@dataclass
class Draft:
    """A draft contract: its YAML text (with comments), the same as data, and the evidence."""

    name: str
    source: str
    rows: int
    malformed: int
    kind: Kind
    profiles: list[ColumnProfile]
    primary_key: str | None
    text: str = ""
    contract: dict[str, Any] = field(default_factory=dict)

    def asdict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "rows": self.rows,
            "malformed": self.malformed,
            "kind": self.kind,
            "primary_key": self.primary_key,
            "columns": [p.asdict() for p in self.profiles],
            "contract": self.contract,
        }


def choose_key(profiles: list[ColumnProfile]) -> tuple[ColumnProfile | None, str]:
    """The primary-key candidate: unique and non-null; a key-like name, then integer or text."""
    candidates = [p for p in profiles if p.unique and p.family in _KEY_FAMILIES]
    if not candidates:
        return None, ""
    ranked = sorted(
        candidates,
        key=lambda p: (
            p.name.lower() != "id",
            not _KEY_NAME.search(p.name),
            p.family != "integer",
            profiles.index(p),
        ),
    )
    best, others = ranked[0], [p.name for p in ranked[1:]]
    why = (
        "named id"
        if best.name.lower() == "id"
        else "its name says key"
        if _KEY_NAME.search(best.name)
        else "the first such column"
    )
    also = f"; also unique and non-null: {', '.join(others)}" if others else ""
    return best, f"primary key: unique and non-null in all {best.rows} rows, {why}{also}"


def build(draft: Draft, key_reason: str) -> Draft:
    """Fill ``draft.text`` and ``draft.contract`` from its profiles."""
    doc: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": f"urn:aiready:{draft.name}",
        "name": draft.name,
        "version": Note("0.1.0", "a draft: raise to 1.0.0 once reviewed"),
        "status": "draft",
        "description": {"purpose": f"Draft inferred from {draft.source}; say what it is for."},
    }
    if draft.kind == "strategic":
        doc["team"] = {
            "name": f"{draft.name}-owners",
            "members": [
                {
                    "username": Note(
                        "owner@example.com", "placeholder: strategic data needs its owner"
                    ),
                    "role": "owner",
                }
            ],
        }
    properties = [
        _property(p, key_reason if p.name == draft.primary_key else "") for p in draft.profiles
    ]
    doc["schema"] = [{"name": draft.name, "physicalType": "table", "properties": properties}]
    header = [
        f"Draft ODCS contract inferred by `aiready contract infer` from {draft.source}:",
        f"{draft.rows} rows profiled with DuckDB through aiready's readers"
        + (
            f", {draft.malformed} unparsable records left out (refine quarantines them)"
            if draft.malformed
            else ""
        )
        + ".",  # fmt: skip
        "Each comment says what an inference rests on: it describes this data; review it.",
    ]
    if draft.kind == "strategic":
        header.append("Strategic (master data, merged by key): declare `kind: strategic` on the")
        header.append("dataset in aiready.yaml, and name the real owner under `team`.")
    draft.text = dump(doc, header)
    draft.contract = plain(doc)
    return draft


def _property(p: ColumnProfile, key_reason: str) -> Note:
    prop: dict[str, Any] = {"name": p.name}
    logical = p.json_kind if p.family == "json" else _LOGICAL[p.family]
    prop["logicalType"] = Note(logical, p.type_reason)
    if p.family == "decimal":
        prop["physicalType"] = Note(p.sql_type, f"at most {p.scale} decimal places seen")
    if key_reason:
        prop["primaryKey"] = Note(True, key_reason)
    elif p.nulls == 0 and p.rows:
        prop["required"] = Note(True, f"0 nulls in {p.rows} rows")
    options = _options(p)
    if options:
        prop["logicalTypeOptions"] = options
    if p.pii is not None:
        kind, share, sampled = p.pii
        prop["tags"] = Note(
            Flow(["pii", f"pii:{kind}"]),
            f"aiready's PII scanner: {share:.0%} of {sampled} sampled values are {kind}",
        )
    quality = _quality(p)
    if quality:
        prop["quality"] = quality
    evidence = f"{p.rows} rows, {p.nulls} nulls, {p.distinct} distinct"
    return Note(prop, f"{p.name}: {evidence}")


def _options(p: ColumnProfile) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    low, high = _bound(p.minimum), _bound(p.maximum)
    if low is not None and high is not None:
        opts["minimum"] = Note(low, f"smallest of {p.non_null} values")
        opts["maximum"] = Note(high, f"largest of {p.non_null} values")
    if p.max_length is not None:
        opts["maxLength"] = Note(p.max_length, f"longest of {p.non_null} values (characters)")
    if p.pattern is not None:
        label, regex, fmt = p.pattern
        opts["pattern"] = Note(regex, f"every one of {p.non_null} values is {label}")
        if fmt:
            opts["format"] = fmt
    return opts


def _bound(value: Any) -> Any:
    """A bound YAML and the gate read back as exactly the value seen (else no bound)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else None
    if isinstance(value, int | float):
        return value
    return None


def _quality(p: ColumnProfile) -> list[Any]:
    items: list[Any] = []
    if p.missing_tokens:
        seen = ", ".join(f"{t!r} x{n}" for t, n in p.missing_tokens.items())
        items.append(
            Note(
                {
                    "metric": "missingValues",
                    "arguments": {"missingValues": Flow(list(p.missing_tokens))},
                    "mustBe": 0,
                },
                f"written for 'no value' ({seen}): NULL before the type check, counted (warn)",
            )
        )
    if p.values is not None:
        items.append(
            Note(
                {
                    "metric": "invalidValues",
                    "arguments": {"validValues": Flow(list(p.values))},
                    "mustBe": 0,
                },
                f"{p.distinct} distinct values (at most {VALUE_SET_MAX}) "
                f"in {p.non_null} non-null rows",
            )
        )
    return items
