"""Cedar decisions over the workspace's entities: deny by default, forbid overrides permit.

Policies (``policies/*.cedar``, see policy/policies.py) are validated at load against a Cedar
schema generated from the principals and contracts (policy/lint.py); decisions name the policies
that decided them. The policy set and the entities are built once per engine (re-parsing per
decision is ~5× slower), and the workspace rebuilds its engine when one of their files changes.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import cedarpy

from aiready.config.models import WorkspaceConfig
from aiready.policy.entities import PRINCIPALS_FILE, load_principals, resource_entities
from aiready.policy.errors import PolicyError
from aiready.policy.lint import check_cedar, check_principals, raise_first
from aiready.policy.policies import ACTIONS as ACTIONS  # re-exported: callers import it here
from aiready.policy.policies import Policy, load_policies, policy_set, unique_ids
from aiready.policy.slicing import Slicer


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


class PolicyEngine:
    """Decides requests against the workspace's policies and entities."""

    def __init__(self, config: WorkspaceConfig) -> None:
        files = load_policies(config.root)
        principals, kinds = load_principals(config.root)
        resources = resource_entities(config)
        raise_first(check_principals(config.root) + check_cedar(files, principals + resources))
        self._setup([p for f in files for p in f.policies], principals, kinds, resources)

    @classmethod
    def from_parts(
        cls,
        policies: list[Policy],
        principals: list[dict[str, Any]],
        kinds: dict[str, str],
        resources: list[dict[str, Any]],
    ) -> PolicyEngine:
        """An engine over given policies and entities (benchmarks, other entity stores)."""
        unique_ids(policies)
        engine = cls.__new__(cls)
        engine._setup(policies, principals, kinds, resources)
        return engine

    def _setup(
        self,
        policies: list[Policy],
        principals: list[dict[str, Any]],
        kinds: dict[str, str],
        resources: list[dict[str, Any]],
    ) -> None:
        """Build the policy set and the entities once; every decision reuses them."""
        self.policy_list = policies
        self.ids = [p.id for p in policies]
        self.policies = policy_set(policies) if policies else None
        all_entities = principals + resources
        self.slicer = Slicer(policies, all_entities)
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

        def deny(reason: str) -> Decision:
            return Decision(principal, action, resource, purpose, False, [], reason)

        if resource not in self.resources:
            return deny(f"unknown resource {resource!r}: deny by default")
        if self.policies is None:
            return deny("no policies: deny by default")
        principal_uid = (self.kinds[principal], principal)
        selected = self.slicer.select(principal_uid, action, (kind, resource))
        if not selected:
            return deny("no permit applies: deny by default")
        request = {  # the structured form skips Cedar's parser (~30 µs a decision)
            "principal": {"type": principal_uid[0], "id": principal},
            "action": {"type": "Action", "id": action},
            "resource": {"type": kind, "id": resource},
            "context": {"purpose": purpose},
        }
        result = cedarpy.is_authorized(request, self.slicer.policy_set(selected), self.entities)
        decided = list(result.diagnostics.reasons)  # our policy ids: the set is keyed by them
        reason = "; ".join(result.diagnostics.errors) or (
            "permitted"
            if result.allowed
            else ("forbidden" if decided else "no permit applies: deny by default")
        )
        return Decision(principal, action, resource, purpose, bool(result.allowed), decided, reason)


Signature = tuple[tuple[str, int, int], ...]


def _stat(path: str) -> tuple[str, int, int]:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return (path, -1, -1)
    return (path, stat.st_mtime_ns, stat.st_size)


class EngineCache:
    """The engine of the files as they are now: rebuilt when one changes (path, mtime, size).

    The files are the policies, the principals and every contract. A running service sees an
    edited policy at its next request, as with ``access.yaml``; a file that no longer loads fails
    that request with its PolicyError rather than keeping the old rules.
    """

    def __init__(self, config: WorkspaceConfig) -> None:
        self._config = config
        root = config.root
        self._dir = str(root / "policies")
        contracts = [d.contract for d in config.datasets.values()]
        contracts += [m.contract for m in config.models.values()]
        self._fixed = [str(root / PRINCIPALS_FILE), *(str(root / c) for c in contracts)]
        self._state: tuple[Signature, PolicyEngine] | None = None
        self._folder: tuple[str, int, int] | None = None
        self._cedar: list[str] = []

    def signature(self) -> Signature:
        """(path, mtime_ns, size) of every file the engine is built from.

        The folder is listed again only when its own mtime moves (a file added, removed or
        renamed), so a check is a handful of ``stat`` calls.
        """
        folder = _stat(self._dir)
        if folder != self._folder:
            try:
                with os.scandir(self._dir) as entries:
                    self._cedar = sorted(e.path for e in entries if e.name.endswith(".cedar"))
            except FileNotFoundError:
                self._cedar = []
            self._folder = folder
        return (folder, *(_stat(path) for path in [*self._cedar, *self._fixed]))

    def current(self) -> PolicyEngine:
        key = self.signature()  # taken before building: an edit made meanwhile rebuilds again
        state = self._state
        if state is None or state[0] != key:
            state = (key, PolicyEngine(self._config))
            self._state = state
        return state[1]
