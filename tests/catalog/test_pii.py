"""The PII scanner validates checksums and numbering plans; unclassified PII blocks certifying."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from aiready.catalog.pii import detect, scan_table
from tests.layers.test_gold import build


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("ada@example.com", "email"),
        ("DE89 3704 0044 0532 0130 00", "iban"),
        ("4111 1111 1111 1111", "card_number"),
        ("536-90-4399", "national_id"),
        ("111222333", "national_id"),  # Dutch BSN, 11-test
        ("+49 30 901820", "phone"),
        ("not-an-email", None),
        ("DE89 3704 0044 0532 0130 01", None),  # IBAN checksum fails
        ("4111 1111 1111 1112", None),  # Luhn fails
        ("123456789", None),  # nine digits that are no valid id
        ("+49 1", None),
        ("", None),
    ],
)
def test_detectors(value: str, kind: str | None) -> None:
    assert detect(value) == kind


def test_scan_reports_unclassified_columns() -> None:
    table = pa.table(
        {
            "a": ["x@example.com", "y@example.org", None, "n/a"],
            "b": ["hello", "world", "foo", "bar"],
            "c": ["x@example.com", "y@example.org", "z@example.net", "w@ex.io"],
        }
    )
    contract = {
        "schema": [{"properties": [{"name": "a"}, {"name": "c", "classification": "confidential"}]}]
    }
    findings = {f.column: f for f in scan_table("t", table, contract)}
    assert set(findings) == {"a", "c"}
    assert findings["a"].kind == "email" and not findings["a"].classified
    assert findings["a"].share == pytest.approx(2 / 3, abs=1e-3)
    assert findings["c"].classified


def test_unclassified_pii_in_gold_blocks_certification(tmp_path: Path) -> None:
    ws = build(
        tmp_path,
        sql={
            "customer_value": (
                "SELECT c.cid AS customer_id, c.cid || '@example.com' AS segment, "
                "count(p.id) AS payments, coalesce(sum(p.amount), 0) AS total "
                "FROM silver.customers AS c LEFT JOIN silver.payments AS p ON p.cid = c.cid "
                "GROUP BY c.cid"
            )
        },
    )
    result = ws.run()
    value = result.publishes[0]
    assert value.published and value.certified is False
    assert any("column segment holds PII (email" in r for r in value.certificate_reasons)
    findings = [f for f in ws.scan_pii("customer_value") if not f.classified]
    assert [f.column for f in findings] == ["segment"]
