"""The workspace secret (.aiready/secret.json, mode 0600): the key ring behind the audit HMAC.

Examples:
  aiready secret rotate       # new records are signed with a new key; old ones still verify

Only key ids are ever printed, never key material.
"""

from __future__ import annotations

import typer

from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.storage import dataset_lock
from aiready.storage.secret import rotate_secret

app = typer.Typer(help=__doc__, no_args_is_help=True)


@app.command()
def rotate(workspace: WorkspaceOpt = None, as_json: JsonOpt = False) -> int:
    """Add a new current key to the ring; older keys stay to verify what they signed."""
    paths = load(workspace).paths
    with dataset_lock(paths.locks, "_audit"):  # no audit commit or other rotation in between
        ring = rotate_secret(paths.state)
    if as_json:
        emit_json({"ok": True, "current": ring.current, "keys": sorted(ring.keys)})
    else:
        console.print(
            f"[green]rotated[/]: new records are signed with key {ring.current}; "
            f"{len(ring.keys)} keys in the ring"
        )
    return 0
