"""Lint a contract file: every problem at once, each with its YAML path and line.

``load_contract`` stops at the first error, which suits a run; an author wants the whole list, as
a compiler gives it. The checks, in order: YAML syntax, the JSON Schema of the contract's own
``apiVersion``, unknown keys (named with the closest ODCS key), the pydantic model, compilation
of every schema object, and what aiready accepts but does not execute (warnings; ``strict``
makes them errors). A YAML error or a file that is no mapping stops the checks after it.
Compilation stops at a contract's first error; lint then neutralises the item at fault (a
property, a quality item, a relationship, an SLA) in a copy and compiles again, so each faulty
item is reported once and the rest are still checked.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from open_data_contract_standard.model import OpenDataContractStandard
from pydantic import ValidationError

from aiready.contracts.loader import (
    LoadedContract,
    _parts,
    _tree,
    load_yaml,
    schema_errors,
    unknown_keys,
)
from aiready.contracts.rules import compile_contract
from aiready.contracts.versions import fallback_version, line_of, yaml_path
from aiready.errors import ContractError

__all__ = ["ContractProblem", "Severity", "Source", "line_finder", "lint_contract"]

Severity = Literal["error", "warning"]
Source = Literal["yaml", "schema", "model", "compile", "workspace", "not-executed"]

_LINT_NEUTRAL = "_aiready_lint_neutral"
# Where compilation can fail, the list items lint can neutralise and compile again without.
_ITEM_LISTS = ("properties", "quality", "relationships", "slaProperties")
# Compiling a contract the schema refused may fail in ways that are only symptoms of the schema
# errors already reported; then that object's compilation stops.
_SYMPTOMS = (KeyError, TypeError, AttributeError, ValueError, IndexError)


@dataclass(frozen=True)
class ContractProblem:
    """One problem of a contract file: where (file, line, YAML path), how bad, what, found by."""

    file: str
    line: int | None
    severity: Severity
    path: str
    """YAML path in the contract (``schema[0].properties[1].logicalType``), ``<root>`` for all."""
    message: str
    source: Source
    """Which check found it: yaml, schema, model, compile, workspace or not-executed."""

    def asdict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """``file:line: severity: path: message``, as a compiler writes it."""
        line = f"{self.line}:" if self.line is not None else ""
        return f"{self.file}:{line} {self.severity}: {self.path}: {self.message}"


def lint_contract(path: Path, strict: bool = False) -> list[ContractProblem]:
    """Every problem of the contract at ``path``, in the order of the checks.

    A file that does not exist is a ContractError (a usage error, not a problem of a contract).
    ``strict`` reports what aiready does not execute as errors (documentation items excepted).
    """
    if not path.is_file():
        raise ContractError("contract file not found", file=str(path))
    file = str(path)
    try:
        raw = load_yaml(path)
    except ContractError as exc:
        return [
            ContractProblem(
                file, getattr(exc, "line", None), "error", "<root>", exc.message, "yaml"
            )
        ]
    if not isinstance(raw, dict):
        return [ContractProblem(file, 1, "error", "<root>", _not_a_mapping(raw), "yaml")]
    at = line_finder(path)
    problems = _schema(path, raw, at)
    problems += _model(file, raw, at, {p.path for p in problems})
    loaded = LoadedContract(
        path,
        hashlib.sha256(path.read_bytes()).hexdigest(),
        raw,
        OpenDataContractStandard.model_construct(),
    )
    compiled, not_executed = _compile(loaded)
    compiled += _purposes(raw)
    if not raw.get("schema"):
        problems.append(
            ContractProblem(
                file, 1, "warning", "schema", "no `schema` object: no data to check", "compile"
            )
        )
    problems += [ContractProblem(file, at(w), "error", w, m, "compile") for w, m in compiled]
    severity: Severity = "error" if strict else "warning"
    problems += [
        ContractProblem(file, at(w), severity, w, f"not executed by aiready: {m}", "not-executed")
        for w, m in not_executed
    ]
    return problems


def line_finder(path: Path) -> Callable[[str], int | None]:
    """YAML path (``schema[0].properties[1]``) → its 1-based line in the file at ``path``."""
    tree = _tree(path)
    return lambda where: line_of(tree, _parts(where))


def _not_a_mapping(raw: Any) -> str:
    if raw is None:
        return "the file is empty (or only comments): a contract is a YAML mapping"
    return f"a contract must be a YAML mapping, found a {type(raw).__name__}"


def _schema(
    path: Path, raw: dict[str, Any], at: Callable[[str], int | None]
) -> list[ContractProblem]:
    """JSON Schema errors and unknown keys; a key's typo replaces the schema's symptom of it."""
    file = str(path)
    issues = list(dict.fromkeys(schema_errors(path)))
    version = issues[0].schema_version if issues else ""
    if issues and version and (newer := fallback_version(raw, version)) is not None:
        return [
            ContractProblem(
                file,
                at("apiVersion"),
                "warning",
                "apiVersion",
                f"apiVersion {version} declared, but the contract is valid only under the "
                f"{newer} schema: declare {newer}",
                "schema",
            )
        ]
    typos = unknown_keys(raw)
    problems = [
        ContractProblem(
            file,
            at(where),
            "error" if issues else "warning",
            where,
            f"unknown key {key!r}; did you mean {guess!r}?",
            "schema",
        )
        for where, key, guess in typos
    ]
    named = {(where.rpartition(".")[0] or "<root>", key) for where, key, _ in typos}
    for issue in issues:
        if any(p == issue.path and _unexpected(issue.message, k) for p, k in named):
            continue  # "Unevaluated properties are not allowed ('logicalTyp' was unexpected)"
        schema = f" (ODCS {issue.schema_version} JSON Schema)" if issue.schema_version else ""
        problems.append(
            ContractProblem(file, issue.line, "error", issue.path, issue.message + schema, "schema")
        )
    return problems


def _unexpected(message: str, key: str) -> bool:
    return "unexpected" in message and f"{key!r}" in message


def _model(
    file: str, raw: dict[str, Any], at: Callable[[str], int | None], reported: set[str]
) -> list[ContractProblem]:
    """The pydantic model's errors, but not where the JSON Schema already found one."""
    try:
        OpenDataContractStandard.model_validate(raw)
    except ValidationError as exc:
        out = []
        for error in exc.errors():
            where = yaml_path(p for p in error["loc"] if isinstance(p, int) or _is_key(p))
            if any(_related(where, r) for r in reported):
                continue
            out.append(ContractProblem(file, at(where), "error", where, error["msg"], "model"))
        return list(dict.fromkeys(out))
    return []


