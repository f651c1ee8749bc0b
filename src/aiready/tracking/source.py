"""What model tracking reads from a workspace: a narrow interface."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiready.config import ModelConfig, Paths, WorkspaceConfig

if TYPE_CHECKING:
    from aiready.contracts import CompiledContract
    from aiready.tracking.mlflow_tracker import Tracker


class ModelSource(Protocol):
    """The MLflow tracker, gold models and their contracts."""

    @property
    def config(self) -> WorkspaceConfig: ...

    @property
    def paths(self) -> Paths: ...

    @property
    def tracker(self) -> Tracker: ...

    def model(self, name: str) -> ModelConfig: ...

    def model_contract(self, name: str) -> CompiledContract: ...
