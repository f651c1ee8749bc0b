"""Policies: explain one decision, run the policy test cases, or lint the policy files.

Examples:
  aiready policy explain --principal alice --action query --resource payments --purpose fraud
  aiready policy test                       # exit 1 if a case fails
  aiready policy lint                       # exit 1 listing every mistake, with file and line
A test case: {name, principal, action, resource, purpose, expect: allow|deny}.
"""

from __future__ import annotations

from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.policy import PolicyError
from aiready.policy.entities import resource_entities
from aiready.policy.lint import lint as lint_policies

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.command()
def explain(
    principal: Annotated[str, typer.Option("--principal")],
    action: Annotated[str, typer.Option("--action")],
    resource: Annotated[str, typer.Option("--resource", help="dataset, model or name.column")],
    purpose: Annotated[str, typer.Option("--purpose")] = "",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """The decision for one request and the policies that decided it (the request is audited)."""
    decision = load(workspace).authorize(principal, action, resource, purpose)
    if as_json:
        emit_json(decision.asdict())
    else:
        verdict = "[green]ALLOW[/]" if decision.allowed else "[red]DENY[/]"
        console.print(
            f"{verdict} {principal} {action} {resource} for {purpose!r}: "
            f"{decision.reason}; policies: {', '.join(decision.policies) or 'none'}"
        )
    return 0 if decision.allowed else 1


@app.command()
def test(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Run every case in policies/tests/*.yaml against the current policies."""
    ws = load(workspace)
    results = []
    for path in sorted((ws.root / "policies/tests").glob("*.yaml")):
        cases = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(cases, list):
            raise PolicyError("a policy test file is a list of cases", file=str(path))
        for n, case in enumerate(cases):
            missing = {"principal", "action", "resource", "purpose", "expect"} - set(case)
            if missing:
                raise PolicyError(f"test case lacks {sorted(missing)}", file=str(path), case=n)
            d = ws.policy.decide(
                case["principal"], case["action"], case["resource"], case["purpose"]
            )
            got = "allow" if d.allowed else "deny"
            results.append(
                {
                    "file": path.name,
                    "case": case.get("name", n),
                    "expect": case["expect"],
                    "got": got,
                    "ok": got == case["expect"],
                    "policies": d.policies,
                }
            )
    if as_json:
        emit_json(results)
    else:
        table = Table(title="policy tests")
        for col in ("file", "case", "expect", "got", "policies"):
            table.add_column(col)
        for r in results:
            style = "" if r["ok"] else "[red]"
            table.add_row(
                r["file"],
                str(r["case"]),
                r["expect"],
                f"{style}{r['got']}",
                ", ".join(r["policies"]),
            )
        console.print(table)
    return 0 if all(r["ok"] for r in results) else 1


@app.command()
def lint(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Check every policy file against the principals and contracts (a Cedar schema).

    Lists each unknown attribute, undeclared group, principal, dataset, column or action, bad
    mask and duplicate id, with its file and line or policy id. Exit 1 if there is any.
    """
    ws = load(workspace)
    problems = lint_policies(ws.root, resource_entities(ws.config))
    if as_json:
        emit_json({"ok": not problems, "problems": [p.asdict() for p in problems]})
    elif problems:
        for problem in problems:
            console.print(f"[red]✗[/] {escape(str(problem))}", highlight=False)
        console.print(f"{len(problems)} problem(s)")
    else:
        console.print("[green]policies ok[/]")
    return 1 if problems else 0
