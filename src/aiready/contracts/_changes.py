"""The comparison behind ``aiready.contracts.diff``: walk two parsed contracts, yield changes.

The table of kinds and the rules for matching (renames, quality items, SLAs) are documented in
``aiready.contracts.diff``; this module holds the walkers, one per part of a contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from aiready.contracts import sla as sla_units
from aiready.contracts.rules import _type
from aiready.contracts.versions import yaml_path

KINDS: dict[str, bool] = {
    "id_changed": True,
    "object_removed": True,
    "object_renamed": True,
    "object_added": False,
    "column_removed": True,
    "column_renamed": True,
    "column_added_required": True,
    "column_added_optional": False,
    "type_narrowed": True,
    "type_changed": True,
    "type_widened": False,
    "required_added": True,
    "required_removed": False,
    "unique_added": True,
    "unique_removed": False,
    "primary_key_changed": True,
    "constraint_tightened": True,
    "constraint_loosened": False,
    "pattern_changed": True,
    "pattern_removed": False,
    "valid_value_removed": True,
    "valid_value_added": False,
    "quality_added": True,
    "quality_removed": False,
    "quality_tightened": True,
    "quality_loosened": False,
    "quality_changed": True,
    "relationship_added": True,
    "relationship_removed": False,
    "classification_restricted": True,
    "classification_relaxed": False,
    "purpose_removed": True,
    "purpose_added": False,
    "sla_stricter": True,
    "sla_looser": False,
    "documentation": False,
    "not_classified": True,
}
"""Every change kind and whether it is breaking (the table in the module docstring)."""

DOCUMENTATION = frozenset(
    {
        "description",
        "businessName",
        "tags",
        "examples",
        "authoritativeDefinitions",
        "team",
        "support",
        "price",
        "name",
        "status",
        "domain",
        "dataProduct",
        "tenant",
        "contractCreatedTs",
        "dataGranularityDescription",
        "criticalDataElement",
        "transformDescription",
        "apiVersion",
    }
)
"""Keys that inform people and change no data, no check and no column."""

_CLASSIFICATION = ("public", "internal", "confidential", "restricted", "secret")
_ACTIONS = {"warn": 0, "drop": 1, "quarantine": 1, "fail": 2}
_LOWER_IS_STRICTER = {"maximum": True, "exclusiveMaximum": True, "maxLength": True}
_HIGHER_IS_STRICTER = {"minimum": True, "exclusiveMinimum": True, "minLength": True}
_SLA_LOWER_IS_STRICTER = {"freshness": True, "latency": True, "retention": False}


@dataclass(frozen=True)
class ContractChange:
    """One difference between two contracts: what, where (YAML path), breaking or not, and why."""

    kind: str
    path: str
    breaking: bool
    reason: str
    old: Any = None
    new: Any = None

    def asdict(self) -> dict[str, Any]:
        return asdict(self)


Changes = Iterator[ContractChange]


def change(kind: str, path: str, reason: str, old: Any = None, new: Any = None) -> ContractChange:
    return ContractChange(kind, path, KINDS[kind], reason, old, new)


def _show(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def compare(old: dict[str, Any], new: dict[str, Any]) -> Changes:
    """Every change from parsed contract ``old`` to ``new``, except the ``id`` (the caller's)."""
    handled = {"id", "version", "schema", "slaProperties", "customProperties", "kind"}
    yield from _objects(old.get("schema") or [], new.get("schema") or [])
    yield from _slas(old.get("slaProperties") or [], new.get("slaProperties") or [])
    yield from _custom(old.get("customProperties"), new.get("customProperties"), "customProperties")
    yield from _rest(old, new, handled, ())


def _rest(
    old: dict[str, Any], new: dict[str, Any], handled: set[str], at: tuple[str | int, ...]
) -> Changes:
    """Keys no rule above looked at: documentation is compatible, the rest not classified."""
    for key in sorted((set(old) | set(new)) - handled, key=str):
        if old.get(key) == new.get(key):
            continue
        where = yaml_path((*at, key))
        if key in DOCUMENTATION:
            yield change("documentation", where, f"{key} changed", old.get(key), new.get(key))
        else:
            yield change("not_classified", where, "not classified", old.get(key), new.get(key))


def _pair(
    old: list[Any], new: list[Any], key: str = "name"
) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Match list items by ``key``: (index pairs, removed indexes, added indexes)."""
    old_by = {o.get(key): i for i, o in enumerate(old) if isinstance(o, dict)}
    pairs: list[tuple[int, int]] = []
    added: list[int] = []
    for j, n in enumerate(new):
        i = old_by.get(n.get(key)) if isinstance(n, dict) else None
        if i is None:
            added.append(j)
        else:
            pairs.append((i, j))
    matched = {i for i, _ in pairs}
    removed = [i for i in range(len(old)) if i not in matched]
    return pairs, removed, added


def _renames(
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    removed: list[int],
    added: list[int],
    same: Any,
) -> Iterator[tuple[int, int, str]]:
    """(old index, new index, evidence) for removed/added items that are one renamed item."""
    ids = {old[i].get("id"): i for i in removed if old[i].get("id")}
    for j in list(added):
        i = ids.get(new[j].get("id")) if new[j].get("id") else None
        evidence = "same id"
        if i is None and j in removed and same(old[j], new[j]):
            i, evidence = j, "same position and definition"
        if i is not None and i in removed:
            removed.remove(i)
            added.remove(j)
            yield i, j, evidence


def _without_names(item: dict[str, Any]) -> dict[str, Any]:
    drop = DOCUMENTATION | {"physicalName", "id"}
    return {k: v for k, v in item.items() if k not in drop}


def _objects(old: list[Any], new: list[Any]) -> Changes:
    pairs, removed, added = _pair(old, new)
    same = lambda a, b: _props_shape(a) == _props_shape(b)  # noqa: E731
    for i, j, evidence in _renames(old, new, removed, added, same):
        reason = f"schema object {old[i].get('name')} renamed to {new[j].get('name')} ({evidence})"
        yield change("object_renamed", f"schema[{j}].name", reason)
        pairs.append((i, j))
    for i in removed:
        yield change(
            "object_removed", f"schema[{i}]", f"schema object {old[i].get('name')} removed"
        )
    for j in added:
        yield change("object_added", f"schema[{j}]", f"schema object {new[j].get('name')} added")
    for i, j in sorted(pairs, key=lambda p: p[1]):
        yield from _object(old[i], new[j], ("schema", j))


def _props_shape(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return [_without_names(p) | {"n": p.get("name")} for p in obj.get("properties") or []]


def _object(old: dict[str, Any], new: dict[str, Any], at: tuple[str | int, ...]) -> Changes:
    handled = {"name", "id", "properties", "quality", "relationships", "customProperties"}
    if old.get("physicalName") != new.get("physicalName"):
        handled.add("physicalName")
        yield change(
            "object_renamed",
            yaml_path((*at, "physicalName")),
            f"stored name {old.get('physicalName')} → {new.get('physicalName')}",
        )
    old_props, new_props = old.get("properties") or [], new.get("properties") or []
    yield from _primary_key(old_props, new_props, at)
    yield from _properties(old_props, new_props, at)
    yield from _quality(old.get("quality") or [], new.get("quality") or [], (*at, "quality"))
    yield from _relationships(old.get("relationships"), new.get("relationships"), at)
    yield from _custom(old.get("customProperties"), new.get("customProperties"), yaml_path(at))
    if old.get("physicalType") != new.get("physicalType"):
        handled.add("physicalType")  # table, view, topic: aiready stores a Delta table either way
        yield change(
            "documentation",
            yaml_path((*at, "physicalType")),
            "object kind changed (aiready stores every object as a Delta table)",
            old.get("physicalType"),
            new.get("physicalType"),
        )
    yield from _rest(old, new, handled, at)


def _primary_key(old: list[Any], new: list[Any], at: tuple[str | int, ...]) -> Changes:
    def key(props: list[Any]) -> list[str]:
        pk = [
            (int(p.get("primaryKeyPosition", -1)), str(p.get("name")))
            for p in props
            if p.get("primaryKey")
        ]
        return [name for _, name in sorted(pk, key=lambda p: (p[0] < 0, p[0]))]

    before, after = key(old), key(new)
    if before != after:
        reason = f"primary key ({', '.join(before) or 'none'}) → ({', '.join(after) or 'none'})"
        yield change("primary_key_changed", yaml_path((*at, "properties")), reason, before, after)


def _properties(old: list[Any], new: list[Any], at: tuple[str | int, ...]) -> Changes:
    pairs, removed, added = _pair(old, new)
    same = lambda a, b: _without_names(a) == _without_names(b)  # noqa: E731
    for i, j, evidence in _renames(old, new, removed, added, same):
        where = yaml_path((*at, "properties", j, "name"))
        reason = f"column {old[i].get('name')} renamed to {new[j].get('name')} ({evidence})"
        yield change("column_renamed", where, reason, old[i].get("name"), new[j].get("name"))
        pairs.append((i, j))
    for i in removed:
        where = yaml_path((*at, "properties", i))
        yield change("column_removed", where, f"column {old[i].get('name')} removed")
    for j in added:
        prop, where = new[j], yaml_path((*at, "properties", j))
        if prop.get("required") or prop.get("primaryKey"):
            reason = f"new required column {prop.get('name')}: existing rows have no value"
            yield change("column_added_required", where, reason)
        else:
            yield change("column_added_optional", where, f"new optional column {prop.get('name')}")
    for i, j in sorted(pairs, key=lambda p: p[1]):
        yield from _property(old[i], new[j], (*at, "properties", j))


def _property(old: dict[str, Any], new: dict[str, Any], at: tuple[str | int, ...]) -> Changes:
    name = new.get("name")
    handled = {"name", "id", "logicalType", "physicalType", "required", "unique", "primaryKey"}
    handled |= {"primaryKeyPosition", "logicalTypeOptions", "quality", "classification"}
    handled |= {"customProperties", "enum", "physicalName", "relationships"}
    stored_old, stored_new = (
        old.get("physicalName") or old.get("name"),
        new.get("physicalName") or name,
    )
    if old.get("name") == name and stored_old != stored_new:  # a rename is reported already
        where = yaml_path((*at, "physicalName"))
        stored = f"{old.get('physicalName') or old.get('name')} → {new.get('physicalName') or name}"
        yield change("column_renamed", where, f"stored column {stored}")
    yield from _column_type(old, new, at)
    yield from _required(old, new, at)
    if not (old.get("primaryKey") or new.get("primaryKey")):
        yield from _flag(
            old, new, at, "unique", f"{name} must be unique", f"{name} need not be unique"
        )
    yield from _options(
        old.get("logicalTypeOptions") or {}, new.get("logicalTypeOptions") or {}, at
    )
    yield from _values(old.get("enum"), new.get("enum"), yaml_path((*at, "enum")))
    yield from _classification(old.get("classification"), new.get("classification"), at)
    yield from _quality(old.get("quality") or [], new.get("quality") or [], (*at, "quality"))
    yield from _relationships(old.get("relationships"), new.get("relationships"), at)
    yield from _custom(
        old.get("customProperties"), new.get("customProperties"), yaml_path(at), _SIZES
    )
    yield from _rest(old, new, handled, at)


def _required(old: dict[str, Any], new: dict[str, Any], at: tuple[str | int, ...]) -> Changes:
    """``required`` as the gate reads it: a primary-key column is never null, required or not.

    The compiler gives a primary-key column a not-null rule either way, and SQL export → import
    spells it ``required: true`` (a PRIMARY KEY column is NOT NULL), so setting or dropping the
    flag on a column that is in the key before (added) or after (dropped) changes no rule.
    A change of the key itself is ``primary_key_changed``.
    """
    name = new.get("name")
    before, after = bool(old.get("required")), bool(new.get("required"))
    if before == after:
        return
    where = yaml_path((*at, "required"))
    if after and old.get("primaryKey"):
        reason = f"required spelt out: {name} was never null already (primary key)"
        yield change("documentation", where, reason, before, after)
    elif before and new.get("primaryKey"):
        reason = f"required dropped: {name} is still never null (primary key)"
        yield change("documentation", where, reason, before, after)
    else:
        yield from _flag(old, new, at, "required", f"{name} is now required", f"{name} may be null")


def _flag(
    old: dict[str, Any], new: dict[str, Any], at: tuple[str | int, ...], key: str, on: str, off: str
) -> Changes:
    before, after = bool(old.get(key)), bool(new.get(key))
    if before != after:
        kind = f"{key}_added" if after else f"{key}_removed"
        yield change(kind, yaml_path((*at, key)), on if after else off, before, after)


_SIZES = ("precision", "scale")
"""``customProperties`` that only size a bare DECIMAL (``rules._type``): judged with the type."""


def _spelling(prop: dict[str, Any]) -> tuple[Any, ...]:
    """Everything a column's type is read from: logical and physical type, DECIMAL sizes."""
    sizes = {i.get("property"): i.get("value") for i in _items(prop.get("customProperties"))}
    return (prop.get("logicalType"), prop.get("physicalType"), *(sizes.get(k) for k in _SIZES))


def _column_type(old: dict[str, Any], new: dict[str, Any], at: tuple[str | int, ...]) -> Changes:
    before = _type(
        old.get("logicalType"),
        str(old.get("physicalType") or "").strip(),
        old.get("customProperties"),
    )
    after = _type(
        new.get("logicalType"),
        str(new.get("physicalType") or "").strip(),
        new.get("customProperties"),
    )
    if before[0] is None or after[0] is None:
        raw_old = (old.get("logicalType"), old.get("physicalType"))
        raw_new = (new.get("logicalType"), new.get("physicalType"))
        if raw_old != raw_new:
            where = yaml_path((*at, "physicalType"))
            yield change("type_changed", where, f"type changed: {raw_old} → {raw_new}")
        return
    where = yaml_path((*at, "logicalType"))
    shown = f"{before[1] or old.get('physicalType')} → {after[1] or new.get('physicalType')}"
    if before[:2] == after[:2]:
        if _spelling(old) != _spelling(new):
            yield change("documentation", where, f"type spelt differently, same type ({shown})")
        return
    kind, why = _typechange(before[0], before[1], after[0], after[1])
    words = {"type_widened": "widened", "type_narrowed": "narrowed", "type_changed": "changed"}
    reason = f"type {words[kind]}: {shown}" + (f" ({why})" if why else "")
    yield change(kind, where, reason, before[1], after[1])


_INT_WIDTH = {"TINYINT": 8, "SMALLINT": 16, "INT": 32, "BIGINT": 64}
_INT_DIGITS = {"TINYINT": 3, "SMALLINT": 5, "INT": 10, "BIGINT": 19}
"""Digits of each integer type's extremes (-128, -32768, -2147483648, -9223372036854775808):
the digits a DECIMAL needs before the point to hold every value."""
_SIGNIFICAND = {"FLOAT": 24, "DOUBLE": 53}
"""Bits of a float's significand: every integer up to 2**bits is exact, 2**bits + 1 is not."""
_FLOAT_DIGITS = {"FLOAT": 6, "DOUBLE": 15}
"""Significant decimal digits that read back unchanged through the float (FLT_DIG, DBL_DIG)."""


def _decimal(sql: str) -> tuple[int, int]:
    precision, scale = sql[len("DECIMAL(") : -1].split(",")
    return int(precision), int(scale)


Verdict = tuple[str, str]
"""(kind, why): the change kind and which old values no longer fit ('' when nothing to add)."""


def _typechange(old_family: Any, old_sql: str, new_family: Any, new_sql: str) -> Verdict:
    """``type_widened`` only when every value of the old silver type is one of the new.

    Judged on the types silver stores (``rules._type``: ``logicalType: integer`` alone is
    BIGINT, ``number`` alone DOUBLE), for every value the old type can hold, not just the ones
    seen so far: a column that gains a value later must not fail a cast the diff called safe.
    """
    if old_family == new_family == "integer":
        wider = _INT_WIDTH[new_sql] > _INT_WIDTH[old_sql]
        return ("type_widened", "") if wider else ("type_narrowed", "")
    if old_family == "integer" and new_family == "decimal":
        return _integer_to_decimal(old_sql, new_sql)
    if old_family == "integer" and new_family == "float":
        return _integer_to_float(old_sql, new_sql)
    if old_family == new_family == "float":
        return ("type_widened", "") if new_sql == "DOUBLE" else ("type_narrowed", "")
    if old_family == new_family == "decimal":
        return _decimal_to_decimal(old_sql, new_sql)
    if old_family == "decimal" and new_family == "float":
        return _decimal_to_float(old_sql, new_sql)
    return "type_changed", ""


def _integer_to_decimal(old_sql: str, new_sql: str) -> Verdict:
    """A DECIMAL holds an integer type when its digits before the point cover the extremes."""
    precision, scale = _decimal(new_sql)
    needed, room = _INT_DIGITS[old_sql], precision - scale
    if room >= needed:
        return "type_widened", ""
    why = f"{old_sql} has up to {needed} digits, {new_sql} holds {room} before the point"
    return "type_narrowed", why


def _integer_to_float(old_sql: str, new_sql: str) -> Verdict:
    """Exact while the integer's magnitude bits fit the significand: INT → DOUBLE, not BIGINT."""
    bits = _SIGNIFICAND[new_sql]
    if _INT_WIDTH[old_sql] - 1 <= bits:
        return "type_widened", ""
    why = f"{new_sql} holds integers exactly only up to 2^{bits}: 2^{bits}+1 would be rounded"
    return "type_narrowed", why


def _decimal_to_decimal(old_sql: str, new_sql: str) -> Verdict:
    """Neither decimal places nor digits before the point may shrink."""
    (op, os_), (np_, ns) = _decimal(old_sql), _decimal(new_sql)
    if ns < os_:
        return "type_narrowed", f"decimal places {os_} → {ns}"
    if np_ - ns < op - os_:
        return "type_narrowed", f"digits before the point {op - os_} → {np_ - ns}"
    return "type_widened", ""


def _decimal_to_float(old_sql: str, new_sql: str) -> Verdict:
    """A decimal reads back unchanged from a float only within the float's significant digits."""
    precision, _ = _decimal(old_sql)
    digits = _FLOAT_DIGITS[new_sql]
    if precision <= digits:
        return "type_widened", ""
    why = f"{new_sql} keeps {digits} significant digits, {old_sql} has {precision}"
    return "type_narrowed", why


def _tighter(key: str, old: Any, new: Any) -> bool | None:
    """True/False when ``new`` is a tighter/looser bound than ``old``; None if not comparable."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new)):
        return None
    if key in _LOWER_IS_STRICTER:
        return bool(new < old)
    if key in _HIGHER_IS_STRICTER:
        return bool(new > old)
    return None


def _options(old: dict[str, Any], new: dict[str, Any], at: tuple[str | int, ...]) -> Changes:
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        where = yaml_path((*at, "logicalTypeOptions", key))
        if key == "pattern":
            if after is None:
                yield change("pattern_removed", where, f"pattern {before} removed", before)
            else:
                yield change("pattern_changed", where, f"pattern {before} → {after}", before, after)
        elif key in _LOWER_IS_STRICTER or key in _HIGHER_IS_STRICTER:
            if before is None:
                yield change("constraint_tightened", where, f"new bound {key} {after}", None, after)
            elif after is None:
                yield change("constraint_loosened", where, f"bound {key} {before} removed", before)
            else:
                tighter = _tighter(key, before, after)
                if tighter is None:
                    yield change("not_classified", where, "not classified", before, after)
                else:
                    kind = "constraint_tightened" if tighter else "constraint_loosened"
                    word = "lowered" if after < before else "raised"
                    yield change(kind, where, f"{key} {word}: {before} → {after}", before, after)
        else:
            yield change("not_classified", where, "not classified", before, after)


def _values(old: Any, new: Any, where: str) -> Changes:
    """A list of allowed values: a removed value is breaking, an added one compatible."""
    if old == new:
        return
    if old is None:
        yield change(
            "constraint_tightened", where, f"values now limited to {_show(new)}", None, new
        )
        return
    if new is None:
        yield change("constraint_loosened", where, "the list of allowed values was removed", old)
        return
    if not (isinstance(old, list) and isinstance(new, list)):
        yield change("not_classified", where, "not classified", old, new)
        return
    gone = [v for v in old if v not in new]
    came = [v for v in new if v not in old]
    if gone:
        yield change("valid_value_removed", where, f"no longer allowed: {_show(gone)}", gone)
    if came:
        yield change("valid_value_added", where, f"now allowed too: {_show(came)}", None, came)


def _classification(old: Any, new: Any, at: tuple[str | int, ...]) -> Changes:
    if old == new:
        return
    where = yaml_path((*at, "classification"))
    rank = {c: i for i, c in enumerate(_CLASSIFICATION)}
    before = rank.get(str(old).lower()) if old is not None else -1
    after = rank.get(str(new).lower()) if new is not None else -1
    if before is None or after is None:
        yield change("not_classified", where, "not classified", old, new)
    elif after > before:
        yield change("classification_restricted", where, f"classification {old} → {new}", old, new)
    else:
        yield change("classification_relaxed", where, f"classification {old} → {new}", old, new)


def _quality_keys(items: list[Any]) -> list[str]:
    seen: dict[str, int] = {}
    keys = []
    for item in items:
        item = item if isinstance(item, dict) else {}
        named = item.get("id") or item.get("name")
        if named:
            keys.append(f"={named}")
            continue
        what = str(item.get("metric") or item.get("rule") or item.get("type") or "?")
        seen[what] = seen.get(what, 0) + 1
        keys.append(f"#{what}:{seen[what]}")
    return keys


def _inside(a: Any, b: Any) -> bool:
    """Range ``a`` lies within range ``b`` (both ``[low, high]``)."""
    return bool(b[0] <= a[0] and a[1] <= b[1])


_OPERATOR_TIGHTER: dict[str, Callable[[Any, Any], bool]] = {
    "mustBeLessThan": lambda o, n: n < o,
    "mustBeLessOrEqualTo": lambda o, n: n < o,
    "mustBeGreaterThan": lambda o, n: n > o,
    "mustBeGreaterOrEqualTo": lambda o, n: n > o,
}
"""Is the new threshold ``n`` tighter than ``o``? (a change of a one-sided threshold)"""
_RANGE_TIGHTER: dict[str, Callable[[Any, Any], bool]] = {
    "mustBeBetween": lambda o, n: _inside(n, o),
    "mustNotBeBetween": _inside,
}
_OPERATORS = (*_OPERATOR_TIGHTER, *_RANGE_TIGHTER, "mustBe", "mustNotBe")


def _quality(old: list[Any], new: list[Any], at: tuple[str | int, ...]) -> Changes:
    old_keys, new_keys = _quality_keys(old), _quality_keys(new)
    for i, k in enumerate(old_keys):
        if k not in new_keys:
            label = old[i].get("name") or old[i].get("metric") or old[i].get("type")
            yield change("quality_removed", yaml_path((*at, i)), f"quality rule {label} removed")
    for j, k in enumerate(new_keys):
        where = yaml_path((*at, j))
        if k not in old_keys:
            label = new[j].get("name") or new[j].get("metric") or new[j].get("type")
            yield change("quality_added", where, f"new quality rule {label}")
        else:
            yield from _quality_item(old[old_keys.index(k)], new[j], (*at, j))


def _quality_item(old: dict[str, Any], new: dict[str, Any], at: tuple[str | int, ...]) -> Changes:
    ops = [k for k in _OPERATORS if k in old or k in new]
    handled = {"id", "name", *ops, "arguments", "customProperties"}
    if len(ops) == 1 and ops[0] in old and ops[0] in new:
        yield from _operator(ops[0], old[ops[0]], new[ops[0]], yaml_path((*at, ops[0])))
    elif any(old.get(k) != new.get(k) for k in ops):
        shown = {k: new.get(k) for k in ops if k in new}
        yield change("quality_changed", yaml_path(at), f"operator changed to {_show(shown)}")
    yield from _arguments(
        old.get("arguments") or {}, new.get("arguments") or {}, (*at, "arguments")
    )
    yield from _custom(old.get("customProperties"), new.get("customProperties"), yaml_path(at))
    for key in sorted((set(old) | set(new)) - handled - DOCUMENTATION):
        if old.get(key) != new.get(key):
            reason = f"the rule checks something else now ({key} changed)"
            yield change(
                "quality_changed", yaml_path((*at, key)), reason, old.get(key), new.get(key)
            )
    yield from _rest(old, new, handled | (set(old) | set(new)) - DOCUMENTATION, at)


def _direction(op: str, old: Any, new: Any) -> bool | None:
    """True: tighter, False: looser, None: neither or not comparable (mustBe, shifted range)."""
    try:
        if op in _OPERATOR_TIGHTER:
            return bool(_OPERATOR_TIGHTER[op](old, new))
        if op in _RANGE_TIGHTER:
            if _RANGE_TIGHTER[op](old, new):
                return True
            return False if _RANGE_TIGHTER[op](new, old) else None
    except (TypeError, IndexError, KeyError):
        return None
    return None


def _operator(op: str, old: Any, new: Any, where: str) -> Changes:
    if old == new:
        return
    shown = f"{_show(old)} → {_show(new)}"
    tighter = _direction(op, old, new)
    if tighter is None:
        yield change("quality_tightened", where, f"{op} changed: {shown}", old, new)
    elif tighter:
        yield change("quality_tightened", where, f"{op} tightened: {shown}", old, new)
    else:
        yield change("quality_loosened", where, f"{op} loosened: {shown}", old, new)


def _arguments(old: dict[str, Any], new: dict[str, Any], at: tuple[str | int, ...]) -> Changes:
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        where = yaml_path((*at, key))
        if key == "validValues":
            yield from _values(before, after, where)
        elif key == "pattern":
            if after is None:
                yield change("pattern_removed", where, f"pattern {before} removed", before)
            else:
                yield change("pattern_changed", where, f"pattern {before} → {after}", before, after)
        else:
            reason = f"the rule checks something else now ({key} changed)"
            yield change("quality_changed", where, reason, before, after)


def _relationships(old: Any, new: Any, at: tuple[str | int, ...]) -> Changes:
    before = [_show(r) for r in old or []]
    after = [_show(r) for r in new or []]
    for i, r in enumerate(before):
        if r not in after:
            yield change(
                "relationship_removed",
                yaml_path((*at, "relationships", i)),
                f"reference check {r} removed",
            )
    for j, r in enumerate(after):
        if r not in before:
            yield change(
                "relationship_added",
                yaml_path((*at, "relationships", j)),
                f"new reference check {r}",
            )


def _items(items: Any) -> list[dict[str, Any]]:
    return [i for i in items or [] if isinstance(i, dict)]


def _custom(old: Any, new: Any, where: str, judged: tuple[str, ...] = ()) -> Changes:
    """``customProperties`` by ``property``: purposes, onFail actions, the rest not classified.

    ``judged`` names properties another walker classified already (a column's DECIMAL sizes).
    """

    def by_name(items: Any) -> dict[str, Any]:
        return {str(i.get("property")): i.get("value") for i in _items(items)}

    before, after = by_name(old), by_name(new)
    prefix = f"{where}.customProperties" if where != "customProperties" else where
    for key in sorted((set(before) | set(after)) - set(judged)):
        b, a = before.get(key), after.get(key)
        if b == a:
            continue
        at = f"{prefix}[{key}]"
        if key == "allowedPurposes":
            gone = [p for p in b or [] if p not in (a or [])]
            came = [p for p in a or [] if p not in (b or [])]
            if gone:
                yield change(
                    "purpose_removed", at, f"purposes no longer allowed: {_show(gone)}", gone
                )
            if came:
                yield change(
                    "purpose_added", at, f"purposes now allowed: {_show(came)}", None, came
                )
        elif (
            key == "onFail"
            and _ACTIONS.get(str(b or "quarantine")) is not None
            and _ACTIONS.get(str(a or "quarantine")) is not None
        ):
            stricter = _ACTIONS[str(a or "quarantine")] > _ACTIONS[str(b or "quarantine")]
            kind = "constraint_tightened" if stricter else "constraint_loosened"
            yield change(kind, at, f"onFail {b or 'quarantine'} → {a or 'quarantine'}", b, a)
        else:
            yield change("not_classified", at, "not classified", b, a)


def _seconds(entry: dict[str, Any]) -> float | None:
    return sla_units.seconds(entry)


def _slas(old: list[Any], new: list[Any]) -> Changes:
    def key(e: dict[str, Any]) -> str:
        return f"{e.get('property')}@{e.get('element') or ''}"

    before = {key(e): (i, e) for i, e in enumerate(old) if isinstance(e, dict)}
    after = {key(e): (j, e) for j, e in enumerate(new) if isinstance(e, dict)}
    for k, (i, e) in before.items():
        if k not in after:
            yield change("sla_looser", f"slaProperties[{i}]", f"SLA {e.get('property')} removed")
    for k, (j, e) in after.items():
        where = f"slaProperties[{j}]"
        if k not in before:
            shown = f"{e.get('value')} {e.get('unit') or ''}".strip()
            yield change("sla_stricter", where, f"new SLA {e.get('property')} {shown}")
            continue
        o = before[k][1]
        if o == e:
            continue
        prop = str(e.get("property"))
        a, b = _seconds(o), _seconds(e)
        shown = f"{o.get('value')} {o.get('unit') or ''} → {e.get('value')} {e.get('unit') or ''}"
        if a is not None and a == b:
            yield change("documentation", where, f"same {prop}, spelt differently: {shown}")
            continue
        if prop not in _SLA_LOWER_IS_STRICTER or a is None or b is None:
            yield change("not_classified", where, "not classified", o, e)
            continue
        stricter = (b < a) == _SLA_LOWER_IS_STRICTER[prop]
        kind = "sla_stricter" if stricter else "sla_looser"
        yield change(kind, where, f"{prop} {'stricter' if stricter else 'looser'}: {shown}", o, e)
