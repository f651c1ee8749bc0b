"""The ``Workspace`` facade: composes the features over one ``aiready.yaml`` (see ``config``)."""

from aiready.config import DatasetConfig, ModelConfig, Paths, WorkspaceConfig, load_config
from aiready.workspace.workspace import Workspace

__all__ = ["DatasetConfig", "ModelConfig", "Paths", "Workspace", "WorkspaceConfig", "load_config"]
