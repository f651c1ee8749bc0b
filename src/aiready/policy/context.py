"""What governed queries and retrieval use of a workspace, handed down by the facade.

The facade (``aiready.Workspace``) builds one per request from its parts; nothing in
``aiready.policy`` or ``aiready.retrieval`` reaches back into the workspace for more.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiready.config.models import WorkspaceConfig
from aiready.config.paths import Paths
from aiready.policy.engine import PolicyEngine


@dataclass(frozen=True)
class PolicyContext:
    """The parts one governed request needs."""

    paths: Paths
    """Where the lake, the locks and the workspace secret are."""
    config: WorkspaceConfig
    """The datasets and models that may be named, and the query time limit."""
    engine: PolicyEngine
    """The Cedar engine as the policy files were when the request started."""
    audit_path: Path
    """The audit table every decision is appended to."""

    @property
    def root(self) -> Path:
        """The workspace folder (``policies/``, contracts, model SQL)."""
        return self.paths.root
