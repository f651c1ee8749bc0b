"""A governed workspace to attack, and the raw truth its restricted principal must never see.

``ana`` is an analyst in region DE: customers' ``email`` is hash-masked for her, ``name`` partly
masked, ``segment`` forbidden, and both tables are row-filtered to DE. ``stew`` (a steward) may
read everything, which proves the sentinels below really are in the data. Every sentinel is a
unique string, so a leak is found by searching whatever came back (rows, errors, CLI output).
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import aiready
from aiready.service import keys
from aiready.storage.secret import load_secret
from tests.conftest import CONTRACT_HEAD

CONFIG = """\
name: fortress
datasets:
  customers:
    kind: strategic
    source: data/customers.csv
    contract: contracts/customers.odcs.yaml
  payments:
    kind: operational
    source: data/payments.csv
    contract: contracts/payments.odcs.yaml
"""
CUSTOMERS = """\
schema:
  - name: customers
    properties:
      - {name: cid, logicalType: string, primaryKey: true}
      - {name: email, logicalType: string, tags: [pii]}
      - {name: name, logicalType: string}
      - {name: country, logicalType: string, required: true}
      - {name: segment, logicalType: string}
customProperties:
  - property: allowedPurposes
    value: [analytics]
"""
PAYMENTS = """\
schema:
  - name: payments
    properties:
      - {name: id, logicalType: integer, primaryKey: true}
      - {name: cid, logicalType: string, required: true}
      - {name: amount, logicalType: number}
      - {name: card_country, logicalType: string, required: true}
      - {name: note, logicalType: string}
customProperties:
  - property: allowedPurposes
    value: [analytics]
"""
PRINCIPALS = """\
groups: [analysts, stewards]
users:
  ana: {groups: [analysts], region: DE}
  stew: {groups: [stewards], region: US}
"""
POLICIES = """\
@id("analysts-query")
permit(principal in Group::"analysts", action == Action::"query", resource)
when { resource.allowedPurposes.contains(context.purpose) };

@id("analysts-retrieve")
permit(principal in Group::"analysts", action == Action::"retrieve", resource)
when { resource.allowedPurposes.contains(context.purpose) };

@id("no-segment")
forbid(principal in Group::"analysts", action, resource is Column)
when { resource.name == "segment" };

@id("stewards-all")
permit(principal in Group::"stewards", action, resource);
"""
ACCESS = """\
masks:
  customers.email: hash
  customers.name: partial
row_filters:
  customers: "country = principal.region"
  payments: "card_country = principal.region"
"""
# (cid, email, name, country, segment)
CUSTOMER_ROWS = [
    ("cust-de-1", "anke.mueller.zq1@example.de", "Ankezqone", "DE", "seg-platinum-zq"),
    ("cust-de-2", "bernd.zq2@example.de", "Berndzqtwo", "DE", "seg-silver-zq"),
    ("cust-fr-1", "claire.zq3@example.fr", "Clairezqthree", "FR", "seg-gold-zq"),
    ("cust-us-1", "dave.zq4@example.com", "Davezqfour", "US", "seg-bronze-zq"),
]
# (id, cid, amount, card_country, note)
PAYMENT_ROWS = [
    (1, "cust-de-1", "10.5", "DE", "note-de-zq-1"),
    (2, "cust-de-2", "7", "DE", "note-de-zq-2"),
    (3, "cust-fr-1", "99.25", "FR", "note-fr-zq-3"),
    (4, "cust-us-1", "1000", "US", "note-us-zq-4"),
    (5, "cust-de-1", "not-a-number-zq", "DE", "note-quarantined-zq-5"),
]
HOST_SENTINEL = "host-file-sentinel-zq"
AUDIT_SENTINEL = "audit-purpose-sentinel-zq"


@dataclass(frozen=True)
class Fortress:
    """The workspace, ana's API key, and what ana may and may not see."""

    ws: aiready.Workspace
    key: str
    forbidden: frozenset[str]
    """Strings that must never reach ana: raw masked values, filtered rows, forbidden column,
    unkeyed hashes of masked values, quarantined and bronze-only text, secrets, host files."""
    permitted_notes: frozenset[str]

    @property
    def root(self) -> Path:
        return self.ws.root

    def leaks(self, text: str) -> list[str]:
        return sorted(s for s in self.forbidden if s in text)


def _csv(header: str, rows: list[tuple[object, ...]]) -> str:
    return header + "\n" + "".join(",".join(str(v) for v in r) + "\n" for r in rows)


def build_fortress(root: Path) -> Fortress:
    for folder in ("contracts", "data", "policies"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "aiready.yaml").write_text(CONFIG)
    for name, body in {"customers": CUSTOMERS, "payments": PAYMENTS}.items():
        (root / f"contracts/{name}.odcs.yaml").write_text(
            CONTRACT_HEAD.format(id=name) + textwrap.dedent(body)
        )
    (root / "data/customers.csv").write_text(_csv("cid,email,name,country,segment", CUSTOMER_ROWS))
    (root / "data/payments.csv").write_text(_csv("id,cid,amount,card_country,note", PAYMENT_ROWS))
    (root / "policies/principals.yaml").write_text(PRINCIPALS)
    (root / "policies/access.cedar").write_text(POLICIES)
    (root / "policies/access.yaml").write_text(ACCESS)
    (root / "hostfile.txt").write_text(HOST_SENTINEL + "\n")
    ws = aiready.Workspace.load(root)
    ws.ingest()
    ws.refine()
    ws.authorize("stew", "read", "customers", AUDIT_SENTINEL)  # a purpose only the audit holds
    key, _ = keys.create(ws.paths, "ana")
    stored = json.loads((ws.paths.state / "keys.json").read_text())
    forbidden = {HOST_SENTINEL, AUDIT_SENTINEL, key, load_secret(ws.paths.state).key.hex()}
    forbidden |= {r[field] for r in stored for field in ("salt", "hash")}
    for cid, email, name, country, segment in CUSTOMER_ROWS:
        forbidden |= {email, name, segment, hashlib.sha256(email.encode()).hexdigest()}
        if country != "DE":
            forbidden.add(cid)
    for _, _, amount, country, note in PAYMENT_ROWS:
        if country != "DE" or "quarantined" in note:
            forbidden.add(note)
        if "zq" in amount:
            forbidden.add(amount)
    permitted = {n for _, _, a, c, n in PAYMENT_ROWS if c == "DE" and "zq" not in a}
    return Fortress(ws, key, frozenset(forbidden), frozenset(permitted))


@pytest.fixture(scope="session")
def fortress(tmp_path_factory: pytest.TempPathFactory) -> Fortress:
    return build_fortress(tmp_path_factory.mktemp("fortress"))
