"""Policy mistakes that would fail silently become problems, found at load and by ``policy lint``.

A Cedar policy that reads a missing attribute errors at decision time, and Cedar then skips it:
a ``forbid`` with a typo forbids nothing. A row filter naming an unknown principal attribute keeps
no rows, and a mask on a column no contract declares hides nothing. So every policy is validated
against a Cedar schema generated from the principals and the contracts (cedarpy's validator), every
entity a policy names must be declared, and ``access.yaml`` may name only declared datasets,
columns and principal attributes. Each problem names its file and its line or policy.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cedarpy
import sqlglot
import yaml
from cedarpy import pst
from sqlglot import exp

from aiready.policy.entities import load_principals
from aiready.policy.errors import PolicyError
from aiready.policy.policies import (
    ACTIONS,
    PolicyFile,
    duplicate_message,
    duplicates,
    parse_policies,
)

PRINCIPALS_FILE = "policies/principals.yaml"
ACCESS_FILE = "policies/access.yaml"
MASKS = ("redact", "hash", "partial", "none")
ENTITY_TYPES = ("User", "Service", "Group", "Dataset", "Column")
MEMBER_OF = {"User": {"Group"}, "Service": {"Group"}, "Column": {"Dataset"}}


@dataclass(frozen=True)
class Problem:
    """One policy mistake, where it is written and what is wrong."""

    file: str
    message: str
    line: int | None = None
    policy: str | None = None

    def asdict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.policy + ': ' if self.policy else ''}{self.message}"


def raise_first(problems: list[Problem]) -> None:
    """Refuse to load with the first problem; ``aiready policy lint`` lists them all."""
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more; see `aiready policy lint`)" if problems[1:] else ""
    raise PolicyError(first.message + more, file=first.file, line=first.line, policy=first.policy)


def suggest(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest known name, or ``; known: [...]``."""
    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known: {names}" if len(names) <= 12 else ""


# --- the Cedar schema -------------------------------------------------------------------------


def _cedar_type(values: list[Any]) -> dict[str, Any] | None:
    """The Cedar type every value fits, or None when they disagree."""
    kinds = {
        "Boolean"
        if isinstance(v, bool)
        else "Long"
        if isinstance(v, int)
        else "Set"
        if isinstance(v, list)
        else "String"
        for v in values
    }
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    return {"type": "Set", "element": {"type": "String"}} if kind == "Set" else {"type": kind}


def cedar_schema(entities: list[dict[str, Any]]) -> dict[str, Any]:
    """A Cedar schema of these entities: each type's attributes (required when all have it)."""
    by_type: dict[str, list[dict[str, Any]]] = {t: [] for t in ENTITY_TYPES}
    for entity in entities:
        by_type.setdefault(entity["uid"]["type"], []).append(entity)
    types: dict[str, Any] = {}
    for kind, members in by_type.items():
        parents = set(MEMBER_OF.get(kind, set()))
        parents.update(p["type"] for e in members for p in e.get("parents", []))
        names = sorted({a for e in members for a in e.get("attrs", {})})
        attributes = {}
        for name in names:
            values = [e["attrs"][name] for e in members if name in e.get("attrs", {})]
            cedar = _cedar_type(values)
            if cedar is not None:
                attributes[name] = {**cedar, "required": len(values) == len(members)}
        types[kind] = {
            "memberOfTypes": sorted(parents),
            "shape": {"type": "Record", "attributes": attributes},
        }
    applies = {
        "principalTypes": ["User", "Service"],
        "resourceTypes": ["Dataset", "Column"],
        "context": {"type": "Record", "attributes": {"purpose": {"type": "String"}}},
    }
    actions = {a: {"appliesTo": applies} for a in ACTIONS}
    return {"": {"entityTypes": types, "actions": actions}}


def check_cedar(files: list[PolicyFile], entities: list[dict[str, Any]]) -> list[Problem]:
    """Schema validation and declared entities, for every policy of every file."""
    schema = json.dumps(cedar_schema(entities))
    known = {(e["uid"]["type"], e["uid"]["id"]) for e in entities}
    known |= {("Action", a) for a in ACTIONS}
    problems: list[Problem] = []
    for f in files:
        if not f.policies:
            continue
        problems += _validated(f, schema)
        problems += _undeclared(f, known)
    return problems


