"""The PII scanner validates checksums and numbering plans; unclassified PII blocks certifying."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pytest
from deltalake import DeltaTable, write_deltalake

from aiready.catalog.pii import SAMPLE, detect, sample, scan_table
from tests.conftest import WorkspaceFactory
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


def _delta_dataset(tmp_path: Path, values: list[str], files: int = 5) -> pads.Dataset:
    """A real Delta table of ``values`` in ``files`` appends (later rows in later files)."""
    path = str(tmp_path / "t")
    n = len(values)
    for i in range(files):
        part = values[i * n // files : (i + 1) * n // files]
        write_deltalake(path, pa.table({"id": range(len(part)), "contact": part}), mode="append")
    return DeltaTable(path).to_pyarrow_dataset()


@pytest.mark.parametrize("files", [1, 5])
@pytest.mark.parametrize(
    "where",
    [
        pytest.param(lambda i: i >= 5000, id="second-half"),
        pytest.param(lambda i: i % 5 != 0, id="off-stride"),  # defeats an every-5th-row sample
        pytest.param(lambda i: i >= 6000, id="last-40pct"),  # 30% would sit on THRESHOLD
    ],
)
def test_pii_past_the_first_rows_is_found(
    tmp_path: Path, where: Callable[[int], bool], files: int
) -> None:
    values = [f"user{i}@example.com" if where(i) else f"note {i}" for i in range(10_000)]
    ds = _delta_dataset(tmp_path, values, files)
    [finding] = scan_table("t", sample(ds), {})
    assert (finding.column, finding.kind, finding.sampled) == ("contact", "email", SAMPLE)
    assert sample(ds).equals(sample(ds))  # seeded: a rerun judges the same rows


def test_the_old_head_sample_missed_it(tmp_path: Path) -> None:
    """Proves the test above discriminates: the first 2,000 rows (one file, so ``head`` is the
    first rows; over several files Delta's file order made the old sample arbitrary) hold no PII."""
    values = [f"u{i}@example.com" if i >= 5000 else "x" for i in range(10_000)]
    ds = _delta_dataset(tmp_path, values, files=1)
    assert scan_table("t", ds.head(SAMPLE), {}) == []
    assert len(sample(ds)) == SAMPLE and scan_table("t", sample(ds), {})


def test_scan_pii_of_a_workspace_samples_the_whole_silver_table(
    make_workspace: WorkspaceFactory,
) -> None:
    contract = """\
    schema:
      - name: notes
        properties:
          - {name: id, logicalType: integer, primaryKey: true}
          - {name: contact, logicalType: string}
    """
    rows = "".join(f"{i},{f'u{i}@example.com' if i >= 5000 else 'none'}\n" for i in range(10_000))
    ws = make_workspace(
        contract=contract, name="notes", files={"data/a.csv": "id,contact\n" + rows}
    )
    ws.ingest()
    ws.refine()
    assert [(f.column, f.kind, f.classified) for f in ws.scan_pii("notes")] == [
        ("contact", "email", False)
    ]
