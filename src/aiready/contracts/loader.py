"""Load an ODCS v3 contract: YAML as written, the official JSON Schema, then the pydantic model.

The pydantic model alone accepts typos inside quality items (``mustBee``), so every contract is also
validated with ``jsonschema`` against the schema bundled with ``open-data-contract-standard``.
Scalars are read the YAML 1.2 way: only ``true``/``false`` are booleans and dates stay
strings, so an unquoted ``NO`` in ``validValues`` stays the string ``"NO"`` (quote it
anyway for other tools).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError

from aiready.errors import ContractError


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
def _validator() -> jsonschema.Draft201909Validator:
    # the JSON Schema shipped inside open-data-contract-standard (its helper uses a deprecated API)
    bundled = resources.files("open_data_contract_standard") / "schema.json"
    schema = json.loads(bundled.read_text(encoding="utf-8"))
    return jsonschema.Draft201909Validator(schema)


@lru_cache(maxsize=1)
def _known_keys() -> frozenset[str]:
    """Every property name the ODCS JSON Schema defines, anywhere in it."""
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

    walk(_validator().schema)
    return frozenset(names)


# Free-form places: their keys are the user's (custom property values, rule arguments, examples).
_FREE_FORM = frozenset({"customProperties", "arguments", "value", "examples", "implementation"})


def _unknown_key(node: Any, at: tuple[str | int, ...]) -> tuple[str, str, str] | None:
    """The first key that is not ODCS but is close to an ODCS key: (yaml path, key, guess).

    Only asked when the JSON Schema refuses the contract: a misspelt key (``logicalTyp``) makes
    the schema report a symptom elsewhere ("'map' is a required property"); this names the cause.
    """
    if isinstance(node, list):
        for i, item in enumerate(node):
            found = _unknown_key(item, (*at, i))
            if found:
                return found
        return None
    if not isinstance(node, dict):
        return None
    known = _known_keys()
    for key, value in node.items():
        if not isinstance(key, str):
            continue
        if key not in known:
            guess = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
            if guess:
                return yaml_path((*at, key)), key, guess[0]
        if key in _FREE_FORM:
            continue
        found = _unknown_key(value, (*at, key))
        if found:
            return found
    return None


def yaml_path(parts: Iterable[str | int]) -> str:
    """``['schema', 0, 'properties', 2]`` → ``schema[0].properties[2]``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


@dataclass(frozen=True)
class LoadedContract:
    """A contract that passed YAML, JSON Schema and model validation."""

    path: Path
    sha256: str
    raw: dict[str, Any]
    """The contract as parsed YAML (what the JSON Schema saw)."""
    model: OpenDataContractStandard


_VALIDATED: dict[str, tuple[dict[str, Any], OpenDataContractStandard]] = {}
"""sha256 of a contract's bytes → what validating them gave (a run loads each contract often)."""
_VALIDATED_MAX = 256


def load_contract(path: Path) -> LoadedContract:
    """Load and validate ``path``; a ContractError names the file and the YAML path.

    Bytes already validated in this process are not validated again (same sha256, same result).
    """
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = ""  # load_yaml names the problem
    if digest in _VALIDATED:
        raw, model = _VALIDATED[digest]
        return LoadedContract(path=path, sha256=digest, raw=copy.deepcopy(raw), model=model)
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ContractError("a contract must be a YAML mapping", file=str(path))
    errors = sorted(_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        typo = _unknown_key(raw, ())
        if typo is not None:
            where, key, guess = typo
            raise ContractError(
                f"unknown key {key!r}; did you mean {guess!r}?", file=str(path), path=where
            )
        best = jsonschema.exceptions.best_match(errors)
        assert best is not None
        raise ContractError(
            f"contract fails the ODCS JSON Schema: {best.message}",
            file=str(path),
            path=yaml_path(best.absolute_path),
        )
    try:
        model = OpenDataContractStandard.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ContractError(
            f"contract is not a valid ODCS model: {first['msg']}",
            file=str(path),
            path=yaml_path(first["loc"]),
        ) from exc
    if len(_VALIDATED) >= _VALIDATED_MAX:
        _VALIDATED.clear()
    _VALIDATED[digest] = (copy.deepcopy(raw), model)
    return LoadedContract(path=path, sha256=digest, raw=raw, model=model)
