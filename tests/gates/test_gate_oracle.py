"""The DuckDB gate agrees with a pure-Python oracle, row by row, on generated batches.

The oracle is written from the standard, not from the gate: ``pattern`` is a search
(``re.search``), ``format: email`` is checked by splitting the text, duplicates follow the
documented choice (the first passing copy wins; a quarantined copy also names the key).

For every batch: rows in = rows to silver + rows to quarantine, and each quarantined row carries
exactly the rules the oracle says it breaks.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiready import CompiledContract, compile_contract, load_contract
from aiready.engines.duckdb import DuckDBGate

CONTRACT = """\
apiVersion: v3.1.0
kind: DataContract
id: t
version: 1.0.0
status: active
schema:
  - name: t
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - name: qty
        logicalType: integer
        logicalTypeOptions: {minimum: 0, maximum: 100}
      - name: code
        logicalType: string
        quality:
          - metric: invalidValues
            arguments: {validValues: [A, B, C]}
            mustBe: 0
      - name: note
        logicalType: string
        logicalTypeOptions: {maxLength: 5}
      - name: ref
        logicalType: string
        logicalTypeOptions: {pattern: '[0-9]{2}'}
      - name: mail
        logicalType: string
        logicalTypeOptions: {format: email}
"""
COLUMNS = ("id", "qty", "code", "note", "ref", "mail")
INT64 = (-(2**63), 2**63 - 1)
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT_TEXT = re.compile(r"[+-]?[0-9]+(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]{1,3}))?")


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> CompiledContract:
    path: Path = tmp_path_factory.mktemp("c") / "t.yaml"
    path.write_text(CONTRACT)
    return compile_contract(load_contract(path), "t")


def std(value: str | None) -> str | None:
    """Standardise like the gate: trim spaces, empty → null."""
    if value is None:
        return None
    value = value.strip(" ")
    return value or None


def as_int(value: str | None) -> tuple[int | None, bool]:
    """The README's rule, in Python: digits, or a float text that is integral as written.

    ``517.0`` and ``1e3``/``2.50e1`` are integers (pandas and R write them); an exponent form
    counts when its significant fraction digits are no more than its exponent.
    """
    if value is None:
        return None, True
    m = _FLOAT_TEXT.fullmatch(value)
    if m is None:
        return None, False
    fraction, power = (m.group(1) or "").rstrip("0"), m.group(2)
    if power is None and fraction:
        return None, False
    if power is not None and len(fraction) > int(power):
        return None, False
    number = Decimal(value)
    if number != number.to_integral_value() or not INT64[0] <= number <= INT64[1]:
        return None, False
    return int(number), True


def is_email(text: str) -> bool:
    """local@domain.tld: one @, no white space, a dot-separated domain of non-empty labels."""
    if text.count("@") != 1 or any(c.isspace() for c in text):
        return False
    local, domain = text.split("@")
    labels = domain.split(".")
    return bool(local) and len(labels) >= 2 and all(labels)


def oracle(rows: list[dict[str, str | None]]) -> dict[int, set[str]]:
    """row number → the set of rule ids it breaks (empty set: it goes to silver)."""
    out: dict[int, set[str]] = {}
    keys: dict[int, int | None] = {}
    for n, row in enumerate(rows, start=1):
        broken: set[str] = set()
        id_v, id_ok = as_int(std(row["id"]))
        if not id_ok:
            broken.add("id.type")
        elif id_v is None:
            broken.add("id.required")
        qty_v, qty_ok = as_int(std(row["qty"]))
        if not qty_ok:
            broken.add("qty.type")
        elif qty_v is not None and not 0 <= qty_v <= 100:
            broken.add("qty.range")
        code = std(row["code"])
        if code is not None and code not in ("A", "B", "C"):
            broken.add("code.invalidValues")
        note = std(row["note"])
        if note is not None and len(note) > 5:
            broken.add("note.length")
        ref = std(row["ref"])
        if ref is not None and not re.search("[0-9]{2}", ref):  # JSON Schema: a search
            broken.add("ref.pattern")
        mail = std(row["mail"])
        if mail is not None and not is_email(mail):
            broken.add("mail.format")
        out[n], keys[n] = broken, id_v
    counts = Counter(k for k in keys.values() if k is not None)
    blocked = {n for n in out if out[n]}
    seen: set[int] = set()
    for n in out:  # first occurrence among otherwise-passing rows wins
        key = keys[n]
        if key is None:
            continue
        if n in blocked:  # quarantined anyway: its reasons also name a key it shares
            if counts[key] > 1:
                out[n].add("id.primary_key")
            continue
        if key in seen:
            out[n].add("id.primary_key")
        seen.add(key)
    return out


values = st.one_of(
    st.none(),
    st.integers(-5, 120).map(str),
    st.sampled_from(
        [
            "",
            " ",
            " 7 ",
            "1.5",
            "abc",
            "A",
            "B",
            "C",
            "D",
            "1e3",
            "517.0",
            " 7.00 ",
            "2.50e1",
            "1.25e1",
            "1e-1",
            "5.",
            "9007199254740993.0",
            "+3",
            "-0",
            "99999999999999999999",
            "longer than five",
            "x12y",
            "a@b.co",
            "a@b",
            "a@.b.c",
            "a b@c.de",
            "ü@ä.de",
            "@x.io",
            "a@b.c.",
        ]
    ),
)
row = st.fixed_dictionaries(
    {
        "id": st.one_of(st.integers(0, 8).map(str), values),
        "qty": values,
        "code": values,
        "note": values,
        "ref": values,
        "mail": values,
    }
)


def batch(rows: list[dict[str, str | None]]) -> pa.Table:
    n = len(rows)
    cols: dict[str, pa.Array] = {c: pa.array([r[c] for r in rows], pa.string()) for c in COLUMNS}
    cols.update(
        _batch_id=pa.array(["b"] * n, pa.string()),
        _source_file=pa.array(["f.csv"] * n, pa.string()),
        _source_row=pa.array(range(1, n + 1), pa.int64()),
        _ingested_at=pa.nulls(n, pa.timestamp("us", tz="UTC")),
        _record_hash=pa.array(["h"] * n, pa.string()),
        _malformed=pa.nulls(n, pa.string()),
        _raw=pa.nulls(n, pa.string()),
    )
    return pa.table(cols)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(row, max_size=40))
def test_gate_matches_oracle(contract: CompiledContract, rows: list[dict[str, str | None]]) -> None:
    with DuckDBGate().check(
        contract, batch(rows), "b", list(COLUMNS), None, "append", "t", "f.csv"
    ) as outcome:
        silver, quarantine, report = outcome.silver_table(), outcome.quarantine(), outcome.report
    expected = oracle(rows)
    assert report.rows_in == len(rows) == silver.num_rows + quarantine.num_rows
    assert report.rows_out == silver.num_rows
    assert report.rows_quarantined == quarantine.num_rows
    silver_rows = set(silver.column("_source_row").to_pylist())
    assert silver_rows == {n for n, broken in expected.items() if not broken}
    got = {r["_source_row"]: {x["rule"] for x in r["_reasons"]} for r in quarantine.to_pylist()}
    assert got == {n: broken for n, broken in expected.items() if broken}
    per_rule = {r.rule: r.failed for r in report.rules}
    for rule_id, failed in per_rule.items():
        assert failed == sum(rule_id in broken for broken in expected.values()), rule_id
