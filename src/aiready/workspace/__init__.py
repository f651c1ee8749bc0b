"""Workspace: ``aiready.yaml``, the paths under ``.aiready/`` and the ``Workspace`` API."""

from aiready.workspace.config import DatasetConfig, ModelConfig, WorkspaceConfig, load_config
from aiready.workspace.paths import Paths
from aiready.workspace.workspace import Workspace

__all__ = ["DatasetConfig", "ModelConfig", "Paths", "Workspace", "WorkspaceConfig", "load_config"]
