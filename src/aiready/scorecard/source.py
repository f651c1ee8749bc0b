"""What the scorecard reads from a workspace: the catalog's interface plus policy and feedback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiready.catalog.source import ContextSource

if TYPE_CHECKING:
    from aiready.feedback.store import FeedbackStore


class ScoreSource(ContextSource, Protocol):
    """Catalog entries, the policy, stored feedback and the audit check."""

    @property
    def feedback(self) -> FeedbackStore: ...

    def verify_audit(self) -> int: ...
