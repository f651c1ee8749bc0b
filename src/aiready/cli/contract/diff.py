"""Compare two contracts, or a dataset's contract with the one last applied to it.

Each change is breaking or compatible, with the reason (the table is in README.md, "What a
contract edit breaks"). Exit 0 when nothing breaks, 1 when something does, 2 on an error
(unreadable file, not a contract, two contracts with different ids without --force).

Examples:
  aiready contract diff old.odcs.yaml new.odcs.yaml
  aiready contract diff payments                    # contract file vs the last one refine applied
  aiready contract diff customer_value --format markdown >> CHANGELOG.md
  aiready contract diff a.odcs.yaml b.odcs.yaml --format json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from aiready.cli._common import JsonOpt, WorkspaceOpt, emit_json, load
from aiready.contracts import LoadedContract, load_contract
from aiready.contracts.diff import diff_contracts
from aiready.errors import ContractError, NotFoundError
from aiready.layers import applied

Format = Literal["text", "json", "markdown"]


def _read(path: Path) -> LoadedContract:
    if path.is_dir():
        raise ContractError("a directory, not a contract file", file=str(path))
    return load_contract(path)


def _applied_pair(name: str, workspace: Path | None) -> tuple[LoadedContract, LoadedContract]:
    """(last applied, current file) of dataset or model ``name``."""
    ws = load(workspace)
    if name in ws.config.datasets:
        layer: applied.Layer = "silver"
        current = ws.root / ws.config.datasets[name].contract
    elif name in ws.config.models:
        layer, current = "gold", ws.root / ws.config.models[name].contract
    else:
        known = sorted({*ws.config.datasets, *ws.config.models})
        raise NotFoundError(
            f"{name!r} is neither a contract file nor a dataset or model; known: {known}",
            dataset=name,
        )
    last = applied.last_applied(ws.paths, layer, name)
    if last is None:
        raise NotFoundError(f"no contract was applied to {layer} {name} yet", dataset=name)
    sha, kept = last
    if not kept.is_file():
        raise ContractError(
            f"the text of contract {sha[:12]} last applied to {layer} {name} was not kept "
            "(applied before aiready kept contract texts); diff two files instead",
            file=str(kept),
            dataset=name,
        )
    return _read(kept), _read(current)


def diff(
    old: Annotated[str, typer.Argument(help="The old contract file, or a dataset/model name.")],
    new: Annotated[str | None, typer.Argument(help="The new contract file.")] = None,
    fmt: Annotated[
        Format, typer.Option("--format", help="text, json or markdown (a changelog section).")
    ] = "text",
    force: Annotated[
        bool, typer.Option("--force", help="Compare two contracts even if their ids differ.")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    if new is not None:
        before, after = _read(Path(old)), _read(Path(new))
    elif Path(old).is_file() or Path(old).suffix in (".yaml", ".yml"):
        raise typer.BadParameter("give the new contract too: aiready contract diff OLD NEW")
    else:
        before, after = _applied_pair(old, workspace)
    result = diff_contracts(before, after, force=force)
    if as_json or fmt == "json":
        emit_json(result.asdict())
    else:
        typer.echo(result.markdown() if fmt == "markdown" else result.text(), nl=False)
    return 1 if result.breaking else 0
