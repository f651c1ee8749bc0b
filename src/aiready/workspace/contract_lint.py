"""Lint a contract against the workspace it is used in: what it names must exist there.

A relationship ``to: planes.tailnum`` is checked at refine against silver ``planes``; a name that
is no dataset of ``aiready.yaml``, or a column its contract lacks, fails only then. A glossary
term (``term:<name>`` tag or ``glossary:<name>`` definition) missing from ``glossary.yaml`` leaves
the catalog without a definition. A contract no dataset or model uses is checked by nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiready.catalog import load_glossary
from aiready.catalog.catalog import glossary_terms
from aiready.config import WorkspaceConfig
from aiready.contracts import load_yaml
from aiready.contracts.lint import ContractProblem, line_finder
from aiready.errors import AireadyError

__all__ = ["lint_references"]

_LINKS = ("tags", "authoritativeDefinitions")


def lint_references(path: Path, config: WorkspaceConfig) -> list[ContractProblem]:
    """Problems of the contract at ``path`` with respect to the workspace ``config`` describes."""
    try:
        raw = load_yaml(path)
    except AireadyError:
        return []  # lint_contract reports the file itself
    if not isinstance(raw, dict):
        return []
    at = line_finder(path)
    file = str(path)
    problems = [
        ContractProblem(file, at(where), "error", where, message, "workspace")
        for where, message in _relationships(raw, config)
    ]
    problems += [
        ContractProblem(file, at(where), "warning", where, message, "workspace")
        for where, message in _terms(raw, config.root)
    ]
    if not _used(path, config):
        problems.append(
            ContractProblem(
                file,
                1,
                "warning",
                "<root>",
                f"no dataset or model in {config.root / 'aiready.yaml'} uses this contract",
                "workspace",
            )
        )
    return problems


def _list(node: Any) -> list[Any]:
    """A YAML list, or nothing (the JSON Schema reports anything else)."""
    return node if isinstance(node, list) else []


def _objects(raw: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for i, obj in enumerate(_list(raw.get("schema"))):
        if isinstance(obj, dict):
            yield i, obj


def _properties(obj: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for k, prop in enumerate(_list(obj.get("properties"))):
        if isinstance(prop, dict):
            yield k, prop


def _relationships(raw: dict[str, Any], config: WorkspaceConfig) -> list[tuple[str, str]]:
    """Relationships whose ``to:`` names no dataset of the workspace, or no column of it."""
    found: list[tuple[str, Any]] = []
    for i, obj in _objects(raw):
        found += [(f"schema[{i}].relationships[{j}]", r) for j, r in _items(obj)]
        for k, prop in _properties(obj):
            where = f"schema[{i}].properties[{k}]"
            found += [(f"{where}.relationships[{j}]", r) for j, r in _items(prop)]
    out = []
    for where, rel in found:
        target = rel.get("to")
        if not isinstance(target, str) or "." not in target:
            continue  # composite or malformed: compilation reports it
        dataset, _, column = target.rpartition(".")
        problem = _target(config, dataset, column)
        if problem:
            out.append((f"{where}.to", f"relationship `to: {target}`: {problem}"))
    return out


def _items(node: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for j, rel in enumerate(_list(node.get("relationships"))):
        if isinstance(rel, dict):
            yield j, rel


def _target(config: WorkspaceConfig, dataset: str, column: str) -> str | None:
    """Why ``dataset.column`` cannot be checked at refine, or None."""
    if dataset not in config.datasets:
        where = " (a gold model; relationships point at silver)" if dataset in config.models else ""
        return f"no dataset {dataset!r} in aiready.yaml{where}{_guess(dataset, config.datasets)}"
    columns = _columns(config, dataset)
    if columns is not None and column not in columns:
        return f"dataset {dataset!r} has no column {column!r}{_guess(column, columns)}"
    return None


def _columns(config: WorkspaceConfig, dataset: str) -> set[str] | None:
    """The columns of ``dataset``'s contract object; None when its contract cannot be read."""
    try:
        raw = load_yaml(config.root / config.datasets[dataset].contract)
    except AireadyError:
        return None
    if not isinstance(raw, dict):
        return None
    objects = [obj for _, obj in _objects(raw)]
    chosen = [o for o in objects if dataset in (o.get("name"), o.get("physicalName"))]
    if not chosen and len(objects) == 1:
        chosen = objects
    if not chosen:
        return None
    return {str(p.get("physicalName") or p.get("name")) for _, p in _properties(chosen[0])}


def _guess(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else f"; known: {sorted(known)}"


def _terms(raw: dict[str, Any], root: Path) -> list[tuple[str, str]]:
    """Glossary terms a property links to that ``glossary.yaml`` does not define."""
    try:
        glossary = load_glossary(root)
    except AireadyError as exc:
        return [("<root>", f"glossary cannot be read: {exc.message}")]
    out = []
    for i, obj in _objects(raw):
        for k, prop in _properties(obj):
            if any(not isinstance(prop.get(k), list | None) for k in _LINKS):
                continue  # the JSON Schema reports the shape
            for term in glossary_terms(prop):
                if term not in glossary:
                    hint = _guess(term, glossary) if glossary else " (there is no glossary.yaml)"
                    where = f"schema[{i}].properties[{k}]{_term_at(prop, term)}"
                    out.append((where, f"glossary has no term {term!r}{hint}"))
    return out


def _term_at(prop: dict[str, Any], term: str) -> str:
    """Where in a property ``term`` is linked: its tag, else its authoritative definition."""
    for n, tag in enumerate(_list(prop.get("tags"))):
        if str(tag) == f"term:{term}":
            return f".tags[{n}]"
    for n, ref in enumerate(_list(prop.get("authoritativeDefinitions"))):
        if isinstance(ref, dict) and str(ref.get("url", "")) == f"glossary:{term}":
            return f".authoritativeDefinitions[{n}]"
    return ""


def _used(path: Path, config: WorkspaceConfig) -> bool:
    mine = path.resolve()
    declared = [d.contract for d in config.datasets.values()]
    declared += [m.contract for m in config.models.values()]
    return any((config.root / c).resolve() == mine for c in declared)
