"""Catalog, glossary and AI-readable context, built from contracts, Delta tables and evidence.

The glossary is ``glossary.yaml``::

    terms:
      customer_lifetime_value:
        definition: Net settled revenue of a customer since signup.
        synonyms: [ltv, clv]
        owner: crm-steward@example.com
        related: [churn_risk]

A column links to a term with the tag ``term:<name>`` or an ODCS ``authoritativeDefinitions`` entry
whose ``url`` is ``glossary:<name>``. Critical data elements without a term or a description are
reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from aiready.errors import AireadyError, ConfigError, NotFoundError
from aiready.layers import figures
from aiready.storage import delta

if TYPE_CHECKING:
    from aiready.catalog.source import CatalogSource

GLOSSARY_FILE = "glossary.yaml"


def load_glossary(root: Path) -> dict[str, dict[str, Any]]:
    path = root / GLOSSARY_FILE
    if not path.is_file():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"glossary is not valid YAML: {exc}", file=str(path)) from exc
    terms = raw.get("terms") or {}
    if not isinstance(terms, dict):
        raise ConfigError("glossary `terms` must be a mapping", file=str(path), key="terms")
    return {str(k): dict(v or {}) for k, v in terms.items()}


def glossary_terms(prop: dict[str, Any]) -> list[str]:
    """The glossary terms a contract property links to (``term:`` tags, ``glossary:`` URLs)."""
    tags = [str(t)[5:] for t in prop.get("tags") or [] if str(t).startswith("term:")]
    for ref in prop.get("authoritativeDefinitions") or []:
        if not isinstance(ref, dict):
            continue
        url = str(ref.get("url", ""))
        if url.startswith("glossary:"):
            tags.append(url.removeprefix("glossary:"))
    return sorted(set(tags))


def _description(raw: dict[str, Any]) -> str:
    desc = raw.get("description")
    if isinstance(desc, dict):
        return str(desc.get("purpose") or desc.get("usage") or "")
    return str(desc or "")


def _column(prop: dict[str, Any], glossary: dict[str, dict[str, Any]]) -> dict[str, Any]:
    tags = [str(t) for t in prop.get("tags") or []]
    terms = glossary_terms(prop)
    return {
        "name": str(prop["name"]),
        "logical_type": prop.get("logicalType"),
        "physical_type": prop.get("physicalType"),
        "description": prop.get("description") or "",
        "required": bool(prop.get("required") or prop.get("primaryKey")),
        "primary_key": bool(prop.get("primaryKey")),
        "classification": prop.get("classification"),
        "pii": any(t.lower() == "pii" or t.lower().startswith("pii:") for t in tags),
        "tags": tags,
        "critical": bool(prop.get("criticalDataElement")),
        "terms": [{"term": t, **glossary.get(t, {"definition": None})} for t in terms],
        "unknown_terms": [t for t in terms if t not in glossary],
        "options": prop.get("logicalTypeOptions") or {},
    }


def entry(ws: CatalogSource, name: str) -> dict[str, Any]:
    """The catalog entry of a dataset or gold model."""
    if name in ws.config.datasets:
        ds = ws.config.datasets[name]
        kind, layer, contract_path = ds.kind, "silver", ds.contract
    elif name in ws.config.models:
        model = ws.config.models[name]
        kind = "strategic" if model.strategic else "operational"
        layer, contract_path = "gold", model.contract
    else:
        raise NotFoundError(f"nothing named {name!r} in the catalog", dataset=name)
    glossary = load_glossary(ws.root)
    raw = ws.load_contract_raw(contract_path)
    team = raw.get("team")
    members = team.get("members", []) if isinstance(team, dict) else team or []
    props = [p for obj in raw.get("schema") or [] for p in obj.get("properties") or []]
    columns = [_column(p, glossary) for p in props]
    out: dict[str, Any] = {
        "name": name,
        "layer": layer,
        "kind": kind,
        "domain": raw.get("domain"),
        "description": _description(raw),
        "contract": {"id": raw.get("id"), "version": raw.get("version")},
        "owners": [m.get("username") for m in members if str(m.get("role")).lower() == "owner"],
        "tags": [str(t) for t in raw.get("tags") or []],
        "allowed_purposes": _purposes(raw),
        "columns": columns,
        "sla": [dict(s) for s in raw.get("slaProperties") or []],
        "rows": delta.count(ws.paths.table(layer, name)),  # type: ignore[arg-type]
        "version": delta.version(ws.paths.table(layer, name)),  # type: ignore[arg-type]
        "gaps": [
            f"critical column {c['name']} has no glossary term or description"
            for c in columns
            if c["critical"] and not (c["terms"] or c["description"])
        ]
        + [
            f"column {c['name']} links unknown term {t!r}"
            for c in columns
            for t in c["unknown_terms"]
        ],
    }
    out.update(_evidence(ws, name, layer))
    return out


def _purposes(raw: dict[str, Any]) -> list[str]:
    for item in raw.get("customProperties") or []:
        if isinstance(item, dict) and item.get("property") == "allowedPurposes":
            return [str(v) for v in item.get("value") or []]
    return []


def _evidence(ws: CatalogSource, name: str, layer: str) -> dict[str, Any]:
    """Quality and certification evidence for the entry."""
    if layer == "silver":
        return {"quality": figures.quality(ws.paths, name)}
    try:
        status = ws.status_of_model(name)
    except AireadyError:
        return {}
    keys = ("certified", "certified_version", "stale", "freshness_lag_s", "certificate_reasons")
    return {"certification": {k: status[k] for k in keys}}


def catalog(ws: CatalogSource) -> list[dict[str, Any]]:
    """Short entries for every dataset and model."""
    out = []
    for name in [*ws.config.datasets, *ws.config.models]:
        try:
            e = entry(ws, name)
        except AireadyError as exc:
            out.append({"name": name, "error": exc.message})
            continue
        out.append(
            {
                k: e[k]
                for k in (
                    "name",
                    "layer",
                    "kind",
                    "domain",
                    "description",
                    "owners",
                    "rows",
                    "version",
                )
            }
            | {"columns": len(e["columns"])}
        )
    return out


def search(ws: CatalogSource, text: str) -> list[dict[str, Any]]:
    """Entries whose name, description, columns, tags or glossary terms mention ``text``."""
    needle = text.lower()
    hits = []
    for name in [*ws.config.datasets, *ws.config.models]:
        try:
            e = entry(ws, name)
        except AireadyError:
            continue
        where = [f"{k}" for k in ("name", "description", "domain") if needle in str(e[k]).lower()]
        for c in e["columns"]:
            words = [c["name"], c["description"], *c["tags"]] + [
                str(t.get(k, "")) for t in c["terms"] for k in ("term", "definition", "synonyms")
            ]
            if any(needle in w.lower() for w in words):
                where.append(f"column {c['name']}")
        if where:
            hits.append({"name": name, "layer": e["layer"], "matched": where})
    return hits
