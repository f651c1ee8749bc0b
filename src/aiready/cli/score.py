"""How AI-ready the data is: five properties 0-100 per dataset and model, and what to fix first.

Examples:
  aiready score
  aiready score --json       # evidence per check, fixes ranked by impact; logged to MLflow
"""

from __future__ import annotations

from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.scorecard import PROPERTIES


def score(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    card = load(workspace).score()
    if as_json:
        emit_json(card)
        return 0
    table = Table("name", "layer", *[p.replace("_", "-") for p in PROPERTIES], "overall")
    for item in card["items"]:
        values = [f"{item['scores'][p]:.0f}" for p in PROPERTIES]
        table.add_row(item["name"], item["layer"] or "?", *values, f"{item['overall']:.0f}")
    ws = card["workspace"]
    values = [f"{ws['scores'][p]:.0f}" for p in PROPERTIES]
    table.add_row("[bold]workspace[/bold]", "", *values, f"[bold]{ws['overall']:.0f}[/bold]")
    console.print(table)
    console.print("[bold]Top fixes[/bold] (points of overall score each would add):")
    for fix in ws["top_fixes"]:
        console.print(
            f"  +{fix['impact']:.1f}  {fix['target']}: {fix['fix']}  [dim]({fix['evidence']})[/dim]"
        )
    return 0
