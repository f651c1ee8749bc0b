"""Taking feedback in: authorised and audited like a read of the data it is about.

Feedback that names a dataset may only come from a principal who may retrieve or query that
dataset for the stated purpose; the decision is audited either way, and a stored item is
attached to its MLflow trace as an assessment, so the UI shows it beside the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiready.certification.certify import certified_version
from aiready.config.paths import Paths
from aiready.errors import NotFoundError
from aiready.feedback.models import Correction, DecisionRecord, Feedback, Outcome, Rating
from aiready.feedback.store import FeedbackStore, Stored
from aiready.policy import PolicyEngine, audit
from aiready.policy.errors import AccessDenied
from aiready.tracking.traces import Tracer


@dataclass(frozen=True)
class Intake:
    """The parts feedback intake touches: policy and audit, the store, the tracer."""

    paths: Paths
    policy: PolicyEngine
    audit_path: Path
    store: FeedbackStore
    tracer: Tracer
    models: frozenset[str]
    """Gold models: feedback on one records the version that was certified when it came."""

    def add(self, item: Feedback, principal: str, wait: bool = False) -> Stored:
        """Store ``item`` once per idempotency key (``wait``: through the writer thread)."""
        self.policy.principal_uid(principal)
        dataset = getattr(item, "dataset", None)
        if dataset is not None:
            self._authorise(item, principal, dataset)
        version = self._version(dataset)
        add = self.store.add if wait else self.store.add_now
        stored = add(item, principal, version)
        if stored.created and item.trace_id:
            value = assessment_value(item)
            self.tracer.feedback(item.trace_id, item.kind, value, principal, rationale(item))
        return stored

    def _authorise(self, item: Feedback, principal: str, dataset: str) -> None:
        decision = self.policy.decide(principal, "retrieve", dataset, item.purpose)
        if not decision.allowed:
            decision = self.policy.decide(principal, "query", dataset, item.purpose)
        audit.append(self.audit_path, self.paths.locks, [decision])
        if not decision.allowed:
            raise AccessDenied(
                f"{principal} may not give feedback on {dataset} for {item.purpose!r}: "
                f"{decision.reason}",
                principal=principal,
                resource=dataset,
                purpose=item.purpose,
            )

    def _version(self, dataset: str | None) -> int | None:
        if dataset not in self.models:
            return None
        try:
            return certified_version(self.paths, str(dataset))
        except NotFoundError:
            return None


def assessment_value(item: Feedback) -> Any:
    """The value MLflow shows for a feedback kind (a number or a short label)."""
    if isinstance(item, Rating):
        return item.score if item.score is not None else item.thumbs == "up"
    if isinstance(item, DecisionRecord):
        return item.action
    if isinstance(item, Outcome):
        return item.value if item.value is not None else item.result
    if isinstance(item, Correction):
        return item.proposed_value
    return False  # hallucination / retrieval_failure: the answer failed


def rationale(item: Feedback) -> str | None:
    """The item's own words, shown as the assessment's rationale."""
    for attr in ("evidence", "claim", "comment", "note", "expected", "result"):
        value = getattr(item, attr, None)
        if value:
            return str(value)
    return None
