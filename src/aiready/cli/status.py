"""Show each dataset: rows per layer, open quarantine, pending batches, versions, owner.

Examples:
  aiready status
  aiready status --json     # keys documented in the README
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from aiready.certification.certify import describe_lag
from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def status(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    data = load(workspace).status()
    if as_json:
        emit_json(data)
        return 0
    table = Table(title=f"workspace {data['workspace']}")
    for col in (
        "dataset",
        "kind",
        "bronze",
        "silver",
        "open",
        "released",
        "rejected",
        "pending",
        "contract",
        "owner",
    ):
        table.add_column(col)
    for d in data["datasets"]:
        contract = d["contract"]
        table.add_row(
            d["dataset"],
            d["kind"],
            str(d["rows"]["bronze"]),
            str(d["rows"]["silver"]),
            str(d["quarantine"]["open"]),
            str(d["quarantine"]["released"]),
            str(d["quarantine"]["rejected"]),
            str(len(d["batches"]["pending"])),
            f"{contract['id']}@{contract['version']}"
            if contract
            else f"[red]{d['contract_error']}[/]",
            ", ".join(d["owners"]) or "[red]none[/]",
        )
    console.print(table)
    for d in data["datasets"]:
        for f in d["batches"].get("failed", []):
            console.print(
                f"[red]✗ {d['dataset']} batch {f['batch_id']} ({escape(f['file'])}) failed its "
                f"gate:[/] {escape(f['hint'])}"
            )
    if data["models"]:
        models = Table(title="gold models")
        for col in ("model", "rows", "version", "certified", "certified version", "lag", "why not"):
            models.add_column(col)
        for m in data["models"]:
            verdict = "[green]yes[/]" if m["certified"] else "[red]no[/]"
            lag = "" if m["freshness_lag_s"] is None else describe_lag(m["freshness_lag_s"])
            models.add_row(
                m["model"],
                str(m["rows"]),
                str(m["gold_version"]),
                verdict,
                str(m["certified_version"]),
                lag,
                "; ".join(m["certificate_reasons"]),
            )
        console.print(models)
    return 0
