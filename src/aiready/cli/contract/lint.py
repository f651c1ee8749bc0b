"""Lint contracts: every problem, not the first, each as `file:line: severity: path: message`.

Checks YAML syntax, the JSON Schema of the contract's own apiVersion, unknown keys (with the
closest ODCS key), the ODCS model, compilation of every schema object, and, inside a workspace,
what the contract names there (relationship targets, glossary terms) and whether any dataset or
model uses it. What aiready does not execute is a warning; `--strict` makes it an error.
Exit 1 when there is any error (with --strict: any problem), 0 otherwise, 2 for a missing file.

Examples:
  aiready contract lint contracts/*.odcs.yaml
  aiready contract lint contracts/orders.odcs.yaml --strict --json
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from aiready import _env
from aiready.cli._common import JsonOpt, WorkspaceOpt, console, emit_json, load
from aiready.config import WorkspaceConfig
from aiready.contracts.lint import ContractProblem, lint_contract
from aiready.errors import ContractError
from aiready.workspace.contract_lint import lint_references
from aiready.workspace.workspace import find_root

_STYLE = {"error": "red", "warning": "yellow"}


def lint(
    paths: Annotated[list[Path], typer.Argument(help="Contract files (ODCS v3 YAML).")],
    strict: Annotated[
        bool, typer.Option("--strict", help="What aiready does not execute is an error.")
    ] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
) -> int:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise ContractError("contract file not found", file=", ".join(map(str, missing)))
    config = _config(workspace)
    problems: list[ContractProblem] = []
    for path in paths:
        problems += lint_contract(path, strict=strict)
        if config is not None:
            problems += lint_references(path, config)
    if as_json:
        emit_json([p.asdict() for p in problems])
    else:
        _show(problems, len(paths))
    return 1 if (problems if strict else [p for p in problems if p.severity == "error"]) else 0


def _config(workspace: Path | None) -> WorkspaceConfig | None:
    """The workspace named (or found like other commands find it); None outside any."""
    outside = not (find_root(Path.cwd()) / "aiready.yaml").is_file()
    if workspace is None and not os.environ.get(_env.AIREADY_WORKSPACE) and outside:
        return None
    return load(workspace).config


def _show(problems: list[ContractProblem], files: int) -> None:
    for p in problems:
        line = f"{p.line}:" if p.line is not None else ""
        console.print(
            f"{escape(p.file)}:{line} [{_STYLE[p.severity]}]{p.severity}[/]: "
            f"{escape(p.path)}: {escape(p.message)}",
            highlight=False,
            soft_wrap=True,
        )
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if problems:
        console.print(f"{files} file(s): {errors} error(s), {warnings} warning(s)")
    else:
        console.print(f"[green]{files} file(s): no problems[/]")
