"""Contract lifecycle: lint, infer, diff, export and import ODCS v3 contracts.

Examples:
  aiready contract lint contracts/*.odcs.yaml        # every problem, with its YAML path and line
  aiready contract infer data/orders.csv -o contracts/orders.odcs.yaml
  aiready contract diff old.odcs.yaml new.odcs.yaml  # each change: breaking or compatible
  aiready contract export contracts/orders.odcs.yaml --format sql --dialect postgres
"""

from __future__ import annotations

import typer

from aiready.cli.contract import diff, export, import_sql, infer, lint

app = typer.Typer(help=__doc__, no_args_is_help=True)
app.command(name="lint", help=lint.__doc__)(lint.lint)
app.command(name="infer", help=infer.__doc__)(infer.infer)
app.command(name="diff", help=diff.__doc__)(diff.diff)
app.command(name="export", help=export.__doc__)(export.export)
app.command(name="import", help=import_sql.__doc__)(import_sql.import_sql)
