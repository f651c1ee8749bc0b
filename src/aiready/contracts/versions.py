"""The official ODCS JSON Schema of each supported v3 release, picked by ``apiVersion``.

The schemas are copies of the standard's own files (``schemas/``, see NOTICE there). A contract is
validated with the schema of the version it declares. Some official examples declare an older
version than the syntax they use (``apiVersion: v3.0.2`` with v3.1.0's ``logicalType: time``); such
a contract is accepted with the oldest newer release whose schema accepts it, and the fallback is
recorded (``LoadedContract.schema_version`` and ``warnings``) rather than hidden.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema
import yaml

SUPPORTED_VERSIONS: tuple[str, ...] = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0")
"""ODCS releases aiready ships the official JSON Schema of, oldest first."""


@dataclass(frozen=True)
class SchemaIssue:
    """One JSON Schema error: where in the YAML, the line if known, what, under which schema."""

    path: str
    line: int | None
    message: str
    schema_version: str


@lru_cache(maxsize=len(SUPPORTED_VERSIONS))
def validator(version: str) -> jsonschema.Draft201909Validator:
    """The validator of one supported release (``KeyError`` for any other)."""
    if version not in SUPPORTED_VERSIONS:
        raise KeyError(version)
    name = f"odcs-json-schema-{version}.json"
    text = (resources.files("aiready.contracts") / "schemas" / name).read_text(encoding="utf-8")
    return jsonschema.Draft201909Validator(json.loads(text))


def yaml_path(parts: Any) -> str:
    """``['schema', 0, 'properties', 2]`` → ``schema[0].properties[2]``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def line_of(node: yaml.Node | None, parts: Any) -> int | None:
    """The 1-based line of the YAML node at ``parts`` (the deepest one found)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in parts:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def schema_issues(raw: Any, version: str) -> list[jsonschema.ValidationError]:
    """Every error of ``raw`` under ``version``'s schema, in document order."""
    return sorted(validator(version).iter_errors(raw), key=lambda e: [str(p) for p in e.path])


def as_issues(
    errors: list[jsonschema.ValidationError], version: str, tree: yaml.Node | None
) -> list[SchemaIssue]:
    """The errors as plain records (YAML path, line, message, schema version)."""
    return [
        SchemaIssue(
            yaml_path(e.absolute_path),
            line_of(tree, e.absolute_path),
            e.message,
            version,
        )
        for e in errors
    ]


def fallback_version(raw: Any, declared: str) -> str | None:
    """The oldest release newer than ``declared`` whose schema accepts ``raw``, if any."""
    newer = SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.index(declared) + 1 :]
    return next((v for v in newer if validator(v).is_valid(raw)), None)
