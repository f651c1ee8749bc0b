"""What model tracking reads from a workspace: a narrow interface."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiready.config import ModelConfig
from aiready.config.source import Configured

if TYPE_CHECKING:
    from aiready.contracts import CompiledContract
    from aiready.tracking.mlflow_tracker import Tracker


class ModelSource(Configured, Protocol):
    """The MLflow tracker, gold models and their contracts."""

    @property
    def tracker(self) -> Tracker: ...

    def model(self, name: str) -> ModelConfig: ...

    def model_contract(self, name: str) -> CompiledContract: ...
