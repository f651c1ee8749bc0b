"""Scan silver datasets and gold models for PII the contracts do not declare.

Exit code 1 when a column holds PII (validated e-mails, phone numbers, IBANs, card numbers with
Luhn, national ids) but its contract neither tags it pii nor classifies it.

Examples:
  aiready scan
  aiready scan customers --json
"""

from __future__ import annotations

from typing import Annotated

import typer

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load


def scan(
    name: Annotated[str | None, typer.Argument(help="Dataset or model (default: all).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    findings = load(workspace).scan_pii(name)
    if as_json:
        emit_json([f.asdict() for f in findings])
    else:
        for f in findings:
            mark = "[green]classified[/]" if f.classified else "[red]NOT CLASSIFIED[/]"
            console.print(f"{f.dataset}.{f.column}: {f.kind} ({f.share:.0%} of {f.sampled}) {mark}")
        if not findings:
            console.print("no PII found")
    return 1 if any(not f.classified for f in findings) else 0
