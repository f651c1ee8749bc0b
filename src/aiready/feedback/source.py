"""What feedback review and reports read from a workspace: a narrow interface."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiready.config import DatasetConfig, ModelConfig
from aiready.config.source import Configured

if TYPE_CHECKING:
    from aiready.contracts import CompiledContract
    from aiready.feedback.store import FeedbackStore


class FeedbackSource(Configured, Protocol):
    """The feedback store, with the configuration and contracts a correction is checked against."""

    @property
    def feedback(self) -> FeedbackStore: ...

    def contract(self, name: str) -> CompiledContract: ...

    def model(self, name: str) -> ModelConfig: ...

    def dataset(self, name: str) -> DatasetConfig: ...
