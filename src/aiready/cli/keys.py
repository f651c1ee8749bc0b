"""API keys for `aiready serve`: each bound to one principal of policies/principals.yaml.

Examples:
  aiready keys create --principal churn-bot     # prints the key once; only a salted hash is kept
  aiready keys list
  aiready keys revoke 3f9a1c2b7d4e
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.service import keys as api_keys

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.command()
def create(
    principal: Annotated[str, typer.Option("--principal")],
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Create a key for PRINCIPAL; it is shown now and never again."""
    ws = load(workspace)
    ws.policy.principal_uid(principal)  # only declared principals get keys
    key, record = api_keys.create(ws.paths, principal)
    if as_json:
        emit_json({"key": key, **record.public()})
    else:
        console.print(f"key for {principal} (id {record.id}); store it now, it is not kept:")
        console.print(key, soft_wrap=True, highlight=False)
    return 0


@app.command("list")
def list_keys(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Keys by id and principal (never the key or its hash)."""
    records = [r.public() for r in api_keys.listing(load(workspace).paths)]
    if as_json:
        emit_json(records)
        return 0
    table = Table("id", "principal", "created", "revoked")
    for r in records:
        table.add_row(r["id"], r["principal"], r["created_at"][:19], str(r["revoked"]))
    console.print(table)
    return 0


@app.command()
def revoke(key_id: str, workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Revoke a key by id; requests with it get 401 at once."""
    record = api_keys.revoke(load(workspace).paths, key_id)
    if as_json:
        emit_json(record.public())
    else:
        console.print(f"revoked {record.id} ({record.principal})")
    return 0
