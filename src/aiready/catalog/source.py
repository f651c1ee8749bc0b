"""What the catalog reads from a workspace: a narrow interface the facade satisfies.

Catalog, context and scorecard depend on these few members only, never on ``Workspace``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aiready.config.source import Configured

if TYPE_CHECKING:
    from aiready.policy.engine import PolicyEngine


class CatalogSource(Configured, Protocol):
    """Configuration, state paths, raw contracts and the status of gold models."""

    def load_contract_raw(self, relative: str) -> dict[str, Any]: ...

    def status_of_model(self, name: str) -> dict[str, Any]: ...


class ContextSource(CatalogSource, Protocol):
    """The catalog plus the policy that decides what a principal may see, and its audit log."""

    @property
    def policy(self) -> PolicyEngine: ...

    @property
    def audit_path(self) -> Path: ...
