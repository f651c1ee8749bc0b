"""Cedar entities built from the workspace: principals, datasets, models and their columns.

Principals come from ``policies/principals.yaml``::

    groups: [analysts, ai-apps, stewards]
    users:
      alice: {groups: [analysts], region: EU}
    services:
      churn-bot: {groups: [ai-apps], region: EU}

Resources are ``Dataset::"<name>"`` (silver datasets and gold models) and ``Column::"<name>.<col>"``
(a child of its dataset), with the contract's owner, classification, PII tags and
``allowedPurposes`` (a contract ``customProperties`` entry) as attributes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aiready.config.models import WorkspaceConfig
from aiready.contracts import load_contract
from aiready.errors import AireadyError
from aiready.policy.errors import PolicyError

PRINCIPALS_FILE = "policies/principals.yaml"
PRINCIPAL_TYPES = {"users": "User", "services": "Service"}


def _uid(kind: str, name: str) -> dict[str, str]:
    return {"type": kind, "id": name}


def load_principals(root: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Group and principal entities, and principal name → Cedar type."""
    path = root / PRINCIPALS_FILE
    if not path.is_file():
        return [], {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"principals file is not valid YAML: {exc}", file=str(path)) from exc
    groups = set(raw.get("groups") or [])
    entities: list[dict[str, Any]] = []
    kinds: dict[str, str] = {}
    for section, kind in PRINCIPAL_TYPES.items():
        for name, attrs in (raw.get(section) or {}).items():
            attrs = dict(attrs or {})
            member_of = [str(g) for g in attrs.pop("groups", [])]
            groups.update(member_of)
            kinds[str(name)] = kind
            entities.append(
                {
                    "uid": _uid(kind, str(name)),
                    "attrs": {k: _value(v) for k, v in attrs.items()},
                    "parents": [_uid("Group", g) for g in member_of],
                }
            )
    entities += [{"uid": _uid("Group", str(g)), "attrs": {}, "parents": []} for g in sorted(groups)]
    return entities, kinds


def _value(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value]
    return value if isinstance(value, bool | int | str) else str(value)


def _custom(items: Any, key: str) -> Any:
    for item in items or []:
        if isinstance(item, dict) and item.get("property") == key:
            return item.get("value")
    return None


def _is_pii(prop: dict[str, Any]) -> bool:
    tags = [str(t).lower() for t in prop.get("tags") or []]
    return any(t == "pii" or t.startswith("pii:") for t in tags)


def resource_entities(config: WorkspaceConfig) -> list[dict[str, Any]]:
    """Dataset and Column entities for every dataset and gold model with a readable contract."""
    out: list[dict[str, Any]] = []
    sources = [(n, d.contract, "silver", d.kind) for n, d in config.datasets.items()]
    sources += [
        (n, m.contract, "gold", "strategic" if m.strategic else "operational")
        for n, m in config.models.items()
    ]
    for name, contract_path, layer, kind in sources:
        try:
            raw = load_contract(config.root / contract_path).raw
        except AireadyError:
            continue  # a broken contract denies by absence (its resource has no attributes)
        out += _dataset_entities(name, layer, kind, raw)
    return out


def _dataset_entities(
    name: str, layer: str, kind: str, raw: dict[str, Any]
) -> list[dict[str, Any]]:
    purposes = _custom(raw.get("customProperties"), "allowedPurposes") or []
    team = raw.get("team")
    members = team.get("members", []) if isinstance(team, dict) else team or []
    owners = [str(m.get("username")) for m in members if str(m.get("role", "")).lower() == "owner"]
    props = [p for obj in raw.get("schema") or [] for p in obj.get("properties") or []]
    dataset: dict[str, Any] = {
        "uid": _uid("Dataset", name),
        "parents": [],
        "attrs": {
            "name": name,
            "dataset": name,  # as on its columns: `resource.dataset` holds for both kinds
            "layer": layer,
            "kind": kind,
            "domain": str(raw.get("domain", "")),
            "owners": owners,
            "allowedPurposes": [str(p) for p in purposes],
            "pii": any(_is_pii(p) for p in props),
        },
    }
    columns = [
        {
            "uid": _uid("Column", f"{name}.{p['name']}"),
            "parents": [_uid("Dataset", name)],
            "attrs": {
                **dataset["attrs"],
                "dataset": name,
                "name": str(p["name"]),
                "classification": str(p.get("classification") or "unclassified"),
                "pii": _is_pii(p),
                "tags": [str(t) for t in p.get("tags") or []],
                "allowedPurposes": [str(x) for x in purposes],
            },
        }
        for p in props
    ]
    return [dataset, *columns]
