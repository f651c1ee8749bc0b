"""Gate reports as a self-contained HTML page (an MLflow artifact people read, no network)."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
    "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:4px 8px;"
    "text-align:left}th{background:#f3f3f3}.bad{color:#b00020}.ok{color:#1b7f3b}"
)


def _rows(report: dict[str, Any]) -> str:
    out = []
    for r in report.get("rules", []):
        cls = "bad" if r["failed"] or not r.get("limit_ok", True) else "ok"
        cells = [
            r["rule"],
            r["code"],
            r["action"],
            ", ".join(r["columns"]),
            str(r["failed"]),
            r.get("limit") or "",
        ]
        out.append(
            f"<tr class='{cls}'>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
        )
    return "".join(out)


def render(reports: list[dict[str, Any]], title: str) -> str:
    """One page: per batch, the verdict, row counts and every rule's result."""
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style><h1>{escape(title)}</h1>"
    ]
    for rep in reports:
        verdict = "<b class='ok'>passed</b>" if rep.get("passed") else "<b class='bad'>FAILED</b>"
        parts.append(
            f"<h2>{escape(str(rep.get('batch_id')))} — {verdict}</h2>"
            f"<p>{escape(str(rep.get('source_file')))} · contract "
            f"{escape(str(rep.get('contract_id')))}@{escape(str(rep.get('contract_version')))}"
            f"</p><p>rows in {rep.get('rows_in')}, out {rep.get('rows_out')}, quarantined "
            f"{rep.get('rows_quarantined')}, dropped {rep.get('rows_dropped')}, warned "
            f"{rep.get('rows_warned')}, malformed {rep.get('rows_malformed')}</p>"
        )
        for failure in rep.get("failures", []):
            parts.append(f"<p class='bad'>✗ {escape(failure)}</p>")
        parts.append(
            "<table><tr><th>rule</th><th>code</th><th>action</th><th>columns</th>"
            f"<th>failed</th><th>limit</th></tr>{_rows(rep)}</table>"
        )
    return "".join(parts)
