"""Silver schema evolution without loss: widen in place, refuse a narrowing.

Delta (delta-rs) casts silently on write (1.5 into a BIGINT column is stored as 1), so every
silver write first brings the table's schema to the rows' schema here. A widening (int → bigger
int, int → double/decimal, decimal → decimal that holds every old value, a new optional column)
becomes one Delta commit that rewrites silver with the wider types, its metadata naming each
change; every existing value is checked to survive the cast exactly. Anything else would lose or
invent data, so it is a ``ContractError`` that says to rebuild silver from bronze.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pt
from deltalake import DeltaTable

from aiready.contracts import CompiledContract
from aiready.engines.duckdb.gate import META_COLUMNS
from aiready.errors import ContractError
from aiready.storage import delta

Change = Literal["same", "widen", "narrow"]


@dataclass(frozen=True)
class SchemaChange:
    """One column whose silver schema changed: ``kind`` is ``widened`` or ``added``."""

    column: str
    kind: Literal["widened", "added"]
    old: str | None
    new: str

    def asdict(self) -> dict[str, str | None]:
        return asdict(self)


def _text(t: pa.DataType) -> bool:
    return bool(pt.is_string(t) or pt.is_large_string(t) or pt.is_string_view(t))


def _int_widens(old: pa.DataType, new: pa.DataType) -> bool:
    if pt.is_signed_integer(old) == pt.is_signed_integer(new):
        return bool(new.bit_width >= old.bit_width)
    return bool(pt.is_signed_integer(new) and new.bit_width > old.bit_width)


def classify(old: pa.DataType, new: pa.DataType) -> Change:
    """How a silver column typed ``old`` relates to the contract's ``new`` type.

    Only numeric widenings keep the values a fresh derivation from bronze would produce; a
    change of family (number ↔ text, number → integer …) needs ``--rebuild``.

    >>> classify(pa.int64(), pa.float64()), classify(pa.float64(), pa.int64())
    ('widen', 'narrow')
    >>> classify(pa.decimal128(10, 2), pa.decimal128(12, 4))
    'widen'
    """
    if old == new or (_text(old) and _text(new)):
        return "same"
    if pt.is_integer(old) and pt.is_integer(new):
        return "widen" if _int_widens(old, new) else "narrow"
    if pt.is_integer(old) and (pt.is_floating(new) or pt.is_decimal(new)):
        return "widen"  # values are verified: int64 beyond 2**53 or the decimal's digits refuse
    if pt.is_floating(old) and pt.is_floating(new):
        return "widen" if new.bit_width >= old.bit_width else "narrow"
    if pt.is_decimal(old) and pt.is_decimal(new):
        digits_kept = new.precision - new.scale >= old.precision - old.scale
        return "widen" if new.scale >= old.scale and digits_kept else "narrow"
    if pt.is_decimal(old) and pt.is_floating(new):
        return "widen"  # verified value by value
    return "narrow"


def _rebuild_hint(dataset: str) -> str:
    return f"run `aiready refine {dataset} --rebuild` to re-derive silver from bronze"


def _refuse(column: str, old: object, new: object, why: str, dataset: str, contract: str) -> None:
    raise ContractError(
        f"column {column!r} is {old} in silver but the contract now makes it {new}: {why}; "
        f"{_rebuild_hint(dataset)}",
        file=contract,
        dataset=dataset,
        column=column,
    )


def _verify(column: pa.ChunkedArray, new: pa.DataType) -> str | None:
    """The first value that does not survive the cast to ``new`` exactly, as text (or None)."""
    try:
        back = column.cast(new, safe=True).cast(column.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        back = None
    if back is not None:
        same = pc.fill_null(pc.equal(column, back), True)
        if pc.all(same).as_py():
            return None
    for value in column.to_pylist():  # slow path only on refusal, to name the value
        if value is None:
            continue
        try:
            ok = pa.array([value], column.type).cast(new, safe=True).cast(column.type)[0]
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return str(value)
        if ok.as_py() != value:
            return str(value)
    return "?"


def plan(
    path: Path, rows: pa.Schema, contract: CompiledContract, dataset: str
) -> tuple[pa.Schema | None, list[SchemaChange]]:
    """The widened silver schema (None when no rewrite is needed) and the changes to record.

    Raises ``ContractError`` for a narrowing, naming the column, both types and the way out.
    """
    dt = delta.table(path)
    if dt is None:
        return None, []
    current = pa.schema(dt.schema().to_arrow())
    changes: list[SchemaChange] = []
    target = current
    for field in rows:
        if field.name not in current.names:
            changes.append(SchemaChange(field.name, "added", None, str(field.type)))
            continue
        old = current.field(field.name).type
        kind = classify(old, field.type)
        if kind == "narrow":
            _refuse(field.name, old, field.type, "a narrowing", dataset, contract.path)
        if kind == "widen":
            changes.append(SchemaChange(field.name, "widened", str(old), str(field.type)))
            i = target.get_field_index(field.name)
            target = target.set(i, target.field(i).with_type(field.type))
    if _last_contract(dt) != contract.sha256:  # else silver was written under this contract
        _check_data(path, current, rows, changes, contract, dataset)
    rewrite = any(c.kind == "widened" for c in changes)
    return (target if rewrite else None), changes


def _last_contract(dt: DeltaTable) -> str | None:
    last = dt.history(1)
    return str(last[0].get("aiready.contract_sha256")) if last else None


def _check_data(
    path: Path,
    current: pa.Schema,
    rows: pa.Schema,
    changes: list[SchemaChange],
    contract: CompiledContract,
    dataset: str,
) -> None:
    """Refuse what existing silver rows would violate: lossy casts, dropped data, new limits."""
    widened = {c.column: rows.field(c.column).type for c in changes if c.kind == "widened"}
    contract_columns = {c.name for c in contract.columns}
    removed = [f.name for f in current if f.name not in META_COLUMNS | contract_columns]
    added = {c.column for c in changes if c.kind == "added"} & contract_columns
    required = {c for r in contract.rules if r.kind == "not_null" for c in r.columns}
    lengths = {
        r.column: r.params
        for r in contract.rules
        if r.kind == "length" and r.column in current.names
    }
    wanted = sorted(set(widened) | set(removed) | {c for c in lengths if c})
    if not (wanted or added & required):
        return
    table = delta.read(path, wanted)
    if table is None or table.num_rows == 0:
        return
    for name in sorted(added & required):
        _refuse(name, "absent", "required", "existing rows have no value", dataset, contract.path)
    for name, new in widened.items():
        bad = _verify(table.column(name), new)
        if bad is not None:
            old = current.field(name).type
            _refuse(name, old, new, f"value {bad} would not survive", dataset, contract.path)
    for name in removed:
        if table.column(name).null_count < table.num_rows:
            why = "the contract no longer has it, but silver rows hold values"
            _refuse(name, current.field(name).type, "removed", why, dataset, contract.path)
    for length_column, params in lengths.items():
        _check_lengths(length_column, table.column(length_column), params, dataset, contract.path)


def _check_lengths(
    name: str | None, column: pa.ChunkedArray, params: dict[str, int], dataset: str, path: str
) -> None:
    if name is None or not _text(column.type):
        return
    size = pc.utf8_length(column)
    longest, shortest = pc.max(size).as_py(), pc.min(size).as_py()
    if "maxLength" in params and longest is not None and longest > params["maxLength"]:
        why = f"existing values are up to {longest} characters"
        _refuse(name, "string", f"maxLength {params['maxLength']}", why, dataset, path)
    if "minLength" in params and shortest is not None and shortest < params["minLength"]:
        why = f"existing values are as short as {shortest} characters"
        _refuse(name, "string", f"minLength {params['minLength']}", why, dataset, path)


def evolve_silver(
    path: Path, rows: pa.Schema, contract: CompiledContract, dataset: str
) -> list[SchemaChange]:
    """Bring silver's schema to ``rows``' before writing them: one commit if a type widens."""
    target, changes = plan(path, rows, contract, dataset)
    if target is not None:
        widened = [c for c in changes if c.kind == "widened"]
        meta = {
            "aiready.schema_change": json.dumps([c.asdict() for c in widened]),
            "aiready.contract_sha256": contract.sha256,
        }
        delta.overwrite(path, lambda: _cast_stream(path, target), meta)
    return changes


def _cast_stream(path: Path, target: pa.Schema) -> pa.RecordBatchReader:
    """The current snapshot cast to ``target`` batch by batch (values already verified)."""
    ds = delta.dataset(path)
    if ds is None:
        raise AssertionError(f"silver table {path} vanished under the dataset lock")

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in ds.to_batches():
            yield batch.cast(target, safe=True)

    return pa.RecordBatchReader.from_batches(target, batches())
