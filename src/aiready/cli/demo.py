"""Generate a realistic workspace with deliberate defects and run everything on it.

Examples:
  aiready demo                       # ./aiready-demo, 200k payments + 20k customers
  aiready demo --dir /tmp/shop --payments 1000000
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from aiready.cli import render
from aiready.cli._common import JsonOpt, console, emit_json, progress
from aiready.demo import write_workspace
from aiready.demo.train import train_churn_model
from aiready.errors import AireadyError
from aiready.workspace import Workspace


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="Where to build the demo.")] = Path(
        "aiready-demo"
    ),
    payments: Annotated[int, typer.Option("--payments", help="Payment rows.")] = 200_000,
    customers: Annotated[int, typer.Option("--customers", help="Customer rows.")] = 20_000,
    as_json: JsonOpt = False,
) -> int:
    started = time.perf_counter()
    if directory.exists():
        shutil.rmtree(directory)
    write_workspace(directory, "shop", payments, customers)
    ws = Workspace.load(directory)
    with progress(not as_json, "demo") as report:
        result = ws.run(report)
        replay_note = _fix_and_replay(ws)
        trained = train_churn_model(ws) if result.passed else {"skipped": "a gate failed"}
        governed = _govern(ws) if result.passed else {}
    if as_json:
        emit_json(
            {
                **result.asdict(),
                "replay": replay_note,
                "model": trained,
                "governance": governed,
                "status": ws.status(),
            }
        )
        return 0 if result.passed else 1
    render.ingest(result.ingests)
    render.refine(result.refines)
    render.publish(result.publishes)
    console.print(replay_note)
    if "skipped" in trained:
        console.print(f"model training skipped: {trained['skipped']}")
    else:
        console.print(
            f"AI use case: {trained['model_uri']} trained on certified gold "
            f"{trained['trained_on']}; check-model ok: {trained['check_model_ok']}"
        )
    if governed:
        _show_governance(governed)
    d = directory
    a = cli_path()
    console.print(
        f"\n[bold]done in {time.perf_counter() - started:.1f}s.[/] Look at it:\n"
        f"  open {d / 'report.html'}   # scorecard, quality, drift, lineage in one page\n"
        f"  {a} score -w {d}             # how AI-ready, and the fixes ranked by impact\n"
        f'  {a} query "SELECT * FROM customers LIMIT 5" --principal ana --purpose support '
        f"-w {d}\n"
        f"  {a} status -w {d}\n"
        f"  {a} quarantine payments -w {d} --reason out_of_range\n"
        f"  {a} certify -w {d}            # is gold customer_value certified? why (not)?\n"
        f"  {a} check-model models:/churn_risk/1 -w {d}\n"
        f"  {a} ui -w {d}          # MLflow: experiment 'shop', one run per step, "
        f"rule metrics, gate_report.json\n"
        f"  tables: {d}/.aiready/lake/{{bronze,silver,quarantine,gold}}/<name> (Delta)"
    )
    return 0 if result.passed else 1


def _fix_and_replay(ws: Workspace) -> str:
    """Show the review loop: a steward widens the contract, replay releases rows."""
    path = ws.root / "contracts/customers.odcs.yaml"
    text = path.read_text()
    path.write_text(
        text.replace(
            "validValues: ['retail', 'smb', 'enterprise']",
            "validValues: ['retail', 'smb', 'enterprise', 'unknown']",
        )
    )
    result = ws.refine("customers", replay_quarantine=True)[0]
    replay = result.replay
    assert replay is not None
    [published] = ws.publish("customer_value")
    return (
        f"review loop: contract of customers now accepts segment 'unknown'; replay released "
        f"{replay.released} of {replay.checked} quarantined rows into silver; gold "
        f"customer_value v{published.gold_version} (MERGE) certified: {published.certified}"
    )


SEGMENTS_SQL = (
    "SELECT segment, count(*) AS customers, sum(total_spent) AS revenue "
    "FROM gold.customer_value GROUP BY segment ORDER BY segment"
)
TOP_SQL = "SELECT customer_id, email, total_spent FROM customer_value ORDER BY total_spent DESC"


def _govern(ws: Workspace) -> dict[str, Any]:
    """Show policy at work: governed queries (masked, filtered, refused), audit, score, report."""
    segments = ws.query(SEGMENTS_SQL, "ana", "analytics")
    top = ws.query(TOP_SQL, "ana", "analytics", limit=3)
    germans = ws.query("SELECT count(*) AS customers FROM customers", "ana", "support")
    gold_rows = ws.query("SELECT count(*) AS n FROM gold.customer_value", "ana", "analytics")
    try:
        ws.query(TOP_SQL, "ana", "marketing", limit=3)
        refused = "(not refused!)"
    except AireadyError as exc:
        refused = exc.message
    card = ws.score()
    return {
        "segments": segments.table.to_pylist(),
        "top_customers_masked": top.table.to_pylist(),
        "masked": top.masked,
        "customers_visible_to_ana": germans.table.to_pylist()[0]["customers"],
        "row_filter": germans.filtered,
        "gold_customers_visible_to_ana": gold_rows.table.to_pylist()[0]["n"],
        "gold_row_filter": gold_rows.filtered,
        "refused": refused,
        "audit_records": ws.verify_audit(),
        "score": {"overall": card["workspace"]["overall"], **card["workspace"]["scores"]},
        "top_fix": card["workspace"]["top_fixes"][:1],
        "report": str(ws.report(ws.root / "report.html")),
    }


def cli_path() -> str:
    """How this shell can call aiready: ``aiready`` when it is on PATH, else the path that ran.

    ``make demo`` runs ``.venv/bin/aiready``, which a newcomer's shell does not find by name.
    """
    ran = Path(sys.argv[0]).resolve()
    found = shutil.which("aiready")
    if found and Path(found).resolve() == ran:
        return "aiready"
    if ran.name != "aiready":
        return f"{sys.executable} -m aiready"
    try:
        return str(ran.relative_to(Path.cwd()))
    except ValueError:
        return str(ran)


def _show_governance(g: dict[str, Any]) -> None:
    console.print(
        "\n[bold]Controlled[/]: ana (analysts) asks for purpose 'analytics':\n"
        "  per segment: "
        + "; ".join(f"{r['segment']} {r['customers']} ({r['revenue']})" for r in g["segments"])
        + "\n"
        f"  top customers, e-mail masked {g['masked']}: "
        f"{[(r['customer_id'], r['email']) for r in g['top_customers_masked']]}\n"
        f"  row filter {g['row_filter']}: ana sees {g['customers_visible_to_ana']} customers, "
        f"and {g['gold_customers_visible_to_ana']} in gold.customer_value (filtered too)\n"
        f"  same query for 'marketing': refused: {g['refused']}\n"
        f"  audit log: {g['audit_records']} decisions, keyed (HMAC) chain intact"
    )
    score = g["score"]
    parts = ", ".join(f"{k} {v:.0f}" for k, v in score.items() if k != "overall")
    console.print(f"[bold]AI-readiness[/]: {score['overall']:.0f}/100 ({parts})")
    for fix in g["top_fix"]:
        console.print(f"  top fix (+{fix['impact']:.1f}): {fix['target']}: {fix['fix']}")
    console.print(f"  report: {g['report']}")