def _validated(f: PolicyFile, schema: str) -> list[Problem]:
    result = cedarpy.validate_policies(f.text, schema)
    out = []
    for error in result.errors:
        k = error.policy_id.removeprefix("policy")
        policy = f.policies[int(k)] if k.isdigit() and int(k) < len(f.policies) else None
        message = error.error
        if policy is not None:
            message = message.replace(f"`{error.policy_id}`", f"`{policy.id}`")
        out.append(
            Problem(f.file, message, policy.line if policy else None, policy.id if policy else None)
        )
    return out


def _undeclared(f: PolicyFile, known: set[tuple[str, str]]) -> list[Problem]:
    """Entities a policy names that no principal, group, dataset, column or action is."""
    try:
        tree = cedarpy.policies_to_pst(f.text)
    except ValueError:  # syntax cedarpy cannot show as nodes yet: the schema check still ran
        return []
    nodes = {**tree.static_policies, **tree.templates}
    out = []
    for key, node in nodes.items():
        k = int(key.removeprefix("policy"))
        policy = f.policies[k]
        for uid in sorted(pst.entity_uids(node), key=lambda u: (str(u.type), u.id)):
            kind = str(uid.type)
            if (kind, uid.id) in known:
                continue
            hint = suggest(uid.id, [i for t, i in known if t == kind])
            out.append(
                Problem(f.file, f'undeclared {kind}::"{uid.id}"{hint}', policy.line, policy.id)
            )
    return out


