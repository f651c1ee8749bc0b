"""The AI-readiness scorecard: five properties, 0-100 each, with evidence and the fixes that matter.

Each property is the mean of its checks (each 0-100). A check below 100 becomes a fix whose impact
is the points it would add to the overall score (the mean of the five properties), so fixes rank
by how much AI-readiness they buy. The workspace scores are the means over datasets and models.

* trusted: a valid contract, the gate pass rate, open quarantine, certification (models).
* controlled: an owner, PII columns classified, a policy that grants some use, the audit intact.
* contextual: column descriptions, glossary terms, lineage recorded.
* actionable: decisions recorded on it, and outcomes linked to them.
* self-improving: corrections reviewed, how fast, drift checked for the current version.
"""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiready.catalog import entry
from aiready.drift import latest as latest_drift
from aiready.errors import AireadyError
from aiready.lineage.graph import load_runs
from aiready.policy.engine import ACTIONS

if TYPE_CHECKING:
    from aiready.scorecard.source import ScoreSource

PROPERTIES = ("trusted", "controlled", "contextual", "actionable", "self_improving")
TURNAROUND_HOURS = 72.0
"""Corrections reviewed within this many hours score 100; slower ones lose points linearly."""

Check = tuple[str, float, str, str]
"""(check, score 0-100, evidence, fix)."""


def _share(part: float, whole: float) -> float:
    return 100.0 if whole == 0 else 100.0 * part / whole


def _trusted(ws: ScoreSource, name: str, e: dict[str, Any]) -> list[Check]:
    checks: list[Check] = [("contract", 100.0, f"contract {e['contract']['id']}", "")]
    if e["layer"] == "silver":
        q = e.get("quality") or {}
        rate = q.get("pass_rate")
        checks.append(
            (
                "gate pass rate",
                0.0 if rate is None else 100.0 * rate,
                f"{q.get('rows_out', 0)} of {q.get('rows_in', 0)} rows in silver",
                "refine the data: no batch has passed the gate"
                if rate is None
                else "fix the sources or the contract behind the quarantined rows",
            )
        )
        open_rows = int((q.get("quarantine") or {}).get("open", 0))
        total = q.get("rows_in") or 0
        checks.append(
            (
                "open quarantine",
                100.0 - _share(open_rows, total) if total else 100.0,
                f"{open_rows} rows wait in quarantine",
                f"review quarantine: aiready quarantine {name}",
            )
        )
    else:
        cert = e.get("certification") or {}
        ok = bool(cert.get("certified"))
        reasons = "; ".join(cert.get("certificate_reasons") or []) or "not published"
        checks.append(
            (
                "certified",
                100.0 if ok else 0.0,
                "current version certified" if ok else reasons,
                f"make {name} certifiable: {reasons}",
            )
        )
    return checks


def _controlled(ws: ScoreSource, name: str, e: dict[str, Any], audit_ok: bool) -> list[Check]:
    pii = [c for c in e["columns"] if c["pii"]]
    classified = [c for c in pii if c["classification"]]
    granted = _granted(ws, name)
    return [
        (
            "owner",
            100.0 if e["owners"] else 0.0,
            ", ".join(e["owners"]) or "no owner",
            "name an owner in the contract's team (role: owner)",
        ),
        (
            "PII classified",
            _share(len(classified), len(pii)),
            f"{len(classified)} of {len(pii)} PII columns classified",
            "classify the PII columns: "
            + ", ".join(c["name"] for c in pii if not c["classification"]),
        ),
        (
            "policy",
            100.0 if granted else 0.0,
            f"policies grant {sorted(granted)}" if granted else "no principal may use it",
            f"write a Cedar policy in policies/ that permits the intended use of {name}",
        ),
        (
            "audit intact",
            100.0 if audit_ok else 0.0,
            "keyed chain verified" if audit_ok else "audit chain broken",
            "investigate the audit log: aiready audit verify",
        ),
    ]


def _granted(ws: ScoreSource, name: str) -> set[str]:
    """Actions some declared principal is permitted on ``name`` for one of its purposes."""
    try:
        engine = ws.policy
    except AireadyError:
        return set()
    purposes = entry_purposes(ws, name) or ["any"]
    found = set()
    for principal in engine.kinds:
        for action in ACTIONS:
            for purpose in purposes:
                if engine.decide(principal, action, name, purpose).allowed:
                    found.add(action)
    return found


def entry_purposes(ws: ScoreSource, name: str) -> list[str]:
    return list(entry(ws, name)["allowed_purposes"])


def _contextual(ws: ScoreSource, name: str, e: dict[str, Any], lineage: set[str]) -> list[Check]:
    cols = e["columns"]
    described = [c for c in cols if c["description"]]
    termed = [c for c in cols if c["terms"]]
    layer_name = f"{e['layer']}.{name}"
    return [
        (
            "descriptions",
            _share(len(described), len(cols)),
            f"{len(described)} of {len(cols)} columns described",
            "describe: " + ", ".join(c["name"] for c in cols if not c["description"])[:200],
        ),
        (
            "glossary terms",
            _share(len(termed), len(cols)),
            f"{len(termed)} of {len(cols)} columns linked to a term",
            "link columns to glossary.yaml terms (tag term:<name>)",
        ),
        (
            "lineage",
            100.0 if layer_name in lineage else 0.0,
            "lineage recorded" if layer_name in lineage else "no lineage event names it",
            f"run the pipeline with lineage on (aiready run), then: aiready lineage {name}",
        ),
    ]


