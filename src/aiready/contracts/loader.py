"""Load an ODCS v3 contract: YAML as written, the official JSON Schema, then the pydantic model.

The pydantic model alone accepts typos inside quality items (``mustBee``), so every contract is also
validated with ``jsonschema`` against the official schema of the release its ``apiVersion`` names
(``aiready.contracts.versions``). The pydantic model is the v3.2.0 one; it also accepts v3.0.x
syntax (``rule:`` in quality items), which ``rules.py`` reads.
Scalars are read the YAML 1.2 way: only ``true``/``false`` are booleans and dates stay
strings, so an unquoted ``NO`` in ``validValues`` stays the string ``"NO"`` (quote it
anyway for other tools).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError

from aiready.contracts.versions import (
    SUPPORTED_VERSIONS,
    SchemaIssue,
    as_issues,
    fallback_version,
    line_of,
    schema_issues,
    validator,
    yaml_path,
)
from aiready.errors import ContractError

__all__ = [
    "LoadedContract",
    "SchemaIssue",
    "load_contract",
    "load_yaml",
    "schema_errors",
    "unknown_keys",
]


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core booleans and no implicit timestamps."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(path: Path) -> Any:
    """Parse YAML keeping scalars as written; errors name the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ContractError("contract file not found", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ContractError("contract is not UTF-8 text", file=str(path)) from exc
    try:
        return yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractError(f"YAML syntax error: {problem}", file=str(path), line=line) from exc


@lru_cache(maxsize=1)
def _known_keys() -> frozenset[str]:
    """Every property name any supported ODCS JSON Schema defines, anywhere in it."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                names.update(props)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for version in SUPPORTED_VERSIONS:
        walk(validator(version).schema)
    return frozenset(names)


# Free-form places: their keys are the user's (custom property values, rule arguments, examples).
_FREE_FORM = frozenset({"customProperties", "arguments", "value", "examples", "implementation"})


def unknown_keys(node: Any, at: tuple[str | int, ...] = ()) -> list[tuple[str, str, str]]:
    """Every key that is not ODCS but is close to an ODCS key: (yaml path, key, guess).

    A misspelt key (``logicalTyp``) makes the JSON Schema report a symptom elsewhere ("'map' is
    a required property"); this names the cause. Free-form places (custom property values, rule
    arguments, examples) are the user's and not searched.
    """
    if isinstance(node, list):
        return [found for i, item in enumerate(node) for found in unknown_keys(item, (*at, i))]
    if not isinstance(node, dict):
        return []
    known = _known_keys()
    out: list[tuple[str, str, str]] = []
    for key, value in node.items():
        if not isinstance(key, str):
            continue
        if key not in known:
            guess = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
            if guess:
                out.append((yaml_path((*at, key)), key, guess[0]))
        if key not in _FREE_FORM:
            out.extend(unknown_keys(value, (*at, key)))
    return out


def _unknown_key(node: Any, at: tuple[str | int, ...]) -> tuple[str, str, str] | None:
    """The first of ``unknown_keys`` (asked only when the JSON Schema refuses the contract)."""
    found = unknown_keys(node, at)
    return found[0] if found else None


@dataclass(frozen=True)
class LoadedContract:
    """A contract that passed YAML, JSON Schema and model validation."""

    path: Path
    sha256: str
    raw: dict[str, Any]
    """The contract as parsed YAML (what the JSON Schema saw)."""
    model: OpenDataContractStandard
    schema_version: str = ""
    """The ODCS release whose JSON Schema accepted the contract (normally its ``apiVersion``)."""
    warnings: tuple[str, ...] = ()
    """What loading noticed but did not refuse (a newer schema than the declared one was needed)."""


@dataclass(frozen=True)
class _Validated:
    raw: dict[str, Any]
    model: OpenDataContractStandard
    schema_version: str
    warnings: tuple[str, ...]


_VALIDATED: dict[str, _Validated] = {}
"""sha256 of a contract's bytes → what validating them gave (a run loads each contract often)."""
_VALIDATED_MAX = 256


def _tree(path: Path) -> yaml.Node | None:
    """The composed YAML tree (for line numbers); None if it cannot be composed."""
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _declared_version(raw: dict[str, Any], path: Path) -> str:
    declared = raw.get("apiVersion")
    if declared not in SUPPORTED_VERSIONS:
        what = (
            "no apiVersion: not an ODCS contract"
            if declared is None
            else (f"unsupported apiVersion {declared!r}")
        )
        raise ContractError(
            f"{what}; aiready supports {', '.join(SUPPORTED_VERSIONS)}",
            file=str(path),
            path="apiVersion",
            line=line_of(_tree(path), ["apiVersion"]),
        )
    return str(declared)


def schema_errors(path: Path) -> list[SchemaIssue]:
    """Every JSON Schema error of the contract at ``path`` under its declared ``apiVersion``.

    For tools that report all problems at once (lint); ``load_contract`` raises the best one.
    An unsupported ``apiVersion`` is one issue at ``apiVersion``; YAML errors raise ContractError.
    """
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ContractError("a contract must be a YAML mapping", file=str(path))
    tree = _tree(path)
    try:
        version = _declared_version(raw, path)
    except ContractError as exc:
        return [SchemaIssue("apiVersion", line_of(tree, ["apiVersion"]), exc.message, "")]
    return as_issues(schema_issues(raw, version), version, tree)


def _validate_schema(raw: dict[str, Any], path: Path) -> tuple[str, tuple[str, ...]]:
    """The schema version that accepts ``raw`` and any warning; else the best error, raised."""
    declared = _declared_version(raw, path)
    errors = schema_issues(raw, declared)
    if not errors:
        return declared, ()
    newer = fallback_version(raw, declared)
    best = jsonschema.exceptions.best_match(errors)
    assert best is not None
    where = yaml_path(best.absolute_path)
    if newer is not None:
        return newer, (
            f"apiVersion {declared} declared, but the contract is valid only under the {newer} "
            f"schema (under {declared}: {best.message} at {where}); validated with {newer}",
        )
    typo = _unknown_key(raw, ())
    if typo is not None:
        at, key, guess = typo
        raise ContractError(
            f"unknown key {key!r}; did you mean {guess!r}? (ODCS {declared} JSON Schema)",
            file=str(path),
            path=at,
            line=line_of(_tree(path), _parts(at)),
        )
    raise ContractError(
        f"contract fails the ODCS {declared} JSON Schema: {best.message}",
        file=str(path),
        path=where,
        line=line_of(_tree(path), best.absolute_path),
    )


def _parts(where: str) -> list[str | int]:
    """``schema[0].name`` → ``['schema', 0, 'name']`` (inverse of yaml_path)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", where) if p]


def load_contract(path: Path) -> LoadedContract:
    """Load and validate ``path``; a ContractError names the file, the YAML path and line.

    Bytes already validated in this process are not validated again (same sha256, same result).
    """
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = ""  # load_yaml names the problem
    if digest in _VALIDATED:
        done = _VALIDATED[digest]
        return LoadedContract(
            path, digest, copy.deepcopy(done.raw), done.model, done.schema_version, done.warnings
        )
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ContractError("a contract must be a YAML mapping", file=str(path))
    version, warnings = _validate_schema(raw, path)
    try:
        model = OpenDataContractStandard.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ContractError(
            f"contract is not a valid ODCS model: {first['msg']}",
            file=str(path),
            path=yaml_path(first["loc"]),
            line=line_of(_tree(path), first["loc"]),
        ) from exc
    if len(_VALIDATED) >= _VALIDATED_MAX:
        _VALIDATED.clear()
    _VALIDATED[digest] = _Validated(copy.deepcopy(raw), model, version, warnings)
    return LoadedContract(path, digest, raw, model, version, warnings)
