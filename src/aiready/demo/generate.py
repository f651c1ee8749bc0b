"""Realistic example data with deliberate defects, so every gate has something to catch."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiready.demo.contracts import (
    ACCESS,
    CUSTOMER_VALUE,
    CUSTOMER_VALUE_SQL,
    CUSTOMERS,
    PAYMENTS,
    POLICIES,
    PRINCIPALS,
)

CONFIG = """\
# aiready workspace: datasets, where their raw data lands, and the contract each must meet.
name: {workspace}
datasets:
  payments:
    kind: operational            # events/transactions: append-only
    source: data/payments/*.csv
    contract: contracts/payments.odcs.yaml
  customers:
    kind: strategic              # master data: merged by primary key, owner required
    source: data/customers/*.jsonl
    contract: contracts/customers.odcs.yaml
models:
  customer_value:                # gold: what the churn-risk use case consumes
    sql: models/customer_value.sql
    contract: contracts/customer_value.odcs.yaml
    primary_key: customer_id
    strategic: true
"""
_COUNTRIES = ["DE", "FR", "GB", "US", "CH", "NL", "ES", "IT"]
_SEGMENTS = ["retail", "smb", "enterprise"]
_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret"]


def write_workspace(root: Path, name: str, payments: int, customers: int, seed: int = 7) -> None:
    """Write aiready.yaml, two contracts and two defective sources under ``root``."""
    rng = random.Random(seed)
    for folder in ("contracts", "models", "data/payments", "data/customers"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "aiready.yaml").write_text(CONFIG.format(workspace=name))
    (root / "contracts/payments.odcs.yaml").write_text(PAYMENTS.format(workspace=name))
    (root / "contracts/customers.odcs.yaml").write_text(CUSTOMERS.format(workspace=name))
    (root / "contracts/customer_value.odcs.yaml").write_text(CUSTOMER_VALUE.format(workspace=name))
    (root / "models/customer_value.sql").write_text(CUSTOMER_VALUE_SQL)
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies/principals.yaml").write_text(PRINCIPALS)
    (root / "policies/access.cedar").write_text(POLICIES)
    (root / "policies/access.yaml").write_text(ACCESS)
    (root / ".gitignore").write_text(".aiready/\n")
    ids = [f"C{n:06d}" for n in range(1, max(customers, 1) + 1)]
    _customers(root / "data/customers/customers_001.jsonl", ids, rng)
    _payments(root / "data/payments/payments_001.csv", payments, ids, rng)


def _customers(path: Path, ids: list[str], rng: random.Random) -> None:
    lines = []
    for i, cid in enumerate(ids):
        name = f"{rng.choice(_NAMES)} {chr(65 + i % 26)}."
        record: dict[str, object] = {
            "customer_id": cid,
            "name": name,
            "email": f"{name.split()[0].lower()}{i}@example.com",
            "segment": rng.choice(_SEGMENTS),
            "country": rng.choice(_COUNTRIES),
            "signup_date": (date(2020, 1, 1) + timedelta(days=rng.randrange(1800))).isoformat(),
            "vip": rng.random() < 0.05,
        }
        defect = rng.random()
        if defect < 0.01:
            record["segment"] = "unknown"  # invalid_value
        elif defect < 0.015:
            record["email"] = "not-an-email"  # invalid_value
        elif defect < 0.02:
            record["signup_date"] = "2021-02-30"  # type_mismatch
        lines.append(json.dumps(record))
        if defect > 0.995:  # conflicting duplicate
            lines.append(
                json.dumps({**record, "segment": "smb" if record["segment"] != "smb" else "retail"})
            )
    lines.insert(len(lines) // 2, '{"customer_id": "C999999", "name": ')  # invalid JSON line
    path.write_text("\n".join(lines) + "\n")


def _payments(path: Path, n: int, ids: list[str], rng: random.Random) -> None:
    start = datetime.now(UTC) - timedelta(hours=6)
    out = ["payment_id,customer_id,amount,currency,status,paid_at,card_country"]
    for pid in range(1, n + 1):
        amount = f"{rng.lognormvariate(3.5, 1.0):.2f}"
        currency = rng.choice(["EUR", "EUR", "EUR", "USD", "GBP", "CHF"])
        status = rng.choice(["settled"] * 8 + ["pending", "failed", "refunded"])
        paid = (start + timedelta(seconds=pid * 0.1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        row = [str(pid), rng.choice(ids), amount, currency, status, paid, rng.choice(_COUNTRIES)]
        d = rng.random()
        if d < 0.004:
            row[2] = f"-{row[2]}"  # out_of_range
        elif d < 0.007:
            row[3] = "XYZ"  # invalid_value
        elif d < 0.009:
            row[2] = '"12,5"'  # type_mismatch (decimal comma)
        elif d < 0.011:
            row[1] = ""  # null_value
        elif d < 0.013:
            row[0] = str(max(1, pid - 1))  # duplicate_key
        elif d < 0.016:
            row[6] = "N/A"  # missing_value (warn only)
        elif d < 0.0165:
            row[4], row[2] = "refunded", "0.00"  # sql_rule
        elif d < 0.017:
            out.append(",".join(row[:4]))  # ragged row (malformed)
            continue
        out.append(",".join(row))
    path.write_text("\n".join(out) + "\n")
