"""Generate a realistic workspace with deliberate defects and run everything on it.

Examples:
  aiready demo                       # ./aiready-demo, 200k payments + 20k customers
  aiready demo --dir /tmp/shop --payments 1000000
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer

from aiready.cli import render
from aiready.cli._common import JsonOpt, console, emit_json, progress
from aiready.demo import write_workspace
from aiready.demo.train import train_churn_model
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
    if as_json:
        emit_json(
            {**result.asdict(), "replay": replay_note, "model": trained, "status": ws.status()}
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
    d = directory
    console.print(
        f"\n[bold]done in {time.perf_counter() - started:.1f}s.[/] Look at it:\n"
        f"  aiready status -w {d}\n"
        f"  aiready quarantine payments -w {d} --reason out_of_range\n"
        f"  aiready certify -w {d}            # is gold customer_value certified? why (not)?\n"
        f"  aiready check-model models:/churn_risk/1 -w {d}\n"
        f"  aiready ui -w {d}          # MLflow: experiment 'shop', one run per step, "
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
