"""Contract lifecycle: lint, infer, diff, export and import ODCS v3 contracts.

Examples:
  aiready contract lint contracts/*.odcs.yaml        # every problem, with its YAML path and line
  aiready contract infer data/orders.csv -o contracts/orders.odcs.yaml
  aiready contract diff old.odcs.yaml new.odcs.yaml  # each change: breaking or compatible
  aiready contract export contracts/orders.odcs.yaml --format sql --dialect postgres
"""

from __future__ import annotations

import typer

from aiready.cli.contract import infer

app = typer.Typer(help=__doc__, no_args_is_help=True)
app.command("infer", help=infer.__doc__)(infer.infer)