# --- principals.yaml and access.yaml --------------------------------------------------------


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """1-based line of each mapping key, by its path (two levels deep is all we report)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    out: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode) and len(path) < 3:
            for key, value in node.value:
                here = (*path, str(key.value))
                out[here] = key.start_mark.line + 1
                walk(value, here)

    if root is not None:
        walk(root, ())
    return out


def _read_yaml(root: Path, name: str) -> tuple[Any, dict[tuple[str, ...], int], list[Problem]]:
    path = root / name
    if not path.is_file():
        return {}, {}, []
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return {}, {}, [Problem(name, f"not valid YAML: {exc}")]
    if not isinstance(data, dict):
        return {}, {}, [Problem(name, "must be a mapping")]
    return data, _key_lines(text), []


def check_principals(root: Path) -> list[Problem]:
    """Sections, declared groups, one kind per name, one type per attribute."""
    raw, lines, problems = _read_yaml(root, PRINCIPALS_FILE)
    for key in set(raw) - {"groups", "users", "services"}:
        problems.append(
            Problem(
                PRINCIPALS_FILE,
                f"unknown section {key!r}{suggest(str(key), ['groups', 'users', 'services'])}",
                lines.get((str(key),)),
            )
        )
    groups = {str(g) for g in raw.get("groups") or []}
    seen: dict[str, str] = {}
    types: dict[str, dict[str, str]] = {}
    for section in ("users", "services"):
        for name, attrs in (raw.get(section) or {}).items():
            line = lines.get((section, str(name)))
            if str(name) in seen:
                message = f"{name!r} is in both {seen[str(name)]} and {section}"
                problems.append(Problem(PRINCIPALS_FILE, message, line))
            seen[str(name)] = section
            attrs = attrs if isinstance(attrs, dict) else {}
            for group in attrs.get("groups") or []:
                if str(group) not in groups:
                    message = f"{name!r} is in undeclared group {group!r}{suggest(group, groups)}"
                    problems.append(Problem(PRINCIPALS_FILE, message, line))
            for attr, value in attrs.items():
                kind = type(value).__name__
                first = types.setdefault(str(attr), {"kind": kind, "who": str(name)})
                if first["kind"] != kind:
                    problems.append(
                        Problem(
                            PRINCIPALS_FILE,
                            f"attribute {attr!r} of {name!r} is a {kind}, "
                            f"of {first['who']!r} a {first['kind']}",
                            line,
                        )
                    )
    return problems


def check_access(
    root: Path, principals: list[dict[str, Any]], resources: list[dict[str, Any]]
) -> list[Problem]:
    """Masks and row filters may name only declared datasets, columns and attributes."""
    raw, lines, problems = _read_yaml(root, ACCESS_FILE)
    columns: dict[str, set[str]] = {}
    for e in resources:
        if e["uid"]["type"] == "Dataset":
            columns.setdefault(e["uid"]["id"], set())
        elif e["uid"]["type"] == "Column":
            columns.setdefault(e["attrs"]["dataset"], set()).add(e["attrs"]["name"])
    attrs = {a for e in principals if e["uid"]["type"] != "Group" for a in e.get("attrs", {})}
    sections = ["masks", "row_filters", "row_filter_waivers"]
    for key in set(raw) - set(sections):
        hint = suggest(str(key), sections)
        problems.append(Problem(ACCESS_FILE, f"unknown section {key!r}{hint}", lines.get((key,))))
    for target, kind in (raw.get("masks") or {}).items():
        line = lines.get(("masks", str(target)))
        problems += _mask_problems(str(target), kind, columns, line)
    for dataset, condition in (raw.get("row_filters") or {}).items():
        line = lines.get(("row_filters", str(dataset)))
        problems += _filter_problems(str(dataset), condition, columns, attrs, line)
    for dataset, reason in (raw.get("row_filter_waivers") or {}).items():
        line = lines.get(("row_filter_waivers", str(dataset)))
        if dataset not in columns:
            hint = suggest(str(dataset), columns)
            message = f"row filter waiver for unknown dataset {dataset!r}{hint}"
            problems.append(Problem(ACCESS_FILE, message, line))
        elif not str(reason or "").strip():
            message = f"row filter waiver for {dataset} needs a reason"
            problems.append(Problem(ACCESS_FILE, message, line))
    return problems


def _mask_problems(
    target: str, kind: Any, columns: dict[str, set[str]], line: int | None
) -> list[Problem]:
    out = []
    if kind not in MASKS:
        message = f"mask of {target} must be one of {MASKS}, not {kind!r}"
        out.append(Problem(ACCESS_FILE, message, line))
    dataset, _, column = target.partition(".")
    if dataset not in columns:
        hint = suggest(dataset, columns)
        out.append(Problem(ACCESS_FILE, f"mask on {target}: no dataset {dataset!r}{hint}", line))
    elif column not in columns[dataset]:
        hint = suggest(column, columns[dataset])
        message = f"mask on {target}: no contract declares column {column!r} of {dataset}{hint}"
        out.append(Problem(ACCESS_FILE, message, line))
    return out


def _filter_problems(
    dataset: str,
    condition: Any,
    columns: dict[str, set[str]],
    attrs: set[str],
    line: int | None,
) -> list[Problem]:
    if dataset not in columns:
        hint = suggest(dataset, columns)
        return [Problem(ACCESS_FILE, f"row filter on unknown dataset {dataset!r}{hint}", line)]
    try:
        tree = sqlglot.parse_one(str(condition), dialect="duckdb")
    except sqlglot.errors.SqlglotError as exc:
        first = str(exc).splitlines()[0]
        return [Problem(ACCESS_FILE, f"row filter on {dataset} does not parse: {first}", line)]
    out = []
    for column in tree.find_all(exp.Column):
        if column.table == "principal" and column.name not in attrs:
            hint = suggest(column.name, attrs)
            message = f"row filter on {dataset}: no principal has attribute {column.name!r}{hint}"
            out.append(Problem(ACCESS_FILE, message, line))
        elif column.table in ("", dataset) and column.name not in columns[dataset]:
            hint = suggest(column.name, columns[dataset])
            message = f"row filter on {dataset}: no column {column.name!r}{hint}"
            out.append(Problem(ACCESS_FILE, message, line))
    return out


def lint(root: Path, resources: list[dict[str, Any]]) -> list[Problem]:
    """Every problem in the workspace's policy files, none raised (``aiready policy lint``)."""
    problems = check_principals(root)
    try:
        principals, _ = load_principals(root)
    except PolicyError as exc:
        principals = []
        problems.append(Problem(PRINCIPALS_FILE, exc.message))
    files = []
    for path in sorted((root / "policies").glob("*.cedar")):
        name = str(path.relative_to(root))
        try:
            files.append(parse_policies(path.read_text(encoding="utf-8"), name))
        except PolicyError as exc:
            problems.append(Problem(name, exc.message, exc.attrs().get("line")))
    for policy, first in duplicates([p for f in files for p in f.policies]):
        problems.append(Problem(policy.file, duplicate_message(policy, first), policy.line))
    problems += check_cedar(files, principals + resources)
    problems += check_access(root, principals, resources)
    return problems
