"""Masks and row filters hold across tables: a gold model inherits its inputs' masks, and one
reading a row-filtered dataset is not certified until it declares a filter (or a waiver)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import aiready
from tests.conftest import CONTRACT_HEAD
from tests.security.conftest import ACCESS, Fortress, build_fortress

MODEL_SQL = """\
SELECT c.cid, c.email, c.name, c.country, upper(c.email) AS email_upper,
       coalesce(sum(p.amount), 0) AS total
FROM silver.customers AS c LEFT JOIN silver.payments AS p ON p.cid = c.cid
GROUP BY ALL
"""
MODEL_CONTRACT = """\
schema:
  - name: customer_value
    properties:
      - {name: cid, logicalType: string, primaryKey: true}
      - {name: email, logicalType: string, classification: confidential, tags: [pii]}
      - {name: name, logicalType: string}
      - {name: country, logicalType: string}
      - {name: email_upper, logicalType: string, classification: confidential}
      - {name: total, logicalType: number}
customProperties:
  - property: allowedPurposes
    value: [analytics]
"""


def with_gold(root: Path, access_extra: str) -> tuple[Fortress, aiready.Workspace]:
    fortress = build_fortress(root)
    (root / "models").mkdir()
    (root / "models/customer_value.sql").write_text(MODEL_SQL)
    (root / "contracts/customer_value.odcs.yaml").write_text(
        CONTRACT_HEAD.format(id="customer_value") + MODEL_CONTRACT
    )
    with (root / "aiready.yaml").open("a") as f:
        f.write(
            "models:\n  customer_value:\n    sql: models/customer_value.sql\n"
            "    contract: contracts/customer_value.odcs.yaml\n"
        )
    (root / "policies/access.yaml").write_text(ACCESS + access_extra)
    ws = aiready.Workspace.load(root)
    ws.publish("customer_value")
    return fortress, ws


def test_gold_reading_a_filtered_dataset_needs_its_own_filter(tmp_path: Path) -> None:
    _, ws = with_gold(tmp_path, "")
    [cert] = ws.certify("customer_value")
    assert not cert.certified
    [reason] = [r for r in cert.reasons if "row-filtered" in r]
    assert "silver.customers" in reason and "row_filters.customer_value" in reason


def test_a_waiver_is_an_explicit_choice(tmp_path: Path) -> None:
    waiver = "row_filter_waivers:\n  customer_value: totals only, reviewed by the DPO\n"
    _, ws = with_gold(tmp_path, waiver)
    [cert] = ws.certify("customer_value")
    assert not [r for r in cert.reasons if "row-filtered" in r], cert.reasons


@pytest.fixture(scope="module")
def filtered_gold(tmp_path_factory: pytest.TempPathFactory) -> tuple[Fortress, aiready.Workspace]:
    root = tmp_path_factory.mktemp("gold")
    text = ACCESS.replace(
        "row_filters:\n", 'row_filters:\n  customer_value: "country = principal.region"\n'
    )
    fortress, ws = with_gold(root, "")
    (root / "policies/access.yaml").write_text(text)
    [cert] = ws.certify("customer_value")
    assert cert.certified, cert.reasons
    return fortress, ws


def test_gold_rows_and_masks_follow_the_inputs(
    filtered_gold: tuple[Fortress, aiready.Workspace],
) -> None:
    fortress, ws = filtered_gold
    result = ws.query("SELECT * FROM gold.customer_value", "ana", "analytics")
    rows = result.table.to_pylist()
    assert {r["country"] for r in rows} == {"DE"} and len(rows) == 2
    assert result.masked == {
        "customer_value.email": "redact",  # PII in gold (redact) beats the inherited hash
        "customer_value.email_upper": "hash",  # derived from customers.email: masked as it is
        "customer_value.name": "partial",
    }
    assert fortress.leaks(json.dumps(result.asdict(), default=str)) == []
    assert not any(e in json.dumps(rows) for e in ("ANKE.MUELLER.ZQ1@EXAMPLE.DE",))
    steward = ws.query("SELECT * FROM gold.customer_value", "stew", "analytics")
    assert steward.table.num_rows == 4 and not steward.masked


def test_an_explicit_none_unmasks_a_gold_column(tmp_path: Path) -> None:
    extra = "row_filter_waivers:\n  customer_value: reviewed\n"
    fortress, ws = with_gold(tmp_path, extra)
    text = (tmp_path / "policies/access.yaml").read_text()
    (tmp_path / "policies/access.yaml").write_text(
        text.replace("masks:\n", "masks:\n  customer_value.name: none\n")
    )
    result = ws.query("SELECT name, email FROM gold.customer_value", "ana", "analytics")
    assert result.masked == {"customer_value.email": "redact"}
    assert "Ankezqone" in {r["name"] for r in result.table.to_pylist()}