def _is_key(part: Any) -> bool:
    """Pydantic adds union member names to ``loc``; keep only what could be a YAML key."""
    return isinstance(part, str) and re.fullmatch(r"[A-Za-z_$][\w$]*", part) is not None


def _related(a: str, b: str) -> bool:
    return b == "<root>" or a == b or a.startswith((b + ".", b + "[")) or b.startswith(a)


def _compile(loaded: LoadedContract) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Compilation errors and not-executed items of every schema object, as (path, message)."""
    objects = loaded.raw.get("schema")
    if not isinstance(objects, list) or not objects:
        return [], []
    errors: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    for i, obj in enumerate(objects):
        if isinstance(obj, dict) and isinstance(obj.get("name"), str):
            found, items = _compile_object(loaded, i, obj["name"])
            errors += found
            skipped += items
    return list(dict.fromkeys(errors)), list(dict.fromkeys(skipped))


def _compile_object(
    loaded: LoadedContract, index: int, name: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    work = LoadedContract(loaded.path, loaded.sha256, copy.deepcopy(loaded.raw), loaded.model)
    errors: list[tuple[str, str]] = []
    neutral: list[str] = []
    while True:
        try:
            compiled = compile_contract(work, name)
        except ContractError as exc:
            where = str(getattr(exc, "path", "schema"))
            item = _neutralise(work.raw, where, index)
            errors.append((where, exc.message))
            if item is None or item in neutral:
                return errors, []
            neutral.append(item)
            continue
        except _SYMPTOMS:
            return errors, []
        break
    items = [
        (n.path, f"{n.item}: {n.reason}")
        for n in compiled.not_executed
        if not n.documentation and not any(_related(n.path, p) for p in neutral)
    ]
    return errors, items


def _purposes(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """``allowedPurposes`` (read by policies) must be a list of purpose names."""
    out = []
    items = raw.get("customProperties")
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get("property") == "allowedPurposes":
            value = item.get("value")
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                out.append(
                    (
                        f"customProperties[{i}].value",
                        f"allowedPurposes must be a list of purpose names, found {value!r}",
                    )
                )
    return out


def _neutralise(raw: dict[str, Any], where: str, index: int) -> str | None:
    """Replace the list item at fault with one that compiles; its YAML path, or None."""
    parts = _parts(where)
    cut = max((n for n in range(1, len(parts)) if parts[n - 1] in _ITEM_LISTS), default=0)
    if not cut or not isinstance(parts[cut], int):
        return None
    if parts[0] == "schema" and parts[1] != index:
        return None
    holder: Any = raw
    for part in parts[:cut]:
        holder = holder[part]
    kind, old = parts[cut - 1], holder[parts[cut]]
    others = [item for n, item in enumerate(holder) if n != parts[cut]]
    holder[parts[cut]] = _neutral(str(kind), old, others, f"{_LINT_NEUTRAL}_{parts[cut]}")
    return yaml_path(parts[: cut + 1])


def _neutral(kind: str, old: Any, others: list[Any], unique: str) -> dict[str, Any]:
    """An item of ``kind`` that compiles to nothing but a not-executed note lint drops.

    A property keeps its names, so what refers to it still compiles, unless another property
    of the object has its column name: then the name was the fault, and ``unique`` replaces it.
    """
    if kind == "properties":
        keep = {k: old[k] for k in ("name", "physicalName") if isinstance(old, dict) and k in old}
        if _column_key(keep) in {_column_key(o) for o in others if isinstance(o, dict)}:
            keep = {"name": unique}
        return {"name": _LINT_NEUTRAL, **keep, "logicalType": "string"}
    if kind == "quality":
        return {"type": "text", "description": _LINT_NEUTRAL}
    if kind == "relationships":
        return {"from": [], "to": []}
    return {"property": _LINT_NEUTRAL}


def _column_key(prop: dict[str, Any]) -> str:
    """The column a property names (physicalName, else name), as the engine compares names."""
    return str(prop.get("physicalName") or prop.get("name") or "").lower()
