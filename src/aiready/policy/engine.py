"""Cedar decisions over the workspace's entities: deny by default, forbid overrides permit.

Policies live in ``policies/*.cedar``. Each policy is identified by its ``@id("…")`` annotation, or
by ``<file>:<line>``; decisions name the policies that decided them. The parsed policy set and the
entities are built once per engine (re-parsing per decision is ~5× slower).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cedarpy

from aiready.policy.entities import load_principals, resource_entities
from aiready.policy.errors import PolicyError
from aiready.policy.slicing import Slicer

if TYPE_CHECKING:
    from aiready.workspace.workspace import Workspace

ACTIONS = ("read", "query", "retrieve", "export", "train")


@dataclass
class Decision:
    """One authorisation decision, as audited."""

    principal: str
    action: str
    resource: str
    purpose: str
    allowed: bool
    policies: list[str] = field(default_factory=list)
    """Ids of the policies that decided (the permits that allowed, or the forbids that denied)."""
    reason: str = ""

    def asdict(self) -> dict[str, Any]:
        return asdict(self)


def _statements(text: str) -> list[tuple[int, str]]:
    """Split Cedar text into (first line, statement) at top-level ``;`` (strings respected)."""
    out: list[tuple[int, str]] = []
    start, depth, quoted, escape = 0, 0, False, False
    for i, ch in enumerate(text):
        if quoted:
            escape, quoted = (not escape and ch == "\\"), (escape or ch != '"')
            continue
        if ch == '"':
            quoted = True
        elif ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == ";" and depth == 0:
            out.append((_first_line(text, start), text[start : i + 1]))
            start = i + 1
    rest = text[start:]
    code = [ln for ln in rest.splitlines() if ln.strip() and not ln.strip().startswith("//")]
    if code:
        out.append((_first_line(text, start), rest))
    return out


def _first_line(text: str, start: int) -> int:
    """1-based line of the first non-blank, non-comment character at or after ``start``."""
    line = text.count("\n", 0, start) + 1
    for raw in text[start:].splitlines(keepends=True):
        if raw.strip() and not raw.strip().startswith("//"):
            return line
        line += raw.count("\n")
    return line


def load_policies(root: Path) -> tuple[str, list[str]]:
    """All policy text and each Cedar policy index's id; a parse error names file and line."""
    texts: list[str] = []
    ids: list[str] = []
    for path in sorted((root / "policies").glob("*.cedar")):
        rel = path.relative_to(root)
        for line, statement in _statements(path.read_text(encoding="utf-8")):
            try:
                parsed = json.loads(cedarpy.policies_to_json_str(statement))
            except ValueError as exc:
                raise PolicyError(
                    f"policy does not parse: {exc}", file=str(rel), line=line
                ) from exc
            for policy in parsed.get("staticPolicies", {}).values():
                ids.append(str(policy.get("annotations", {}).get("id") or f"{rel}:{line}"))
            texts.append(statement)
    return "\n".join(texts), ids


class PolicyEngine:
    """Decides requests against the workspace's policies and entities."""

    def __init__(self, ws: Workspace) -> None:
        text, ids = load_policies(ws.root)
        principals, kinds = load_principals(ws.root)
        self._setup(text, ids, principals, kinds, resource_entities(ws))

    @classmethod
    def from_parts(
        cls,
        text: str,
        ids: list[str],
        principals: list[dict[str, Any]],
        kinds: dict[str, str],
        resources: list[dict[str, Any]],
    ) -> PolicyEngine:
        """An engine over given policies and entities (benchmarks, other entity stores)."""
        engine = cls.__new__(cls)
        engine._setup(text, ids, principals, kinds, resources)
        return engine

    def _setup(
        self,
        text: str,
        ids: list[str],
        principals: list[dict[str, Any]],
        kinds: dict[str, str],
        resources: list[dict[str, Any]],
    ) -> None:
        """Parse the policy set and the entities once; every decision reuses them."""
        self.ids = ids
        self.policies = cedarpy.PolicySet.from_str(text) if text else None
        all_entities = principals + resources
        self.slicer = Slicer([s for _, s in _statements(text)], all_entities)
        self.entities = cedarpy.Entities.from_json_str(json.dumps(all_entities))
        self.kinds = kinds
        self.principal_list = principals
        self.resource_list = resources
        self.resources = {e["uid"]["id"] for e in resources}

    def principal_uid(self, principal: str) -> str:
        kind = self.kinds.get(principal)
        if kind is None:
            raise PolicyError(
                f"unknown principal {principal!r}: declare it in policies/principals.yaml",
                principal=principal,
            )
        return f'{kind}::"{principal}"'

    def decide(self, principal: str, action: str, resource: str, purpose: str) -> Decision:
        """Allow only if a permit applies and no forbid does; every input is checked."""
        if not purpose or not purpose.strip():
            raise PolicyError("a purpose is required for every request", principal=principal)
        if action not in ACTIONS:
            raise PolicyError(f"unknown action {action!r}; known: {list(ACTIONS)}", action=action)
        self.principal_uid(principal)  # unknown principal: a clear error, not a deny
        kind = "Column" if "." in resource else "Dataset"
        if resource not in self.resources:
            return Decision(
                principal,
                action,
                resource,
                purpose,
                False,
                [],
                f"unknown resource {resource!r}: deny by default",
            )
        if self.policies is None:
            return Decision(
                principal, action, resource, purpose, False, [], "no policies: deny by default"
            )
        principal_uid = (self.kinds[principal], principal)
        selected = self.slicer.select(principal_uid, action, (kind, resource))
        if not selected:
            return Decision(
                principal,
                action,
                resource,
                purpose,
                False,
                [],
                "no permit applies: deny by default",
            )
        request = {  # the structured form skips Cedar's parser (~30 µs a decision)
            "principal": {"type": principal_uid[0], "id": principal},
            "action": {"type": "Action", "id": action},
            "resource": {"type": kind, "id": resource},
            "context": {"purpose": purpose},
        }
        result = cedarpy.is_authorized(request, self.slicer.policy_set(selected), self.entities)
        decided = [self._id(selected, p) for p in result.diagnostics.reasons]
        reason = "; ".join(result.diagnostics.errors) or (
            "permitted"
            if result.allowed
            else ("forbidden" if decided else "no permit applies: deny by default")
        )
        return Decision(principal, action, resource, purpose, bool(result.allowed), decided, reason)

    def _id(self, selected: tuple[int, ...], cedar_id: str) -> str:
        """Our id of the ``policy<k>`` cedarpy names (k indexes the sliced set)."""
        k = int(cedar_id.removeprefix("policy")) if cedar_id.startswith("policy") else -1
        index = selected[k] if 0 <= k < len(selected) else -1
        return self.ids[index] if 0 <= index < len(self.ids) else cedar_id
