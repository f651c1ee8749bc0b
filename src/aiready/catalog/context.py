"""``aiready context``: what an LLM or agent needs to use a dataset correctly, and nothing more.

Only the columns the caller may query for the declared purpose are described; a caller who may not
query the dataset at all gets an AccessDenied (and the decisions are audited).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiready.catalog.catalog import entry
from aiready.certification.certify import describe_lag
from aiready.policy import Decision, audit
from aiready.policy.errors import AccessDenied

if TYPE_CHECKING:
    from aiready.catalog.source import ContextSource


def _may_see(
    ws: ContextSource, principal: str, resource: str, purpose: str, decisions: list[Decision]
) -> bool:
    """Visible when the caller may either query or retrieve it (both decisions are audited)."""
    for action in ("query", "retrieve"):
        decision = ws.policy.decide(principal, action, resource, purpose)
        decisions.append(decision)
        if decision.allowed:
            return True
    return False


def context(ws: ContextSource, name: str, principal: str, purpose: str) -> dict[str, Any]:
    """The entry of ``name`` as ``principal`` may see it for ``purpose``."""
    e = entry(ws, name)
    decisions: list[Decision] = []
    if not _may_see(ws, principal, name, purpose, decisions):
        audit.append(ws.audit_path, ws.paths.locks, decisions)
        raise AccessDenied(
            f"{principal} may not use {name} for {purpose!r}: {decisions[-1].reason}",
            principal=principal,
            resource=name,
        )
    visible = [
        c
        for c in e["columns"]
        if _may_see(ws, principal, f"{name}.{c['name']}", purpose, decisions)
    ]
    audit.append(ws.audit_path, ws.paths.locks, decisions)
    hidden = len(e["columns"]) - len(visible)
    caveats = list(e["gaps"])
    if hidden:
        caveats.append(f"{hidden} column(s) are not visible to {principal} for {purpose!r}")
    cert = e.get("certification")
    if cert and not cert["certified"]:
        caveats.append("not certified: " + "; ".join(cert["certificate_reasons"]))
    return {
        **e,
        "columns": visible,
        "caller": {"principal": principal, "purpose": purpose},
        "caveats": caveats,
    }


def to_markdown(ctx: dict[str, Any]) -> str:
    """The same context as Markdown, for a prompt."""
    lines = [
        f"# {ctx['layer']}.{ctx['name']}",
        "",
        ctx["description"] or "(no description)",
        "",
        f"- kind: {ctx['kind']}; domain: {ctx.get('domain') or '-'}; owners: "
        f"{', '.join(ctx['owners']) or '-'}",
        f"- allowed purposes: {', '.join(ctx['allowed_purposes']) or '-'}",
        f"- rows: {ctx['rows']}; version: {ctx['version']}",
    ]
    if ctx.get("quality"):
        q = ctx["quality"]
        held = q.get("quarantine") or {}
        lines.append(
            f"- quality: {q['rows_out']} of {q['rows_in']} rows are in silver (passed the contract"
            f" or released after review); {held.get('open', 0)} wait in quarantine, "
            f"{held.get('rejected', 0)} rejected"
        )
    if ctx.get("certification"):
        c = ctx["certification"]
        lines.append(
            f"- certified: {c['certified']} (serving version {c['certified_version']}); "
            f"freshness lag: {describe_lag(c['freshness_lag_s'])}"
        )
    lines += ["", "| column | type | meaning | terms | constraints |", "|---|---|---|---|---|"]
    for col in ctx["columns"]:
        terms = "; ".join(f"{t['term']}: {t.get('definition') or '?'}" for t in col["terms"])
        constraints = ", ".join(
            [
                *(["required"] if col["required"] else []),
                *(f"{k}={v}" for k, v in col["options"].items()),
                *([f"classification={col['classification']}"] if col["classification"] else []),
            ]
        )
        kind = col["physical_type"] or col["logical_type"]
        lines.append(f"| {col['name']} | {kind} | {col['description']} | {terms} | {constraints} |")
    if ctx["caveats"]:
        lines += ["", "Caveats:", *(f"- {c}" for c in ctx["caveats"])]
    return "\n".join(lines) + "\n"
