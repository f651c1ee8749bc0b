"""Cedar policies over workspace entities, and the hash-chained audit log, on real components."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

import aiready
from aiready.policy import AuditTampered, PolicyError
from tests.layers.test_gold import build

PRINCIPALS = """\
groups: [analysts, ai-apps, stewards]
users:
  alice: {groups: [analysts], region: EU}
  sam: {groups: [stewards], region: US}
services:
  churn-bot: {groups: [ai-apps], region: EU}
"""
POLICIES = """\
// analysts may query any dataset for one of its allowed purposes
@id("analysts-query")
permit(principal in Group::"analysts", action == Action::"query", resource)
when { resource.allowedPurposes.contains(context.purpose) };

@id("bots-retrieve-gold")
permit(principal in Group::"ai-apps", action == Action::"retrieve", resource)
when { resource.layer == "gold" };

@id("no-pii-to-bots")
forbid(principal in Group::"ai-apps", action, resource is Column) when { resource.pii };
"""
TESTS = """\
- {name: analyst fraud, principal: alice, action: query, resource: payments, purpose: fraud,
   expect: allow}
- {name: analyst marketing, principal: alice, action: query, resource: payments,
   purpose: marketing, expect: deny}
- {name: steward has no permit, principal: sam, action: query, resource: payments,
   purpose: fraud, expect: deny}
"""


def governed(root: Path) -> aiready.Workspace:
    build(root)
    (root / "policies/tests").mkdir(parents=True)
    (root / "policies/principals.yaml").write_text(PRINCIPALS)
    (root / "policies/access.cedar").write_text(POLICIES)
    (root / "policies/tests/basic.yaml").write_text(TESTS)
    path = root / "contracts/payments.odcs.yaml"
    path.write_text(
        path.read_text() + "customProperties:\n  - property: allowedPurposes\n"
        "    value: [fraud, analytics]\n"
    )
    path = root / "contracts/customer_value.odcs.yaml"
    path.write_text(
        path.read_text().replace(
            "{name: segment, logicalType: string}",
            "{name: segment, logicalType: string, classification: internal, tags: [pii]}",
        )
    )
    return aiready.Workspace.load(root)


def test_decisions_deny_by_default_and_forbid_overrides(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    allow = ws.authorize("alice", "query", "payments", "fraud")
    assert allow.allowed and allow.policies == ["analysts-query"]
    wrong_purpose = ws.authorize("alice", "query", "payments", "marketing")
    assert not wrong_purpose.allowed and "deny by default" in wrong_purpose.reason
    assert not ws.authorize("sam", "query", "payments", "fraud").allowed
    assert ws.authorize("churn-bot", "retrieve", "customer_value", "churn").allowed
    assert ws.authorize("churn-bot", "retrieve", "customer_value.total", "churn").allowed
    forbidden = ws.authorize("churn-bot", "retrieve", "customer_value.segment", "churn")
    assert not forbidden.allowed and forbidden.policies == ["no-pii-to-bots"]
    assert not ws.authorize("alice", "query", "nope", "fraud").allowed  # unknown resource
    assert ws.verify_audit() == 7  # every decision, allow and deny, is in the log


def test_bad_requests_are_clear_errors(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    with pytest.raises(PolicyError, match="unknown principal 'mallory'"):
        ws.authorize("mallory", "query", "payments", "fraud")
    with pytest.raises(PolicyError, match="purpose is required"):
        ws.authorize("alice", "query", "payments", " ")
    with pytest.raises(PolicyError, match="unknown action"):
        ws.authorize("alice", "drop", "payments", "fraud")


def test_policy_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    ws = governed(tmp_path)
    (tmp_path / "policies/broken.cedar").write_text(
        'permit(principal, action, resource);\n\n@id("bad")\npermit(principal, action, resource)'
        " when { oops ;\n"
    )
    with pytest.raises(PolicyError, match="does not parse") as info:
        aiready.Workspace.load(tmp_path).policy  # noqa: B018
    assert info.value.attrs()["file"] == "policies/broken.cedar"
    assert info.value.attrs()["line"] == 3
    assert ws  # the first workspace object is unaffected


def _tamper(ws: aiready.Workspace, change: str) -> None:
    dt = DeltaTable(str(ws.audit_path))
    rows = sorted(dt.to_pyarrow_table().to_pylist(), key=lambda r: r["seq"])
    if change == "edit":
        rows[1]["decision"] = "allow"
    elif change == "remove":
        del rows[1]
    else:
        rows[1]["seq"], rows[2]["seq"] = rows[2]["seq"], rows[1]["seq"]
    write_deltalake(
        str(ws.audit_path),
        pa.Table.from_pylist(rows, schema=pa.schema(dt.schema().to_arrow())),
        mode="overwrite",
    )


@pytest.mark.parametrize("change", ["edit", "remove", "reorder"])
def test_audit_verify_detects_tampering(tmp_path: Path, change: str) -> None:
    ws = governed(tmp_path)
    for purpose in ("fraud", "marketing", "analytics", "fraud"):
        ws.authorize("alice", "query", "payments", purpose)
    assert ws.verify_audit() == 4
    _tamper(ws, change)
    with pytest.raises(AuditTampered) as info:
        ws.verify_audit()
    assert info.value.attrs()["record"] == 1
    result = subprocess.run(
        [sys.executable, "-m", "aiready", "audit", "verify", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert result.returncode == 1 and "audit record 1" in result.stderr


def test_cli_explain_and_policy_tests(tmp_path: Path) -> None:
    governed(tmp_path)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "aiready", *args, "-w", str(tmp_path)],
            capture_output=True,
            text=True,
            env={**os.environ},
            timeout=120,
        )

    ok = cli(
        "policy",
        "explain",
        "--principal",
        "alice",
        "--action",
        "query",
        "--resource",
        "payments",
        "--purpose",
        "fraud",
    )
    assert ok.returncode == 0 and "ALLOW" in ok.stdout and "analysts-query" in ok.stdout
    denied = cli(
        "policy",
        "explain",
        "--principal",
        "alice",
        "--action",
        "query",
        "--resource",
        "payments",
        "--purpose",
        "marketing",
    )
    assert denied.returncode == 1 and "DENY" in denied.stdout
    assert cli("policy", "test").returncode == 0
    (tmp_path / "policies/tests/bad.yaml").write_text(
        "- {principal: alice, action: query, resource: payments, purpose: x, expect: allow}\n"
    )
    assert cli("policy", "test").returncode == 1
    assert cli("audit", "verify").returncode == 0
