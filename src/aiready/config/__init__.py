"""Configuration: the typed ``aiready.yaml`` and the paths under ``.aiready/``.

The bottom of the package: every feature may import it, and it imports none of them.
"""

from aiready.config.models import (
    DatasetConfig,
    EngineConfig,
    ModelConfig,
    WorkspaceConfig,
    load_config,
)
from aiready.config.paths import Layer, Paths

__all__ = [
    "DatasetConfig",
    "EngineConfig",
    "Layer",
    "ModelConfig",
    "Paths",
    "WorkspaceConfig",
    "load_config",
]