def _rows(ws: ScoreSource, kind: str) -> list[dict[str, Any]]:
    return ws.feedback.rows(kind)


def _actionable(name: str, decisions: list[dict[str, Any]], outcome_ids: set[str]) -> list[Check]:
    mine = [d for d in decisions if d["dataset"] == name]
    linked = [d for d in mine if d["id"] in outcome_ids]
    return [
        (
            "decisions recorded",
            100.0 if mine else 0.0,
            f"{len(mine)} decisions recorded",
            f"record what people do with AI answers from {name}: POST /decisions",
        ),
        (
            "outcomes linked",
            _share(len(linked), len(mine)) if mine else 0.0,
            f"{len(linked)} of {len(mine)} decisions have an outcome",
            "record outcomes of decisions: POST /outcomes",
        ),
    ]


def _self_improving(
    ws: ScoreSource, name: str, e: dict[str, Any], corrections: list[dict[str, Any]]
) -> list[Check]:
    mine = [c for c in corrections if c["dataset"] == name]
    handled = [c for c in mine if c["status"] != "pending"]
    hours = [
        (c["reviewed_at"] - c["created_at"]).total_seconds() / 3600
        for c in handled
        if c["reviewed_at"] is not None
    ]
    turnaround = statistics.median(hours) if hours else None
    drift = latest_drift(ws.paths, name)
    current = drift is not None and drift["current_version"] == e["version"]
    return [
        (
            "corrections handled",
            _share(len(handled), len(mine)),
            f"{len(handled)} of {len(mine)} corrections reviewed",
            "review pending corrections: aiready feedback list --status pending",
        ),
        (
            "correction turnaround",
            100.0
            if turnaround is None
            else max(0.0, 100.0 - 100.0 * max(0.0, turnaround - 24) / TURNAROUND_HOURS),
            "no reviews yet" if turnaround is None else f"median {turnaround:.1f} h to review",
            "review corrections within a day",
        ),
        (
            "drift monitored",
            100.0 if current else 0.0,
            f"drift checked against {drift['reference']}" if current and drift else "not checked",
            f"check drift of the current version: aiready drift {name}",
        ),
    ]


def score(ws: ScoreSource) -> dict[str, Any]:
    """The scorecard of every dataset and model, and of the workspace."""
    from aiready.policy.errors import AuditTampered

    try:
        ws.verify_audit()
        audit_ok = True
    except AuditTampered:
        audit_ok = False
    lineage = {o.name for r in load_runs(ws.paths.lineage) for o in r.outputs}
    decisions = _rows(ws, "decision")
    outcome_ids = {json.loads(r["payload"])["decision_id"] for r in _rows(ws, "outcome")}
    corrections = _rows(ws, "correction")
    items = []
    for name in [*ws.config.datasets, *ws.config.models]:
        try:
            e = entry(ws, name)
        except AireadyError as exc:
            items.append(_broken(name, exc.message))
            continue
        checks = {
            "trusted": _trusted(ws, name, e),
            "controlled": _controlled(ws, name, e, audit_ok),
            "contextual": _contextual(ws, name, e, lineage),
            "actionable": _actionable(name, decisions, outcome_ids),
            "self_improving": _self_improving(ws, name, e, corrections),
        }
        items.append(_card(name, e["layer"], checks))
    workspace = {
        p: round(statistics.mean(i["scores"][p] for i in items), 1) if items else 0.0
        for p in PROPERTIES
    }
    overall = round(statistics.mean(workspace.values()), 1)
    n = max(len(items), 1)
    fixes = sorted(
        ({**f, "impact": round(f["impact"] / n, 2)} for i in items for f in i["fixes"]),
        key=lambda f: -float(f["impact"]),
    )
    return {
        "at": datetime.now(UTC).isoformat(),
        "workspace": {"scores": workspace, "overall": overall, "top_fixes": fixes[:10]},
        "items": items,
    }


def _card(name: str, layer: str, checks: dict[str, list[Check]]) -> dict[str, Any]:
    scores = {p: round(statistics.mean(c[1] for c in cs), 1) for p, cs in checks.items()}
    fixes: list[dict[str, Any]] = []
    for prop, cs in checks.items():
        for check, value, seen, fix in cs:
            if value < 100 and fix:
                impact = (100 - value) / len(cs) / len(PROPERTIES)
                fixes.append(
                    {
                        "target": name,
                        "property": prop,
                        "check": check,
                        "fix": fix,
                        "evidence": seen,
                        "impact": round(impact, 1),
                    }
                )
    fixes.sort(key=lambda f: -f["impact"])
    evidence = {
        p: [{"check": c[0], "score": round(c[1], 1), "evidence": c[2]} for c in cs]
        for p, cs in checks.items()
    }
    return {
        "name": name,
        "layer": layer,
        "scores": scores,
        "overall": round(statistics.mean(scores.values()), 1),
        "evidence": evidence,
        "fixes": fixes,
    }


def _broken(name: str, message: str) -> dict[str, Any]:
    scores = dict.fromkeys(PROPERTIES, 0.0)
    fix = {"target": name, "property": "trusted", "check": "contract", "fix": message,
           "evidence": message, "impact": 20.0}  # fmt: skip
    return {
        "name": name,
        "layer": None,
        "scores": scores,
        "overall": 0.0,
        "evidence": {},
        "fixes": [fix],
    }
